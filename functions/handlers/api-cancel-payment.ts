/** POST /v1/payments/{id}/cancel — cancel a payment awaiting capture (voided) or the customer (canceled at KBank). */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { awsManualCaptureDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import type { ManualCaptureDeps } from '../core/flows/merchant-requests.js';
import { cancelPayment } from '../core/use-cases/api/cancel-payment.js';
import { apiMiddlewares, json, merchantId, storedRefusal } from './http.js';
import { idempotencyKey, paymentIdFrom } from './http-request.js';

export function createCancelPaymentHandler(deps: () => ManualCaptureDeps) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const { response, replayed } = await cancelPayment(deps(), {
        merchantId: merchantId(event),
        paymentId: paymentIdFrom(event),
        idempotencyKey: idempotencyKey(event),
        refusal: storedRefusal(event),
      });
      return json(response.statusCode, response.body, replayed ? { 'Idempotent-Replayed': 'true' } : {});
    },
  ).use(apiMiddlewares());
}

export const createHandler = (deps: Pick<Dependencies, 'manualCapture'>) =>
  createCancelPaymentHandler(deps.manualCapture);

export const handler = createHandler({ manualCapture: awsManualCaptureDeps });
