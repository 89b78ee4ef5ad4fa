/** POST /v1/payments — create a card payment under an Idempotency-Key and start its saga. */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { CreatePaymentRequestSchema, IdempotencyKeySchema } from '../../schemas/api.js';
import { awsApiDeps } from '../adapters/container.js';
import { ValidationError } from '../core/errors.js';
import { type CreatePaymentDeps, createPayment } from '../core/use-cases/create-payment.js';
import { header, json, jsonBody, merchantId, parseWith, problemErrors } from './http.js';
import { withLogContext } from './logger.js';

export function createCreatePaymentHandler(deps: () => CreatePaymentDeps) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const merchant = merchantId(event);
      const rawKey = header(event, 'idempotency-key');
      if (rawKey === undefined) {
        throw new ValidationError('The Idempotency-Key header is required.', [
          { field: 'Idempotency-Key', message: 'required' },
        ]);
      }
      const idempotencyKey = parseWith(
        IdempotencyKeySchema,
        rawKey,
        'The Idempotency-Key header is invalid.',
      );
      const request = jsonBody(event, CreatePaymentRequestSchema);
      const { response, replayed } = await createPayment(deps(), {
        merchantId: merchant,
        idempotencyKey,
        request,
      });
      return json(response.statusCode, response.body, {
        Location: `/v1/payments/${response.body.id}`,
        ...(replayed ? { 'Idempotent-Replayed': 'true' } : {}),
      });
    },
  )
    .use(withLogContext())
    .use(problemErrors());
}

export const handler = createCreatePaymentHandler(awsApiDeps);
