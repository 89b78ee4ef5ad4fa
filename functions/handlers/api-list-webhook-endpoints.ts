/** GET /v1/webhook_endpoints — the merchant's endpoints (never their secrets). */
import { awsReadWebhookDeliveriesDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { listEndpoints, type ManageEndpointsDeps } from '../core/use-cases/webhooks/manage-endpoints.js';
import { json } from './http.js';
import { webhookRoute } from './webhook-api.js';

export const createListWebhookEndpointsHandler = (deps: () => Pick<ManageEndpointsDeps, 'webhooks'>) =>
  webhookRoute(async ({ merchantId }) => json(200, await listEndpoints(deps(), merchantId)));

export const createHandler = (deps: Pick<Dependencies, 'readWebhookDeliveries'>) =>
  createListWebhookEndpointsHandler(deps.readWebhookDeliveries);

export const handler = createHandler({ readWebhookDeliveries: awsReadWebhookDeliveriesDeps });
