/** POST /v1/payments/{id}/capture — capture an authorized manual-capture payment (all or part). */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { CaptureRequestSchema } from '../../schemas/api.js';
import { awsManualCaptureDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import type { ManualCaptureDeps } from '../core/flows/merchant-requests.js';
import { requestCapture } from '../core/use-cases/api/request-capture.js';
import { paymentView } from '../core/views.js';
import { apiMiddlewares, json } from './http.js';
import { jsonBody } from './http-request.js';
import { keyedOnPayment } from './idempotency.js';

export function createCapturePaymentHandler(deps: () => ManualCaptureDeps) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const use = deps();
      return keyedOnPayment(
        use,
        event,
        {
          operation: 'POST /v1/payments/{id}/capture',
          body: () => (event.body ? jsonBody(event, CaptureRequestSchema) : {}),
          fingerprinted: (paymentId, body) => ({ paymentId, amount: body.amount }),
        },
        async ({ merchantId, paymentId, key, body }) => {
          const payment = await requestCapture(use, {
            merchantId,
            paymentId,
            idempotencyKey: key,
            ...(body.amount === undefined ? {} : { amount: body.amount }),
          });
          return json(202, paymentView(payment));
        },
      );
    },
  ).use(apiMiddlewares());
}

export const createHandler = (deps: Pick<Dependencies, 'manualCapture'>) =>
  createCapturePaymentHandler(deps.manualCapture);

export const handler = createHandler({ manualCapture: awsManualCaptureDeps });
