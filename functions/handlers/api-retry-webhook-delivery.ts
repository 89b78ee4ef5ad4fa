/**
 * POST /v1/webhook_endpoints/{id}/deliveries/{delivery_id}/retry — send one delivery again, under an
 * Idempotency-Key (one key, one resend): queued for the delivery consumer, answered 202.
 */
import { awsRetryWebhookDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { ownedEndpoint } from '../core/use-cases/webhooks/manage-endpoints.js';
import { type RetryDeliveryDeps, retryDelivery } from '../core/use-cases/webhooks/read-deliveries.js';
import { json } from './http.js';
import { idempotencyKey } from './http-request.js';
import { keyed } from './idempotency.js';
import { webhookRoute } from './webhook-api.js';

export const RETRY_WEBHOOK_DELIVERY_OPERATION =
  'POST /v1/webhook_endpoints/{id}/deliveries/{delivery_id}/retry';

export const createRetryWebhookDeliveryHandler = (deps: () => RetryDeliveryDeps) =>
  webhookRoute(async ({ merchantId, endpointId, deliveryId }, event) => {
    const use = deps();
    const key = idempotencyKey(event);
    await ownedEndpoint(use, merchantId, endpointId);
    return keyed(
      use,
      event,
      {
        merchantId,
        operation: RETRY_WEBHOOK_DELIVERY_OPERATION,
        key,
        request: { endpointId, deliveryId },
        resourceId: deliveryId,
      },
      async () => json(202, await retryDelivery(use, { merchantId, endpointId, deliveryId })),
    );
  });

export const createHandler = (deps: Pick<Dependencies, 'retryWebhook'>) =>
  createRetryWebhookDeliveryHandler(deps.retryWebhook);

export const handler = createHandler({ retryWebhook: awsRetryWebhookDeps });
