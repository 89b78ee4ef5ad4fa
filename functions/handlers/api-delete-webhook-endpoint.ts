/** DELETE /v1/webhook_endpoints/{id} — the endpoint and its signing secret; its queued deliveries stop. */
import { awsManageWebhooksDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { deleteEndpoint, type ManageEndpointsDeps } from '../core/use-cases/webhooks/manage-endpoints.js';
import { json } from './http.js';
import { webhookRoute } from './webhook-api.js';

export const createDeleteWebhookEndpointHandler = (deps: () => ManageEndpointsDeps) =>
  webhookRoute(async ({ merchantId, endpointId }) =>
    json(200, await deleteEndpoint(deps(), merchantId, endpointId)),
  );

export const createHandler = (deps: Pick<Dependencies, 'manageWebhooks'>) =>
  createDeleteWebhookEndpointHandler(deps.manageWebhooks);

export const handler = createHandler({ manageWebhooks: awsManageWebhooksDeps });
