/** PATCH /v1/payments/{id} — change the order and amount of an authorized payment before capture. */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { UpdatePaymentRequestSchema } from '../../schemas/api.js';
import { awsChangeAmountDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import type { ManualCaptureDeps } from '../core/flows/merchant-requests.js';
import type { CostService } from '../core/ports.js';
import { changeAmount } from '../core/use-cases/api/change-amount.js';
import { paymentView } from '../core/views.js';
import { apiMiddlewares, json } from './http.js';
import { jsonBody } from './http-request.js';
import { keyedOnPayment } from './idempotency.js';

export function createUpdatePaymentHandler(deps: () => ManualCaptureDeps & { cost: CostService }) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const use = deps();
      return keyedOnPayment(
        use,
        event,
        {
          operation: 'PATCH /v1/payments/{id}',
          body: () => {
            const body = jsonBody(event, UpdatePaymentRequestSchema);
            return {
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
            };
          },
          fingerprinted: (paymentId, change) => ({ paymentId, ...change }),
        },
        async ({ merchantId, paymentId, key, body }) => {
          const payment = await changeAmount(use, { merchantId, paymentId, idempotencyKey: key, ...body });
          return json(200, paymentView(payment));
        },
      );
    },
  ).use(apiMiddlewares());
}

export const createHandler = (deps: Pick<Dependencies, 'changeAmount'>) =>
  createUpdatePaymentHandler(deps.changeAmount);

export const handler = createHandler({ changeAmount: awsChangeAmountDeps });
