/**
 * The Idempotency-Key, an edge concern: a mutating request runs under its key (scoped per merchant and
 * operation), and what the key stores is the HTTP response the handler mapped, successes and refusals
 * alike, so that the same key and request replays it byte for byte (with `Idempotent-Replayed: true`).
 * A different request under the key is `422 idempotency_key_reused`; one still in flight `409
 * idempotency_key_in_use`. A refusal a retry could not change (a terminal 4xx) is stored like a success;
 * any other failure releases the key's lock, so a key never stays locked behind a request that has ended,
 * and a retry after a crash runs again for the same resource.
 *
 * Payment creation claims its key inside the transaction that writes the payment (see
 * use-cases/api/create-payment.ts); `keyClaim` gives it the key and the response to store.
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { PaymentError } from '../core/errors.js';
import { ownedPayment } from '../core/flows/merchant-requests.js';
import type { Clock, IdempotencyStore, KeyClaim, StoredResponse } from '../core/ports.js';
import type { PaymentRepository } from '../core/repository.js';
import { merchantId, refusalResponse } from './http.js';
import { idempotencyKey, paymentIdFrom } from './http-request.js';
import { logger } from './logger.js';

export const REPLAYED_HEADER = 'Idempotent-Replayed';

export interface KeyedRequest {
  merchantId: string;
  /** The operation, e.g. `POST /v1/payments/{id}/capture`. */
  operation: string;
  key: string;
  /** Everything that defines the request (path parameters and parsed body). */
  request: unknown;
  /** The resource this request will create or act on; kept across a take-over. */
  resourceId: string;
  /**
   * What is stored of a success, when it must differ from what is answered (a webhook signing secret is
   * answered once and never stored): a replay answers the stored form.
   */
  storedAs?: (response: APIGatewayProxyResult) => APIGatewayProxyResult;
}

/**
 * Runs `run` under the request's key and answers what it mapped, or the stored answer of an earlier
 * request with the same key. Refusals that need no key (an unknown or another merchant's payment) are
 * for the handler to make before calling this: nothing is then written under the key at all.
 */
export async function keyed(
  deps: { idempotency: IdempotencyStore; clock: Clock },
  event: APIGatewayProxyEvent,
  req: KeyedRequest,
  run: (resourceId: string) => Promise<APIGatewayProxyResult>,
): Promise<APIGatewayProxyResult> {
  const scope = scopeOf(req.merchantId, req.operation);
  const reservedAt = deps.clock.now();
  const reservation = await deps.idempotency.reserve({
    scope,
    key: req.key,
    fingerprint: fingerprint(req.request),
    resourceId: req.resourceId,
    now: reservedAt,
  });
  if (reservation.kind === 'replay') return replay(reservation.response);
  let response: APIGatewayProxyResult;
  try {
    response = await run(reservation.resourceId);
  } catch (error) {
    if (!isStoredRefusal(error)) {
      await releaseQuietly(deps, { scope, key: req.key, reservedAt });
      throw error;
    }
    const refusal = refusalResponse(error, event);
    logger.info('request refused', { code: error.code, status: error.status });
    try {
      await deps.idempotency.complete({
        scope,
        key: req.key,
        response: stored(refusal),
        now: deps.clock.now(),
      });
    } catch {
      // The refusal stands either way: at worst the lock expires by itself and a retry runs again.
    }
    return refusal;
  }
  const kept = req.storedAs ? req.storedAs(response) : response;
  await deps.idempotency.complete({ scope, key: req.key, response: stored(kept), now: deps.clock.now() });
  return response;
}

/**
 * The key of a payment creation and the response to store under it, for the transaction that writes
 * the payment (a replay gets exactly this response).
 */
export function keyClaim(
  req: Omit<KeyedRequest, 'resourceId'>,
  response: APIGatewayProxyResult,
  now: Date,
): KeyClaim {
  return {
    scope: scopeOf(req.merchantId, req.operation),
    key: req.key,
    fingerprint: fingerprint(req.request),
    response: stored(response),
    now,
  };
}

/** A stored answer as the API sends it again. */
export function replay(response: StoredResponse): APIGatewayProxyResult {
  // Keys stored before responses were kept as sent hold the body as an object.
  const body = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
  const contentType = response.statusCode >= 400 ? 'application/problem+json' : 'application/json';
  return {
    statusCode: response.statusCode,
    headers: { 'Content-Type': contentType, ...response.headers, [REPLAYED_HEADER]: 'true' },
    body,
  };
}

/** A terminal refusal the API answers with a 4xx: the same request under the same key gets it again. */
function isStoredRefusal(error: unknown): error is PaymentError {
  return error instanceof PaymentError && !error.retryable && error.status >= 400 && error.status < 500;
}

function stored(response: APIGatewayProxyResult): StoredResponse {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers ?? {})) headers[name] = String(value);
  return { statusCode: response.statusCode, headers, body: response.body };
}

async function releaseQuietly(
  deps: { idempotency: IdempotencyStore; clock: Clock },
  held: { scope: string; key: string; reservedAt: Date },
): Promise<void> {
  try {
    await deps.idempotency.release({ ...held, now: deps.clock.now() });
  } catch {
    // The failure stands either way: at worst the lock expires by itself and a retry runs again.
  }
}

function scopeOf(merchantId: string, operation: string): string {
  return `${merchantId}#${operation}`;
}

/** A stable digest of the request: same parameters, same fingerprint, whatever the key order. */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What a keyed request on a payment runs with: who asks, for which payment, under which key. */
export interface PaymentRequest<B> {
  merchantId: string;
  paymentId: string;
  key: string;
  /** The payment's id, or the id of what the request creates (a refund) as kept under the key. */
  resourceId: string;
  body: B;
}

/**
 * A merchant's keyed request on an existing payment (capture, cancel, amount change, refund): the
 * request is read (path, key, then body: each refusal a typed 4xx), another merchant's or an unknown
 * payment is refused `404` before anything is written under the key, then `run` runs under the key.
 */
export async function keyedOnPayment<B>(
  deps: { idempotency: IdempotencyStore; clock: Clock; repo: PaymentRepository },
  event: APIGatewayProxyEvent,
  req: {
    operation: string;
    body: () => B;
    /** What defines the request under its key. */
    fingerprinted: (paymentId: string, body: B) => unknown;
    /** The id of what the request creates; default the payment's. */
    newResourceId?: () => string;
  },
  run: (request: PaymentRequest<B>) => Promise<APIGatewayProxyResult>,
): Promise<APIGatewayProxyResult> {
  const merchant = merchantId(event);
  const paymentId = paymentIdFrom(event);
  const key = idempotencyKey(event);
  const body = req.body();
  await ownedPayment(deps.repo, merchant, paymentId);
  return keyed(
    deps,
    event,
    {
      merchantId: merchant,
      operation: req.operation,
      key,
      request: req.fingerprinted(paymentId, body),
      resourceId: req.newResourceId?.() ?? paymentId,
    },
    (resourceId) => run({ merchantId: merchant, paymentId, key, resourceId, body }),
  );
}
