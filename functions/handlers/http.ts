/**
 * What every API handler shares: its middlewares (body size limit, errors as RFC 9457 problems that never
 * leak internals), the merchant and headers of the API Gateway proxy event, and JSON answers. No zod here:
 * a handler that reads no input (api-health) bundles none; parsing lives in http-request.ts.
 */

import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Problem } from '../../schemas/api.js';
import { scopeOf } from '../core/api-keys.js';
import {
  ERROR_CODES,
  type ErrorCode,
  PaymentError,
  RequestRefused,
  STATUS_TITLES,
  ValidationError,
} from '../core/errors.js';
import { logger, withLogContext } from './logger.js';

/** Bodies larger than this are refused before parsing (API Gateway's own limit is 10 MB). */
export const MAX_BODY_BYTES = 64 * 1024;

/** What a client reads of an error of this code and message: the message only where errors.ts says so. */
export function publicDetail(code: ErrorCode, message: string): string {
  const { detail, status } = ERROR_CODES[code];
  if (typeof detail === 'object') return detail.text;
  if (detail === 'message') return message;
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

/** The bare problem of a code (no detail), for answers made outside a handler (the local API's router). */
export function problemOf(code: ErrorCode, instance?: string, detail?: string): Problem {
  const { status } = ERROR_CODES[code];
  return {
    type: `/problems/${code}`,
    title: STATUS_TITLES[status] ?? 'Error',
    status,
    code,
    ...(detail ? { detail } : {}),
    ...(instance ? { instance } : {}),
  };
}

/** An error as the RFC 9457 problem the API answers: by its code only (errors.ts), never its internals. */
export function toProblem(error: unknown, instance?: string): Problem {
  if (error instanceof ValidationError) {
    return { ...problemOf(error.code, instance, error.message), errors: error.details };
  }
  if (error instanceof PaymentError)
    return problemOf(error.code, instance, publicDetail(error.code, error.message));
  return problemOf('internal_error', instance, publicDetail('internal_error', ''));
}

/** The answer to a refusal: its problem, as the client gets it (and as the Idempotency-Key stores it). */
export function refusalResponse(error: unknown, event: APIGatewayProxyEvent): APIGatewayProxyResult {
  return problemResponse(toProblem(error, event.path));
}

/** The last middleware: errors become problems; unexpected ones are logged with their stack, not sent. */
export function problemErrors(): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    onError: async (request) => {
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

export function payloadTooLarge(): RequestRefused {
  return new RequestRefused('payload_too_large', `Bodies are limited to ${MAX_BODY_BYTES} bytes.`);
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

/**
 * The merchant the authorizer resolved (API Gateway puts its context on requestContext.authorizer), once
 * its key may make this call: a restricted key needs the scope of the route (scopeOf), a full key (`*`)
 * may do everything. Every merchant handler asks this first, so a refusal runs and writes nothing.
 */
export function merchantId(event: APIGatewayProxyEvent): string {
  const authorizer = event.requestContext?.authorizer;
  const id = authorizer?.merchantId;
  if (typeof id !== 'string' || id.length === 0)
    throw new RequestRefused('unauthorized', 'Send your API key.');
  const granted = typeof authorizer?.scopes === 'string' ? authorizer.scopes : '*';
  if (granted !== '*') {
    const needed = scopeOf(event.httpMethod, event.resource);
    if (!needed || !granted.split(' ').includes(needed)) {
      throw new RequestRefused(
        'insufficient_scope',
        `This key lacks the scope ${needed ?? 'this call needs'}.`,
      );
    }
  }
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
