/** GET /v1/customers/{customer_id}/points — a customer's points: available, held, and what one is worth. */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { awsPointsApiDeps } from '../adapters/container.js';
import type { Dependencies, PointsApiDeps } from '../adapters/dependencies.js';
import { pointsBalanceView } from '../core/points-views.js';
import { customerPoints } from '../core/use-cases/points/customer-points.js';
import { apiMiddlewares, json } from './http.js';
import { customerRequest } from './points-api.js';

export function createGetCustomerPointsHandler(deps: () => PointsApiDeps) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const { balance, program } = await customerPoints(deps(), customerRequest(event));
      return json(200, pointsBalanceView(balance, program));
    },
  ).use(apiMiddlewares());
}

export const createHandler = (deps: Pick<Dependencies, 'pointsApi'>) =>
  createGetCustomerPointsHandler(deps.pointsApi);

export const handler = createHandler({ pointsApi: awsPointsApiDeps });
