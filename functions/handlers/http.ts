/**
 * What every API handler shares: its middlewares (body size limit, errors as RFC 9457 problems that never
 * leak internals), the merchant and headers of the API Gateway proxy event, and JSON answers. No zod here:
 * a handler that reads no input (api-health) bundles none; parsing lives in http-request.ts.
 */
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Problem } from '../../schemas/api.js';
import { PaymentError, ValidationError } from '../core/errors.js';
import { type RefusalResponse, ReplayedRefusal } from '../core/flows/idempotent.js';
import { logger, withLogContext } from './logger.js';

/** Bodies larger than this are refused before parsing (API Gateway's own limit is 10 MB). */
export const MAX_BODY_BYTES = 64 * 1024;

/** An error that already knows its HTTP status (body too large, wrong media type, …). */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
  ) {
    super(title);
    this.name = 'HttpProblem';
  }
}

const STATUS_BY_CODE: Record<string, number> = {
  validation_failed: 400,
  unauthorized: 401,
  // A KBank notify whose checksum does not match our stored amount and currency.
  invalid_checksum: 401,
  resource_not_found: 404,
  idempotency_key_in_use: 409,
  state_conflict: 409,
  invalid_transition: 409,
  stale_write: 409,
  idempotency_key_reused: 422,
  cost_mismatch: 422,
  cost_service_rejected: 422,
  payment_not_refundable: 409,
  // The amount cannot be refunded as asked: the same request keeps failing until it asks for less.
  refund_exceeds_refundable: 422,
};

export const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
};

/**
 * Problem details for codes whose messages are written for operators: they name versions, dependencies
 * and what those answered. The client gets what it can act on instead.
 */
const PUBLIC_DETAILS: Record<string, string> = {
  stale_write: 'The payment was changed by another request; retry.',
  cost_service_rejected: 'The order could not be priced (for example an unknown SKU); check its lines.',
  cost_service_unavailable:
    'The order could not be priced right now. It is safe to retry with the same Idempotency-Key.',
};

/**
 * Codes whose messages are written for API clients: they name only what the client sent or may read
 * (ids, statuses, amounts). Any other code's message stays in the logs.
 */
const CLIENT_MESSAGE_CODES = new Set([
  'resource_not_found',
  'unauthorized',
  'invalid_checksum',
  'idempotency_key_in_use',
  'idempotency_key_reused',
  'state_conflict',
  'invalid_transition',
  'payment_cancel_in_progress',
  'payment_not_capturable',
  'payment_not_cancelable',
  'amount_not_changeable',
  'reauthorization_required',
  'cost_mismatch',
  'payment_not_refundable',
  'refund_exceeds_refundable',
  'no_qr',
]);

function publicDetail(error: PaymentError, status: number): string {
  const fixed = PUBLIC_DETAILS[error.code];
  if (fixed) return fixed;
  if (CLIENT_MESSAGE_CODES.has(error.code)) return error.message;
  return status >= 500
    ? 'A service we depend on is unavailable. It is safe to retry with the same Idempotency-Key.'
    : 'The request cannot be completed.';
}

export function problemResponse(
  problem: Problem,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode: problem.status,
    headers: { 'Content-Type': 'application/problem+json', ...headers },
    body: JSON.stringify(problem),
  };
}

export function toProblem(error: unknown, instance?: string): Problem {
  const base = (status: number, code: string, detail?: string): Problem => ({
    type: `/problems/${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    code,
    ...(detail ? { detail } : {}),
    ...(instance ? { instance } : {}),
  });
  if (error instanceof HttpProblem)
    return { ...base(error.status, error.code, error.detail), title: error.title };
  if (error instanceof ValidationError)
    return { ...base(400, error.code, error.message), errors: error.details };
  if (error instanceof PaymentError) {
    const status = STATUS_BY_CODE[error.code] ?? (error.retryable ? 503 : 409);
    return base(status, error.code, publicDetail(error, status));
  }
  return base(
    500,
    'internal_error',
    'Something went wrong on our side. It is safe to retry with the same Idempotency-Key.',
  );
}

/**
 * What a refusal leaves under its Idempotency-Key: the very problem its first answer was, so that the
 * same key replays it (idempotent.ts stores only terminal 4xx refusals).
 */
export function storedRefusal(event: APIGatewayProxyEvent): RefusalResponse {
  return (error) => {
    const problem = toProblem(error, event.path);
    return { statusCode: problem.status, body: problem };
  };
}

/** The last middleware: errors become problems; unexpected ones are logged with their stack, not sent. */
export function problemErrors(): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    onError: async (request) => {
      if (request.error instanceof ReplayedRefusal) {
        const stored = request.error.response;
        request.response = problemResponse(stored.body as Problem, { 'Idempotent-Replayed': 'true' });
        return;
      }
      const problem = toProblem(request.error, request.event?.path);
      if (problem.status >= 500) {
        logger.error('request failed', {
          code: problem.code,
          status: problem.status,
          error: request.error as Error,
        });
      } else logger.info('request refused', { code: problem.code, status: problem.status });
      request.response = problemResponse(problem);
    },
  };
}

/** The size of the event's body as the client sent it (a base64 body counts decoded). */
export function bodyBytes(event: APIGatewayProxyEvent): number {
  if (!event.body) return 0;
  return Buffer.byteLength(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
}

export function payloadTooLarge(): HttpProblem {
  return new HttpProblem(
    413,
    'payload_too_large',
    TITLES[413] ?? '',
    `Bodies are limited to ${MAX_BODY_BYTES} bytes.`,
  );
}

/**
 * Refuses a body over MAX_BODY_BYTES with 413 before the handler runs, on every route (GETs and the
 * KBank callbacks included): API Gateway itself lets up to 10 MB through to every function.
 */
export function bodyLimit(): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    before: async (request) => {
      if (bodyBytes(request.event) > MAX_BODY_BYTES) throw payloadTooLarge();
    },
  };
}

/** What every API handler uses, in this order: log context, the body limit, errors as problems. */
export function apiMiddlewares() {
  return [withLogContext(), bodyLimit(), problemErrors()];
}

export function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

/** The merchant the authorizer resolved; API Gateway puts its context on requestContext.authorizer. */
export function merchantId(event: APIGatewayProxyEvent): string {
  const id = event.requestContext?.authorizer?.merchantId;
  if (typeof id !== 'string' || id.length === 0) throw new HttpProblem(401, 'unauthorized', 'Unauthorized');
  return id;
}

export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}
