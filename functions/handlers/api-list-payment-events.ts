/** GET /v1/payments/{id}/events — the payment's audit trail, oldest first, cursor-paginated. */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ListQuerySchema } from '../../schemas/api.js';
import { awsRepository } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import type { PaymentRepository } from '../core/repository.js';
import { listPaymentEvents } from '../core/use-cases/read-payments.js';
import { paymentIdFrom } from './api-get-payment.js';
import { apiMiddlewares, json, merchantId, parseWith } from './http.js';

export function createListPaymentEventsHandler(repo: () => PaymentRepository) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const query = parseWith(
        ListQuerySchema,
        event.queryStringParameters ?? {},
        'The query string is invalid.',
      );
      const page = await listPaymentEvents(
        { repo: repo() },
        {
          merchantId: merchantId(event),
          paymentId: paymentIdFrom(event),
          limit: query.limit,
          ...(query.cursor ? { cursor: query.cursor } : {}),
        },
      );
      return json(200, page);
    },
  ).use(apiMiddlewares());
}

export const createHandler = (deps: Pick<Dependencies, 'table'>) =>
  createListPaymentEventsHandler(deps.table);

export const handler = createHandler({ table: awsRepository });
