/** POST /v1/payments/{id}/refunds — refund (part of) a captured payment under an Idempotency-Key. */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { CreateRefundRequestSchema } from '../../schemas/api.js';
import { awsRefundApiDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { type CreateRefundDeps, createRefund } from '../core/use-cases/api/create-refund.js';
import { refundView } from '../core/views.js';
import { apiMiddlewares, json } from './http.js';
import { jsonBody } from './http-request.js';
import { keyedOnPayment } from './idempotency.js';

export const CREATE_REFUND_OPERATION = 'POST /v1/payments/{id}/refunds';

export function createCreateRefundHandler(deps: () => CreateRefundDeps) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const use = deps();
      return keyedOnPayment(
        use,
        event,
        {
          operation: CREATE_REFUND_OPERATION,
          // No body at all asks for a full refund, like `{}`.
          body: () => (event.body ? jsonBody(event, CreateRefundRequestSchema) : {}),
          fingerprinted: (paymentId, body) => ({ paymentId, body }),
          newResourceId: () => use.ids('re'),
        },
        async ({ merchantId, paymentId, resourceId, body }) => {
          const refund = await createRefund(use, {
            merchantId,
            paymentId,
            refundId: resourceId,
            ...(body.amount === undefined ? {} : { amount: body.amount }),
            ...(body.reason === undefined ? {} : { reason: body.reason }),
          });
          return json(202, refundView(refund));
        },
      );
    },
  ).use(apiMiddlewares());
}

export const createHandler = (deps: Pick<Dependencies, 'createRefund'>) =>
  createCreateRefundHandler(deps.createRefund);

export const handler = createHandler({ createRefund: awsRefundApiDeps });
