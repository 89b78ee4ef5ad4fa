/** GET /v1/webhook_endpoints/{id}/deliveries — the endpoint's deliveries with every attempt, newest first, cursor-paged. */
import { ListWebhookDeliveriesQuerySchema } from '../../schemas/webhooks.js';
import { awsReadWebhookDeliveriesDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { listDeliveries, type ReadDeliveriesDeps } from '../core/use-cases/webhooks/read-deliveries.js';
import { json } from './http.js';
import { parseWith } from './http-request.js';
import { webhookRoute } from './webhook-api.js';

export const createListWebhookDeliveriesHandler = (deps: () => ReadDeliveriesDeps) =>
  webhookRoute(async ({ merchantId, endpointId }, event) => {
    const query = parseWith(
      ListWebhookDeliveriesQuerySchema,
      event.queryStringParameters ?? {},
      'The query string is invalid.',
    );
    return json(200, await listDeliveries(deps(), { merchantId, endpointId, ...query }));
  });

export const createHandler = (deps: Pick<Dependencies, 'readWebhookDeliveries'>) =>
  createListWebhookDeliveriesHandler(deps.readWebhookDeliveries);

export const handler = createHandler({ readWebhookDeliveries: awsReadWebhookDeliveriesDeps });
