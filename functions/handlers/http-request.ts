/**
 * Reading a request's validated parts: the JSON body, the query string, the Idempotency-Key header and the
 * payment id of the path. Every refusal is a typed 4xx (a ValidationError, a RequestRefused or a 404) thrown
 * before anything is read or written.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type * as z from 'zod';
import { safeParse } from 'zod/mini';
import { IdempotencyKeySchema, PaymentIdSchema } from '../../schemas/api.js';
import { NotFoundError, RequestRefused, ValidationError } from '../core/errors.js';
import { header, MAX_BODY_BYTES, payloadTooLarge } from './http.js';

/** Parses and validates a JSON body; every refusal is a typed 4xx before anything is written. */
export function jsonBody<T extends z.core.$ZodType>(event: APIGatewayProxyEvent, schema: T): z.infer<T> {
  const raw =
    event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (!raw) throw new ValidationError('A JSON body is required.', [{ field: '', message: 'required' }]);
  if (Buffer.byteLength(raw, 'utf8') > MAX_BODY_BYTES) throw payloadTooLarge();
  const contentType = header(event, 'content-type') ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(contentType)) {
    throw new RequestRefused('unsupported_media_type', 'Send Content-Type: application/json.');
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new RequestRefused('malformed_json', 'The body is not valid JSON.');
  }
  return parseWith(schema, value, 'The request body is invalid.');
}

/** Any zod schema, classic or zod/mini: `safeParse` is zod's own function, not a method of one API. */
export function parseWith<T extends z.core.$ZodType>(schema: T, value: unknown, message: string): z.infer<T> {
  const parsed = safeParse(schema, value);
  if (parsed.success) return parsed.data;
  throw new ValidationError(
    message,
    parsed.error.issues.map((issue) => ({ field: issue.path.join('.'), message: issue.message })),
  );
}

/** The required Idempotency-Key header of a mutating request, validated. */
export function idempotencyKey(event: APIGatewayProxyEvent): string {
  const raw = header(event, 'idempotency-key');
  if (raw === undefined) {
    throw new ValidationError('The Idempotency-Key header is required.', [
      { field: 'Idempotency-Key', message: 'required' },
    ]);
  }
  return parseWith(IdempotencyKeySchema, raw, 'The Idempotency-Key header is invalid.');
}

export function paymentIdFrom(event: APIGatewayProxyEvent): string {
  const id = event.pathParameters?.id ?? '';
  // A malformed id cannot name anyone's payment: answer like any other unknown id, without echoing it.
  if (!PaymentIdSchema.safeParse(id).success) throw new NotFoundError('No such payment.');
  return id;
}
