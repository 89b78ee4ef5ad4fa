/** POST /v1/customers/{customer_id}/points/grants — grant points to a customer under an Idempotency-Key. */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { GrantPointsRequestSchema } from '../../schemas/points.js';
import { awsPointsApiDeps } from '../adapters/container.js';
import type { Dependencies, PointsApiDeps } from '../adapters/dependencies.js';
import { pointsBalanceView, pointsMovementView } from '../core/points-views.js';
import { grantPoints } from '../core/use-cases/points/customer-points.js';
import { apiMiddlewares, json } from './http.js';
import { idempotencyKey, jsonBody } from './http-request.js';
import { keyed } from './idempotency.js';
import { customerRequest } from './points-api.js';

export const GRANT_POINTS_OPERATION = 'POST /v1/customers/{customer_id}/points/grants';

export function createGrantPointsHandler(deps: () => PointsApiDeps) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const { merchantId, customerId } = customerRequest(event);
      const key = idempotencyKey(event);
      const body = jsonBody(event, GrantPointsRequestSchema);
      const use = deps();
      return keyed(
        use,
        event,
        {
          merchantId,
          operation: GRANT_POINTS_OPERATION,
          key,
          request: { customerId, body },
          resourceId: customerId,
        },
        async () => {
          const granted = await grantPoints(use, { merchantId, customerId, ...body });
          return json(201, {
            object: 'points_grant',
            movement: pointsMovementView(granted.movement),
            balance: pointsBalanceView(granted.balance, granted.program),
          });
        },
      );
    },
  ).use(apiMiddlewares());
}

export const createHandler = (deps: Pick<Dependencies, 'pointsApi'>) =>
  createGrantPointsHandler(deps.pointsApi);

export const handler = createHandler({ pointsApi: awsPointsApiDeps });
