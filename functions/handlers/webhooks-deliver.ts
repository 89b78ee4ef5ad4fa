/**
 * The webhook delivery consumer: one message of the delivery queue is one attempt (use case deliver). A
 * failed attempt is not a failed message: its retry is a new, delayed message, so the message is deleted;
 * only an error of ours (the table, the secret store) is reported, and comes back. Logs carry ids, status
 * codes and latencies, never a secret, a signature or a body.
 */
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { WebhookDeliveryMessageSchema } from '../../schemas/webhooks.js';
import { awsWebhookDeliverDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { type DeliverDeps, type DeliverOutcome, deliver } from '../core/use-cases/webhooks/deliver.js';
import { logger, withLogContext } from './logger.js';
import { eachRecord } from './sqs-batch.js';

export async function handleDeliveryMessage(deps: DeliverDeps, body: string): Promise<DeliverOutcome | null> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  const message = WebhookDeliveryMessageSchema.safeParse(json);
  if (!message.success) {
    logger.error('dropping a message that is not a webhook delivery', { bytes: body.length });
    return null;
  }
  const outcome = await deliver(deps, message.data);
  const attempt = 'attempt' in outcome ? outcome.attempt : null;
  logger.info('webhook delivery', {
    outcome: outcome.outcome,
    deliveryId: message.data.delivery_id,
    endpointId: message.data.endpoint_id,
    ...(attempt
      ? {
          attempt: attempt.attempt,
          statusCode: attempt.statusCode,
          latencyMs: attempt.latencyMs,
          error: attempt.error,
        }
      : {}),
    ...(outcome.outcome === 'retrying' ? { nextAttemptAt: outcome.nextAttemptAt } : {}),
  });
  return outcome;
}

export function createWebhookDeliver(deps: () => DeliverDeps) {
  return middy<SQSEvent, SQSBatchResponse>(
    async (event: SQSEvent): Promise<SQSBatchResponse> =>
      eachRecord(
        event.Records,
        (record) => handleDeliveryMessage(deps(), record.body),
        'webhook delivery message will be retried',
      ),
  ).use(withLogContext());
}

export const createHandler = (deps: Pick<Dependencies, 'webhookDeliver'>) =>
  createWebhookDeliver(deps.webhookDeliver);

export const handler = createHandler({ webhookDeliver: awsWebhookDeliverDeps });
