/** POST /v1/customers/{customer_id}/points/grants — grant points to a customer under an Idempotency-Key. */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { GrantPointsRequestSchema } from '../../schemas/points.js';
import { awsGrantPointsDeps } from '../adapters/container.js';
import type { Dependencies, GrantPointsApiDeps } from '../adapters/dependencies.js';
import { pointsBalanceView, pointsMovementView } from '../core/points-views.js';
import { grantPoints, newGrantId } from '../core/use-cases/points/customer-points.js';
import { apiMiddlewares, json } from './http.js';
import { idempotencyKey, jsonBody } from './http-request.js';
import { keyed } from './idempotency.js';
import { customerRequest } from './points-api.js';

export const GRANT_POINTS_OPERATION = 'POST /v1/customers/{customer_id}/points/grants';

export function createGrantPointsHandler(deps: () => GrantPointsApiDeps) {
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
          // The grant's movement id: a retry after a failure writes no second grant (and announces it).
          resourceId: newGrantId(use.clock.now()),
        },
        async (movementId) => {
          const granted = await grantPoints(use, { merchantId, customerId, ...body, movementId });
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

export const createHandler = (deps: Pick<Dependencies, 'grantPoints'>) =>
  createGrantPointsHandler(deps.grantPoints);

export const handler = createHandler({ grantPoints: awsGrantPointsDeps });
