/** GET /v1/customers/{customer_id}/points/transactions — the customer's ledger, cursor-paged. */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ListPointsMovementsQuerySchema } from '../../schemas/points.js';
import { awsPointsApiDeps } from '../adapters/container.js';
import type { Dependencies, PointsApiDeps } from '../adapters/dependencies.js';
import { pointsMovementListView } from '../core/points-views.js';
import { customerPointsMovements } from '../core/use-cases/points/customer-points.js';
import { apiMiddlewares, json } from './http.js';
import { parseWith } from './http-request.js';
import { customerRequest } from './points-api.js';

export function createListPointsMovementsHandler(deps: () => PointsApiDeps) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const customer = customerRequest(event);
      const query = parseWith(
        ListPointsMovementsQuerySchema,
        event.queryStringParameters ?? {},
        'The query string is invalid.',
      );
      const page = await customerPointsMovements(deps(), {
        ...customer,
        limit: query.limit,
        order: query.order,
        ...(query.cursor === undefined ? {} : { after: query.cursor }),
      });
      return json(200, pointsMovementListView(page));
    },
  ).use(apiMiddlewares());
}

export const createHandler = (deps: Pick<Dependencies, 'pointsApi'>) =>
  createListPointsMovementsHandler(deps.pointsApi);

export const handler = createHandler({ pointsApi: awsPointsApiDeps });
