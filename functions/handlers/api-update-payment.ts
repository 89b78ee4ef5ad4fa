/** PATCH /v1/payments/{id} — change the order and amount of an authorized payment before capture. */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { UpdatePaymentRequestSchema } from '../../schemas/api.js';
import { awsChangeAmountDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import type { ManualCaptureDeps } from '../core/flows/merchant-requests.js';
import type { CostService } from '../core/ports.js';
import { changeAmount } from '../core/use-cases/api/change-amount.js';
import { apiMiddlewares, json, merchantId, storedRefusal } from './http.js';
import { idempotencyKey, jsonBody, paymentIdFrom } from './http-request.js';

export function createUpdatePaymentHandler(deps: () => ManualCaptureDeps & { cost: CostService }) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const merchant = merchantId(event);
      const paymentId = paymentIdFrom(event);
      const key = idempotencyKey(event);
      const body = jsonBody(event, UpdatePaymentRequestSchema);
      const { response, replayed } = await changeAmount(deps(), {
        merchantId: merchant,
        paymentId,
        idempotencyKey: key,
        refusal: storedRefusal(event),
        amount: body.amount,
        currency: body.currency,
        order: {
          id: body.order.id,
          lines: body.order.lines.map((line) => ({
            sku: line.sku,
            quantity: line.quantity,
            unitAmount: line.unit_amount,
          })),
        },
      });
      return json(response.statusCode, response.body, replayed ? { 'Idempotent-Replayed': 'true' } : {});
    },
  ).use(apiMiddlewares());
}

export const createHandler = (deps: Pick<Dependencies, 'changeAmount'>) =>
  createUpdatePaymentHandler(deps.changeAmount);

export const handler = createHandler({ changeAmount: awsChangeAmountDeps });
