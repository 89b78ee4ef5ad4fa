/** The cursor-paginated lists under one payment (its audit trail, its refunds): one query string, one answer. */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ListQuerySchema } from '../../schemas/api.js';
import type { Page } from '../core/repository.js';
import { listView } from '../core/views.js';
import { apiMiddlewares, json, merchantId } from './http.js';
import { parseWith, paymentIdFrom } from './http-request.js';

/** What a list use case is asked: whose payment, how many, and after which cursor it last returned. */
export interface PaymentListQuery {
  merchantId: string;
  paymentId: string;
  limit: number;
  cursor?: string;
}

/**
 * GET /v1/payments/{id}/<list>: `limit` and `cursor` from the query string (nothing else), the use case's
 * page of domain records as the 200 answer, each shown by `view`. The use case owns the cursor format.
 */
export function paymentListHandler<R, T>(
  repo: () => R,
  list: (deps: { repo: R }, query: PaymentListQuery) => Promise<Page<T>>,
  view: (item: T) => unknown,
) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const query = parseWith(
        ListQuerySchema,
        event.queryStringParameters ?? {},
        'The query string is invalid.',
      );
      const page = await list(
        { repo: repo() },
        {
          merchantId: merchantId(event),
          paymentId: paymentIdFrom(event),
          limit: query.limit,
          ...(query.cursor ? { cursor: query.cursor } : {}),
        },
      );
      return json(200, listView(page, view));
    },
  ).use(apiMiddlewares());
}
