/** GET /v1/payments — search the merchant's payments by status and created-at range, newest first. */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ListPaymentsQuerySchema } from '../../schemas/api.js';
import { awsRepository } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import type { PaymentSearch } from '../core/repository.js';
import { searchPayments } from '../core/use-cases/api/search-payments.js';
import { listView, paymentView } from '../core/views.js';
import { apiMiddlewares, json, merchantId } from './http.js';
import { parseWith } from './http-request.js';

export function createListPaymentsHandler(repo: () => PaymentSearch) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const query = parseWith(
        ListPaymentsQuerySchema,
        event.queryStringParameters ?? {},
        'The query string is invalid.',
      );
      const page = await searchPayments(
        { search: repo() },
        {
          merchantId: merchantId(event),
          limit: query.limit,
          ...(query.status ? { statuses: query.status } : {}),
          ...(query.created_gte ? { createdGte: query.created_gte } : {}),
          ...(query.created_lt ? { createdLt: query.created_lt } : {}),
          ...(query.cursor ? { cursor: query.cursor } : {}),
        },
      );
      return json(200, listView(page, paymentView));
    },
  ).use(apiMiddlewares());
}

export const createHandler = (deps: Pick<Dependencies, 'table'>) => createListPaymentsHandler(deps.table);

export const handler = createHandler({ table: awsRepository });
