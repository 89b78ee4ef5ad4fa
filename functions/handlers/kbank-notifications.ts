/**
 * The notification processor: consumes the queue the KBank callback endpoints fill. Each message is
 * processed on its own (in parallel); a failure is reported per item so only that message comes back (and, after the
 * queue's maxReceiveCount, goes to the dead-letter queue, which is alarmed). A message that can never be
 * valid is logged and dropped rather than retried.
 */
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { KbankCallbackSchema } from '../../schemas/callbacks.js';
import { awsCallbackProcessorDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import {
  type CallbackDelivery,
  type CallbackProcessorDeps,
  processCallback,
} from '../core/use-cases/callbacks/kbank-callbacks.js';
import { logger, withLogContext } from './logger.js';
import { eachRecord } from './sqs-batch.js';

/** One message; throws when it should come back later. */
export async function handleCallbackMessage(
  deps: CallbackProcessorDeps,
  body: string,
  delivery?: CallbackDelivery,
): Promise<void> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  const message = KbankCallbackSchema.safeParse(json);
  if (!message.success) {
    logger.error('dropping a malformed callback message', { body: body.slice(0, 500) });
    return;
  }
  const outcome = await processCallback(deps, message.data, delivery);
  const log = outcome === 'unknown_charge' ? logger.warn.bind(logger) : logger.info.bind(logger);
  log('kbank callback processed', { outcome, source: message.data.source, chargeId: message.data.chargeId });
}

export function createCallbackProcessor(deps: () => CallbackProcessorDeps) {
  return middy<SQSEvent, SQSBatchResponse>(async (event: SQSEvent): Promise<SQSBatchResponse> => {
    // In parallel: one slow KBank inquiry must not hold up (or time out) the rest of the batch.
    return eachRecord(
      event.Records,
      (record) =>
        handleCallbackMessage(deps(), record.body, {
          receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
        }),
      'kbank callback will be retried',
    );
  }).use(withLogContext());
}

export const createHandler = (deps: Pick<Dependencies, 'callbackProcessor'>) =>
  createCallbackProcessor(deps.callbackProcessor);

export const handler = createHandler({ callbackProcessor: awsCallbackProcessorDeps });
