/**
 * Calling an API handler in-process as API Gateway would: an authorized proxy event in, the answer out
 * with its body parsed and whether it was a replay of the Idempotency-Key's stored answer.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { lambdaContext } from '../../local/lambda-context.js';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface ApiCall {
  merchantId: string;
  method?: string;
  path: string;
  /** `{id}` of the path. */
  paymentId?: string;
  idempotencyKey?: string;
  body?: unknown;
}

export interface ApiAnswer {
  response: { statusCode: number; body: Record<string, unknown> & { code?: string } };
  replayed: boolean;
  /** The answer as sent. */
  raw: APIGatewayProxyResult;
}

export function apiEvent(call: ApiCall): APIGatewayProxyEvent {
  return {
    resource: call.path,
    path: call.path,
    httpMethod: call.method ?? 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...(call.idempotencyKey === undefined ? {} : { 'Idempotency-Key': call.idempotencyKey }),
    },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: call.paymentId === undefined ? null : { id: call.paymentId },
    stageVariables: null,
    body: call.body === undefined ? null : JSON.stringify(call.body),
    isBase64Encoded: false,
    requestContext: { authorizer: { merchantId: call.merchantId } } as never,
  } as APIGatewayProxyEvent;
}

/** `timeoutMs`: the Lambda's time limit (a request that hangs ends there, as a Lambda would). */
export async function callApi(handler: Handler, call: ApiCall, timeoutMs?: number): Promise<ApiAnswer> {
  const raw = await handler(apiEvent(call), lambdaContext('api-test', timeoutMs));
  return {
    response: { statusCode: raw.statusCode, body: JSON.parse(raw.body) },
    replayed: raw.headers?.['Idempotent-Replayed'] === 'true',
    raw,
  };
}
