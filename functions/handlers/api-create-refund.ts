/** POST /v1/payments/{id}/refunds — refund (part of) a captured payment under an Idempotency-Key. */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { CreateRefundRequestSchema } from '../../schemas/api.js';
import { awsRefundApiDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { type CreateRefundDeps, createRefund } from '../core/use-cases/api/create-refund.js';
import { apiMiddlewares, json, merchantId, storedRefusal } from './http.js';
import { idempotencyKey, jsonBody, paymentIdFrom } from './http-request.js';

export function createCreateRefundHandler(deps: () => CreateRefundDeps) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const merchant = merchantId(event);
      const paymentId = paymentIdFrom(event);
      const key = idempotencyKey(event);
      // No body at all asks for a full refund, like `{}`.
      const request = event.body ? jsonBody(event, CreateRefundRequestSchema) : {};
      const { response, replayed } = await createRefund(deps(), {
        merchantId: merchant,
        paymentId,
        idempotencyKey: key,
        request,
        refusal: storedRefusal(event),
      });
      return json(response.statusCode, response.body, replayed ? { 'Idempotent-Replayed': 'true' } : {});
    },
  ).use(apiMiddlewares());
}

export const createHandler = (deps: Pick<Dependencies, 'createRefund'>) =>
  createCreateRefundHandler(deps.createRefund);

export const handler = createHandler({ createRefund: awsRefundApiDeps });
