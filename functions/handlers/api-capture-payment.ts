/** POST /v1/payments/{id}/capture — capture an authorized manual-capture payment (all or part). */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { CaptureRequestSchema } from '../../schemas/api.js';
import { awsManualCaptureDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import type { ManualCaptureDeps } from '../core/flows/merchant-requests.js';
import { requestCapture } from '../core/use-cases/api/request-capture.js';
import { apiMiddlewares, json, merchantId, storedRefusal } from './http.js';
import { idempotencyKey, jsonBody, paymentIdFrom } from './http-request.js';

export function createCapturePaymentHandler(deps: () => ManualCaptureDeps) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const merchant = merchantId(event);
      const paymentId = paymentIdFrom(event);
      const key = idempotencyKey(event);
      const body = event.body ? jsonBody(event, CaptureRequestSchema) : {};
      const { response, replayed } = await requestCapture(deps(), {
        merchantId: merchant,
        paymentId,
        idempotencyKey: key,
        refusal: storedRefusal(event),
        ...(body.amount === undefined ? {} : { amount: body.amount }),
      });
      return json(response.statusCode, response.body, replayed ? { 'Idempotent-Replayed': 'true' } : {});
    },
  ).use(apiMiddlewares());
}

export const createHandler = (deps: Pick<Dependencies, 'manualCapture'>) =>
  createCapturePaymentHandler(deps.manualCapture);

export const handler = createHandler({ manualCapture: awsManualCaptureDeps });
