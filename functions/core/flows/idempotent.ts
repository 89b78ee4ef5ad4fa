/**
 * Runs a mutating request under its Idempotency-Key (scoped per merchant and operation): the same key
 * and request replays the stored answer, a different request under the key is refused, and a retry
 * after a crash runs again for the same resource. Answers that a retry could not change (typed 4xx
 * refusals) are stored like successes, so a retry gets the same refusal; any other failure releases the
 * key's lock, so it never stays locked behind a request that has ended.
 *
 * Refusals that need no key are for the caller to make before calling this (an unknown or another
 * merchant's payment): nothing is then written under the key at all.
 */
import { createHash } from 'node:crypto';
import { PaymentError } from '../errors.js';
import type { Clock, IdempotencyStore, StoredResponse } from '../ports.js';

export interface IdempotentRequest {
  merchantId: string;
  /** The operation, e.g. `POST /v1/payments/{id}/capture`. */
  operation: string;
  key: string;
  /** Everything that defines the request (path parameters and parsed body). */
  request: unknown;
  /** The resource this request will create or act on; kept across a take-over. */
  resourceId: string;
}

/**
 * The response stored under the key for a terminal refusal, so that the same key replays it; given by
 * the API layer, which owns the problem format. Undefined (or not a 4xx) stores nothing.
 */
export type RefusalResponse = (error: PaymentError) => StoredResponse | undefined;

export async function idempotent<T extends StoredResponse>(
  deps: { idempotency: IdempotencyStore; clock: Clock },
  req: IdempotentRequest,
  run: (resourceId: string) => Promise<T>,
  refusal?: RefusalResponse,
): Promise<{ response: T; replayed: boolean }> {
  const scope = `${req.merchantId}#${req.operation}`;
  const reservedAt = deps.clock.now();
  const reservation = await deps.idempotency.reserve({
    scope,
    key: req.key,
    fingerprint: fingerprint(req.request),
    resourceId: req.resourceId,
    now: reservedAt,
  });
  if (reservation.kind === 'replay') {
    const stored = reservation.response;
    if (stored.statusCode >= 400) throw new ReplayedRefusal(stored);
    return { response: stored as T, replayed: true };
  }
  let response: T;
  try {
    response = await run(reservation.resourceId);
  } catch (error) {
    await settleFailure(deps, { scope, key: req.key, reservedAt }, error, refusal);
    throw error;
  }
  await deps.idempotency.complete({ scope, key: req.key, response, now: deps.clock.now() });
  return { response, replayed: false };
}

/**
 * After a failed run: a terminal refusal (a non-retryable PaymentError the API maps to a 4xx) is stored;
 * anything else (a lost race, a dependency down, a bug) releases the lock, keeping the resource id.
 */
async function settleFailure(
  deps: { idempotency: IdempotencyStore; clock: Clock },
  held: { scope: string; key: string; reservedAt: Date },
  error: unknown,
  refusal: RefusalResponse | undefined,
): Promise<void> {
  const stored = error instanceof PaymentError && !error.retryable ? refusal?.(error) : undefined;
  const now = deps.clock.now();
  try {
    if (stored && stored.statusCode >= 400 && stored.statusCode < 500) {
      await deps.idempotency.complete({ scope: held.scope, key: held.key, response: stored, now });
    } else {
      await deps.idempotency.release({ ...held, now });
    }
  } catch {
    // The answer stands either way: at worst the lock expires by itself and a retry runs again.
  }
}

/** A stored refusal replayed for the same key: the API answers it as stored. */
export class ReplayedRefusal extends Error {
  constructor(readonly response: StoredResponse) {
    super('replayed refusal');
    this.name = 'ReplayedRefusal';
  }
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
