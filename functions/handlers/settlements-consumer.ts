/**
 * The settlements consumer: the money events of the bus (an EventBridge rule → SQS → here), each booked on
 * its merchant's settlement (use case record-movement). A failure is reported per message, so only that one
 * comes back (and after the queue's maxReceiveCount goes to its alarmed dead-letter queue); a message that
 * can never be a money event is logged and dropped.
 */
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { PaymentEventDetailSchema, RefundEventDetailSchema } from '../../schemas/events.js';
import { awsSettlementsConsumerDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import {
  type MoneyEvent,
  type RecordMovementDeps,
  type RecordOutcome,
  recordMovement,
} from '../core/use-cases/settlements/record-movement.js';
import { logger, withLogContext } from './logger.js';
import { eachRecord } from './sqs-batch.js';

/** What an EventBridge rule's SQS target delivers: the whole event, its detail inside. */
const MoneyEventEnvelopeSchema = z.discriminatedUnion('detail-type', [
  z.object({ 'detail-type': z.literal('payment.captured'), detail: PaymentEventDetailSchema }),
  z.object({ 'detail-type': z.literal('refund.succeeded'), detail: RefundEventDetailSchema }),
]);

/** One message; throws when it should come back later. */
export async function handleMoneyEvent(
  deps: RecordMovementDeps,
  body: string,
): Promise<RecordOutcome | null> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  const envelope = MoneyEventEnvelopeSchema.safeParse(json);
  if (!envelope.success) {
    logger.error('dropping a message that is not a money event', { body: body.slice(0, 500) });
    return null;
  }
  const event = { type: envelope.data['detail-type'], detail: envelope.data.detail } as MoneyEvent;
  const outcome = await recordMovement(deps, event);
  logger.info('settlement movement', {
    outcome: outcome.outcome,
    eventId: event.detail.event_id,
    ...(outcome.outcome === 'booked'
      ? { settlementId: outcome.line.settlementId, rolledFrom: outcome.line.rolledFrom }
      : {}),
  });
  return outcome;
}

export function createSettlementsConsumer(deps: () => RecordMovementDeps) {
  return middy<SQSEvent, SQSBatchResponse>(
    async (event: SQSEvent): Promise<SQSBatchResponse> =>
      eachRecord(
        event.Records,
        (record) => handleMoneyEvent(deps(), record.body),
        'settlement movement will be retried',
      ),
  ).use(withLogContext());
}

export const createHandler = (deps: Pick<Dependencies, 'settlementsConsumer'>) =>
  createSettlementsConsumer(deps.settlementsConsumer);

export const handler = createHandler({ settlementsConsumer: awsSettlementsConsumerDeps });
