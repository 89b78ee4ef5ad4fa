/**
 * The webhook consumer of the bus: payment, refund and points events (an EventBridge rule → SQS → here), each made
 * into one delivery per subscribed endpoint of its merchant (use case fan-out) and queued for delivery.
 * Failures are reported per message; a message that can never be such an event is logged and dropped.
 */
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import {
  PaymentEventDetailSchema,
  PointsEventDetailSchema,
  RefundEventDetailSchema,
} from '../../schemas/events.js';
import { awsWebhookFanOutDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { type FanOutDeps, type FanOutReport, fanOut } from '../core/use-cases/webhooks/fan-out.js';
import type { BusEvent } from '../core/webhooks/endpoints.js';
import { logger, withLogContext } from './logger.js';
import { eachRecord } from './sqs-batch.js';

/** What an EventBridge rule's SQS target delivers: the whole event, its detail inside. */
const EnvelopeSchema = z.object({ 'detail-type': z.string(), detail: z.record(z.string(), z.unknown()) });

function busEventOf(json: unknown): BusEvent | null {
  const envelope = EnvelopeSchema.safeParse(json);
  if (!envelope.success) return null;
  const busType = envelope.data['detail-type'];
  if (busType.startsWith('refund.')) {
    const detail = RefundEventDetailSchema.safeParse(envelope.data.detail);
    return detail.success ? { kind: 'refund', busType, detail: detail.data } : null;
  }
  if (busType.startsWith('payment.')) {
    const detail = PaymentEventDetailSchema.safeParse(envelope.data.detail);
    return detail.success ? { kind: 'payment', busType, detail: detail.data } : null;
  }
  if (busType.startsWith('points.')) {
    const detail = PointsEventDetailSchema.safeParse(envelope.data.detail);
    return detail.success ? { kind: 'points', busType, detail: detail.data } : null;
  }
  return null;
}

/** One message; throws when it should come back later. */
export async function handleBusEvent(deps: FanOutDeps, body: string): Promise<FanOutReport | null> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  const event = busEventOf(json);
  if (!event) {
    logger.error('dropping a message that is not a payment, refund or points event', { bytes: body.length });
    return null;
  }
  const report = await fanOut(deps, event);
  logger.info('webhook fan-out', {
    eventId: report.eventId,
    type: report.type,
    deliveries: report.created.length,
    duplicates: report.duplicates,
  });
  return report;
}

export function createWebhookFanOut(deps: () => FanOutDeps) {
  return middy<SQSEvent, SQSBatchResponse>(
    async (event: SQSEvent): Promise<SQSBatchResponse> =>
      eachRecord(
        event.Records,
        (record) => handleBusEvent(deps(), record.body),
        'webhook fan-out will be retried',
      ),
  ).use(withLogContext());
}

export const createHandler = (deps: Pick<Dependencies, 'webhookFanOut'>) =>
  createWebhookFanOut(deps.webhookFanOut);

export const handler = createHandler({ webhookFanOut: awsWebhookFanOutDeps });
