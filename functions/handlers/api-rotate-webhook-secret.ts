/**
 * POST /v1/webhook_endpoints/{id}/rotate_secret — a new signing secret, answered once, under an
 * Idempotency-Key; the previous secret keeps signing for 24 hours.
 */
import { awsManageWebhooksDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import {
  type ManageEndpointsDeps,
  ownedEndpoint,
  rotateSecret,
} from '../core/use-cases/webhooks/manage-endpoints.js';
import { json } from './http.js';
import { idempotencyKey } from './http-request.js';
import { keyed } from './idempotency.js';
import { webhookRoute, withoutSecret } from './webhook-api.js';

export const ROTATE_WEBHOOK_SECRET_OPERATION = 'POST /v1/webhook_endpoints/{id}/rotate_secret';

export const createRotateWebhookSecretHandler = (deps: () => ManageEndpointsDeps) =>
  webhookRoute(async ({ merchantId, endpointId }, event) => {
    const use = deps();
    const key = idempotencyKey(event);
    // Another merchant's or an unknown endpoint: 404 before anything is written under the key.
    await ownedEndpoint(use, merchantId, endpointId);
    return keyed(
      use,
      event,
      {
        merchantId,
        operation: ROTATE_WEBHOOK_SECRET_OPERATION,
        key,
        request: { endpointId },
        resourceId: endpointId,
        storedAs: withoutSecret,
      },
      async () => json(200, await rotateSecret(use, merchantId, endpointId), { 'Cache-Control': 'no-store' }),
    );
  });

export const createHandler = (deps: Pick<Dependencies, 'manageWebhooks'>) =>
  createRotateWebhookSecretHandler(deps.manageWebhooks);

export const handler = createHandler({ manageWebhooks: awsManageWebhooksDeps });
