/** GET /v1/webhook_endpoints/{id} — one endpoint of the merchant (another merchant's is 404). */
import { awsReadWebhookDeliveriesDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { getEndpoint, type ManageEndpointsDeps } from '../core/use-cases/webhooks/manage-endpoints.js';
import { json } from './http.js';
import { webhookRoute } from './webhook-api.js';

export const createGetWebhookEndpointHandler = (deps: () => Pick<ManageEndpointsDeps, 'webhooks'>) =>
  webhookRoute(async ({ merchantId, endpointId }) =>
    json(200, await getEndpoint(deps(), merchantId, endpointId)),
  );

export const createHandler = (deps: Pick<Dependencies, 'readWebhookDeliveries'>) =>
  createGetWebhookEndpointHandler(deps.readWebhookDeliveries);

export const handler = createHandler({ readWebhookDeliveries: awsReadWebhookDeliveriesDeps });
