/** POST /v1/payments/{id}/cancel — cancel a payment awaiting capture (voided) or the customer (canceled at KBank). */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { awsManualCaptureDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import type { ManualCaptureDeps } from '../core/flows/merchant-requests.js';
import { cancelPayment } from '../core/use-cases/api/cancel-payment.js';
import { paymentView } from '../core/views.js';
import { apiMiddlewares, json } from './http.js';
import { keyedOnPayment } from './idempotency.js';

export function createCancelPaymentHandler(deps: () => ManualCaptureDeps) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const use = deps();
      return keyedOnPayment(
        use,
        event,
        {
          operation: 'POST /v1/payments/{id}/cancel',
          body: () => undefined,
          fingerprinted: (paymentId) => ({ paymentId }),
        },
        async ({ merchantId, paymentId, key }) =>
          json(202, paymentView(await cancelPayment(use, { merchantId, paymentId, idempotencyKey: key }))),
      );
    },
  ).use(apiMiddlewares());
}

export const createHandler = (deps: Pick<Dependencies, 'manualCapture'>) =>
  createCancelPaymentHandler(deps.manualCapture);

export const handler = createHandler({ manualCapture: awsManualCaptureDeps });
