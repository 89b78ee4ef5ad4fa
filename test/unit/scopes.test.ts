/** Restricted keys' scopes: the scope each merchant route needs, and the refusal of a key without it. */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { functionsOf } from '../../functions/catalog.js';
import { SCOPES, scopeOf } from '../../functions/core/api-keys.js';
import { merchantId } from '../../functions/handlers/http.js';

it.each([
  ['GET', '/v1/payments', 'payments:read'],
  ['POST', '/v1/payments', 'payments:write'],
  ['PATCH', '/v1/payments/{id}', 'payments:write'],
  ['POST', '/v1/payments/{id}/capture', 'payments:write'],
  ['GET', '/v1/payments/{id}/events', 'payments:read'],
  ['POST', '/v1/payments/{id}/refunds', 'refunds:write'],
  ['GET', '/v1/payments/{id}/refunds', 'refunds:read'],
  ['GET', '/v1/customers/{customer_id}/points', 'points:read'],
  ['POST', '/v1/customers/{customer_id}/points/grants', 'points:write'],
  ['GET', '/v1/settlements/{id}/lines.csv', 'settlements:read'],
  ['DELETE', '/v1/webhook_endpoints/{id}', 'webhooks:write'],
  ['POST', '/v1/webhook_endpoints/{id}/deliveries/{delivery_id}/retry', 'webhooks:write'],
  ['POST', '/v1/settlements', null],
  ['GET', '/v1/health', null],
])('%s %s needs %s', (method, path, scope) => {
  expect(scopeOf(method, path)).toBe(scope);
});

it('gives every merchant route of the catalog a scope a key can be given', () => {
  const routes = functionsOf('api').filter(({ route }) => route.auth === 'merchant');
  expect(routes.length).toBeGreaterThan(15);
  for (const { name, route } of routes) {
    expect({ name, scope: SCOPES.find((s) => s === scopeOf(route.method, route.path)) }).toEqual({
      name,
      scope: expect.any(String),
    });
  }
});

const event = (scopes: string | undefined, method = 'POST', resource = '/v1/payments') =>
  ({
    httpMethod: method,
    resource,
    requestContext: {
      authorizer: { merchantId: 'merchant_demo', ...(scopes === undefined ? {} : { scopes }) },
    },
  }) as unknown as APIGatewayProxyEvent;

it('lets a full key and a key with the scope through, and refuses one without it, naming the scope', () => {
  expect(merchantId(event('*'))).toBe('merchant_demo');
  expect(merchantId(event(undefined))).toBe('merchant_demo');
  expect(merchantId(event('payments:read payments:write'))).toBe('merchant_demo');
  expect(() => merchantId(event('payments:read'))).toThrow(
    expect.objectContaining({
      code: 'insufficient_scope',
      message: 'This key lacks the scope payments:write.',
    }),
  );
  expect(() => merchantId(event('payments:write', 'GET', '/v1/payments/{id}/refunds'))).toThrow(
    expect.objectContaining({ code: 'insufficient_scope', status: 403 }),
  );
});
