/** POST /v1/payments — create a card payment under an Idempotency-Key and start its saga. */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { CreatePaymentRequestSchema } from '../../schemas/api.js';
import { awsApiDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { type CreatePaymentDeps, createPayment } from '../core/use-cases/api/create-payment.js';
import { apiMiddlewares, json, merchantId, storedRefusal } from './http.js';
import { idempotencyKey, jsonBody } from './http-request.js';

export function createCreatePaymentHandler(deps: () => CreatePaymentDeps) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const merchant = merchantId(event);
      const key = idempotencyKey(event);
      const request = jsonBody(event, CreatePaymentRequestSchema);
      const { response, replayed } = await createPayment(deps(), {
        merchantId: merchant,
        idempotencyKey: key,
        request,
        refusal: storedRefusal(event),
      });
      return json(response.statusCode, response.body, {
        Location: `/v1/payments/${response.body.id}`,
        ...(replayed ? { 'Idempotent-Replayed': 'true' } : {}),
      });
    },
  ).use(apiMiddlewares());
}

export const createHandler = (deps: Pick<Dependencies, 'createPayment'>) =>
  createCreatePaymentHandler(deps.createPayment);

export const handler = createHandler({ createPayment: awsApiDeps });
