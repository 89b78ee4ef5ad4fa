/** POST /v1/webhook_endpoints — register an endpoint under an Idempotency-Key; its signing secret is answered once. */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { CreateWebhookEndpointRequestSchema } from '../../schemas/webhooks.js';
import { awsManageWebhooksDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { createEndpoint, type ManageEndpointsDeps } from '../core/use-cases/webhooks/manage-endpoints.js';
import { endpointUrl } from '../core/webhooks/endpoint-url.js';
import { json } from './http.js';
import { idempotencyKey, jsonBody } from './http-request.js';
import { keyed } from './idempotency.js';
import { webhookRoute, withoutSecret } from './webhook-api.js';

export const CREATE_WEBHOOK_ENDPOINT_OPERATION = 'POST /v1/webhook_endpoints';

export const createCreateWebhookEndpointHandler = (deps: () => ManageEndpointsDeps) =>
  webhookRoute(async ({ merchantId }, event): Promise<APIGatewayProxyResult> => {
    const use = deps();
    const key = idempotencyKey(event);
    const body = jsonBody(event, CreateWebhookEndpointRequestSchema);
    // A URL that may not be registered is refused before anything is written, under the key included.
    endpointUrl(body.url, use.endpointPolicy);
    return keyed(
      use,
      event,
      {
        merchantId,
        operation: CREATE_WEBHOOK_ENDPOINT_OPERATION,
        key,
        request: body,
        resourceId: use.ids('we'),
        storedAs: withoutSecret,
      },
      async (endpointId) => {
        const created = await createEndpoint(use, { merchantId, endpointId, body });
        return json(201, created, { Location: created.links.self, 'Cache-Control': 'no-store' });
      },
    );
  });

export const createHandler = (deps: Pick<Dependencies, 'manageWebhooks'>) =>
  createCreateWebhookEndpointHandler(deps.manageWebhooks);

export const handler = createHandler({ manageWebhooks: awsManageWebhooksDeps });
