/**
 * What the webhook API handlers share: the merchant and the path's ids, and the answers that carry a
 * signing secret (stored under the Idempotency-Key without it: a replay answers `secret: null`).
 */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { apiMiddlewares, merchantId } from './http.js';

export interface WebhookRequest {
  merchantId: string;
  /** The path's `{id}` ('' on the collection routes). */
  endpointId: string;
  /** The path's `{delivery_id}`, where there is one. */
  deliveryId: string;
}

/** A webhook route: the merchant and path read, then `answer`; errors as problems. */
export function webhookRoute(
  answer: (request: WebhookRequest, event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>,
) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> =>
      answer(
        {
          merchantId: merchantId(event),
          endpointId: event.pathParameters?.id ?? '',
          deliveryId: event.pathParameters?.delivery_id ?? '',
        },
        event,
      ),
  ).use(apiMiddlewares());
}

/** The stored form of an answer that carries a secret: the same answer, `secret` null. */
export function withoutSecret(response: APIGatewayProxyResult): APIGatewayProxyResult {
  const body = JSON.parse(response.body) as Record<string, unknown>;
  return { ...response, body: JSON.stringify({ ...body, secret: null }) };
}
