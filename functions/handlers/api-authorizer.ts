/**
 * API Gateway TOKEN authorizer: the bearer API key → the merchant it belongs to, passed to the
 * handlers as `requestContext.authorizer.merchantId`, with its plan and the usage key API Gateway limits
 * it by. Refusals are API Gateway's plain 401.
 */
import middy from '@middy/core';
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { awsRepository } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { UnauthorizedError } from '../core/errors.js';
import { DEFAULT_PLAN, usageKeyOf } from '../core/plans.js';
import { type Clock, type MerchantDirectory, systemClock } from '../core/ports.js';
import { authenticate } from '../core/use-cases/api/authenticate.js';
import { logger, withLogContext } from './logger.js';

/** The policy covers every method of the API's stage, so a cached decision serves all routes. */
function stageWildcard(methodArn: string): string {
  const [arn, apiId, stage] = methodArn.split('/');
  return `${arn}/${apiId}/${stage}/*/*`;
}

export function createAuthorizerHandler(merchants: () => MerchantDirectory, clock: Clock = systemClock) {
  return middy<APIGatewayTokenAuthorizerEvent, APIGatewayAuthorizerResult>(
    async (event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
      try {
        const { merchant, scopes } = await authenticate(
          { merchants: merchants(), clock },
          event.authorizationToken,
        );
        return {
          principalId: merchant.id,
          policyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageWildcard(event.methodArn) },
            ],
          },
          context: {
            merchantId: merchant.id,
            merchantName: merchant.name,
            plan: merchant.plan ?? DEFAULT_PLAN,
            // Context values are strings: a restricted key's scopes, space-separated; `*` for a full key.
            scopes: scopes ? scopes.join(' ') : '*',
          },
          // API Gateway's usage plans count and limit the merchant by this (API key source AUTHORIZER).
          usageIdentifierKey: usageKeyOf(merchant.id),
        };
      } catch (error) {
        if (error instanceof UnauthorizedError) {
          logger.info('authorization refused', { reason: error.message });
          // API Gateway's contract: exactly this message means 401.
          throw new Error('Unauthorized');
        }
        // Any other failure is API Gateway's 500 to the client: the only trace of it is this line.
        logger.error('authorizer failed', { error: error as Error });
        throw error;
      }
    },
  ).use(withLogContext());
}

export const createHandler = (deps: Pick<Dependencies, 'table'>) => createAuthorizerHandler(deps.table);

export const handler = createHandler({ table: awsRepository });
