/** GET /v1/health — liveness of the API itself (no dependencies are called). */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { apiMiddlewares, json } from './http.js';

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>(async () =>
  json(200, { status: 'ok', time: new Date().toISOString() }),
).use(apiMiddlewares());

/** No dependencies: the same handler on every edge. */
export const createHandler = () => handler;
