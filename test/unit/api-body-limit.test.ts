/**
 * Every deployed API handler refuses a body over MAX_BODY_BYTES with 413 before it reads anything: API
 * Gateway lets up to 10 MB through. The handlers are the modules CDK deploys, with their AWS wiring: had
 * one of them got past the limit, it would have tried to reach AWS and answered something else.
 */
import { readdirSync } from 'node:fs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { MAX_BODY_BYTES } from '../../functions/handlers/http.js';
import { lambdaContext } from '../../local/lambda-context.js';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const HANDLERS = readdirSync(new URL('../../functions/handlers/', import.meta.url))
  .filter((file) => /^api-.*\.ts$/.test(file) && file !== 'api-authorizer.ts')
  .map((file) => file.replace(/\.ts$/, ''));

async function load(name: string): Promise<Handler> {
  const module = (await import(`../../functions/handlers/${name}.js`)) as { handler: Handler };
  return module.handler;
}

function event(method: string, body: string | null, extra: Partial<APIGatewayProxyEvent> = {}) {
  return {
    resource: '/v1/payments/{id}',
    path: '/v1/payments/pay_01JD3Q4V7M0000000000000000',
    httpMethod: method,
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'k-1' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { id: 'pay_01JD3Q4V7M0000000000000000' },
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: { authorizer: { merchantId: 'merchant_1' } } as never,
    ...extra,
  } as APIGatewayProxyEvent;
}

describe('the body limit of every API handler', () => {
  it('covers every API handler module', () => {
    expect(HANDLERS).toEqual(
      expect.arrayContaining([
        'api-health',
        'api-get-payment',
        'api-cancel-payment',
        'api-kbank-webhook',
        'api-kbank-return',
      ]),
    );
    expect(HANDLERS.length).toBeGreaterThanOrEqual(13);
  });

  it.each(HANDLERS)('%s answers 413 payload_too_large to a body one byte over the limit', async (name) => {
    const handler = await load(name);
    const result = await handler(event('POST', 'x'.repeat(MAX_BODY_BYTES + 1)), lambdaContext(name));
    expect(result.statusCode).toBe(413);
    expect(result.headers?.['Content-Type']).toBe('application/problem+json');
    expect(JSON.parse(result.body)).toMatchObject({
      type: '/problems/payload_too_large',
      status: 413,
      code: 'payload_too_large',
    });
  });

  it('counts bytes, not characters: 30,000 Thai characters are 90,000 bytes', async () => {
    const handler = await load('api-health');
    const thai = 'ก'.repeat(30_000);
    expect(thai.length).toBeLessThan(MAX_BODY_BYTES);
    expect((await handler(event('GET', thai), lambdaContext('api-health'))).statusCode).toBe(413);
  });

  it('counts a base64 body decoded, and lets a body of exactly the limit through', async () => {
    const handler = await load('api-health');
    const atLimit = Buffer.alloc(MAX_BODY_BYTES, 'a');
    const over = Buffer.alloc(MAX_BODY_BYTES + 1, 'a');
    const asBase64 = (bytes: Buffer) => event('GET', bytes.toString('base64'), { isBase64Encoded: true });
    // The base64 text of the limit is a third longer than the limit; what counts is what was sent.
    expect((await handler(asBase64(atLimit), lambdaContext('api-health'))).statusCode).toBe(200);
    expect((await handler(asBase64(over), lambdaContext('api-health'))).statusCode).toBe(413);
    expect((await handler(event('GET', atLimit.toString()), lambdaContext('api-health'))).statusCode).toBe(
      200,
    );
  });
});
