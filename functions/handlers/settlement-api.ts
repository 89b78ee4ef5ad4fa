/** What the settlements API handlers share: the merchant, the `{id}` of the path and the query string, parsed. */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type * as z from 'zod';
import { NotFoundError } from '../core/errors.js';
import { parseSettlementId } from '../core/settlements.js';
import type { ReadSettlementsDeps } from '../core/use-cases/settlements/read-settlements.js';
import { apiMiddlewares, merchantId } from './http.js';
import { parseWith } from './http-request.js';

export interface SettlementRequest<Q> {
  merchantId: string;
  /** The path's `{id}` (absent on GET /v1/settlements). */
  settlementId: string;
  query: Q;
}

/** A settlements route: parse, call `answer` with the read bundle, return its response. */
export function settlementRoute<S extends z.core.$ZodType>(
  deps: () => ReadSettlementsDeps,
  querySchema: S,
  answer: (
    deps: ReadSettlementsDeps,
    request: SettlementRequest<z.infer<S>>,
  ) => Promise<APIGatewayProxyResult>,
) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const merchant = merchantId(event);
      const id = event.pathParameters?.id;
      // A malformed id names no one's settlement: answered like any unknown id, without echoing it.
      if (id !== undefined && !parseSettlementId(id)) throw new NotFoundError('No such settlement.');
      const query = parseWith(querySchema, event.queryStringParameters ?? {}, 'The query string is invalid.');
      return answer(deps(), { merchantId: merchant, settlementId: id ?? '', query });
    },
  ).use(apiMiddlewares());
}
