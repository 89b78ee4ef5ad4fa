/** GET /v1/payments/{id}/refunds — the payment's refunds, oldest first, cursor-paginated. */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ListQuerySchema } from '../../schemas/api.js';
import { awsRepository } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import type { PaymentRepository, RefundRepository } from '../core/repository.js';
import { listRefunds } from '../core/use-cases/read-refunds.js';
import { paymentIdFrom } from './api-get-payment.js';
import { apiMiddlewares, json, merchantId, parseWith } from './http.js';

export function createListRefundsHandler(repo: () => PaymentRepository & RefundRepository) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const query = parseWith(
        ListQuerySchema,
        event.queryStringParameters ?? {},
        'The query string is invalid.',
      );
      const page = await listRefunds(
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

export const createHandler = (deps: Pick<Dependencies, 'table'>) => createListRefundsHandler(deps.table);

export const handler = createHandler({ table: awsRepository });
