/**
 * The error taxonomy, in one place. `ERROR_CODES` lists every stable problem code with its HTTP status,
 * its audience and what a client may read of its message; each error class carries one of these codes,
 * so the API maps an error by its code and nothing else (handlers/http.ts). `name` is set exactly because
 * Step Functions Retry/Catch match on it. Retryable errors may succeed on a later try with the same input;
 * terminal errors never will.
 *
 * Audience: `merchant` codes are answers the API's functions give (KBank's webhooks count as a client);
 * `gateway` codes are answered by API Gateway itself, before any function runs (lib/stateless/api.ts);
 * `internal` codes are for the sagas, the callbacks and operators, and reach an API client only through a
 * bug. Every code has a page, `/problems/<code>` (functions/handlers/problem-pages.ts, docs/problems.md).
 */

export type Audience = 'merchant' | 'gateway' | 'internal';

/**
 * What a client reads in a problem's `detail`: `message` (the error's message is written for clients:
 * it names only what they sent or may read) or `generic` (a fixed text by status; the message stays in
 * the logs); or a fixed text of its own.
 */
type Detail = 'message' | 'generic' | { text: string };

interface CodeSpec {
  status: number;
  audience: Audience;
  detail: Detail;
}

const merchant = (status: number, detail: Detail = 'message'): CodeSpec => ({
  status,
  audience: 'merchant',
  detail,
});
const internal = (status: number): CodeSpec => ({ status, audience: 'internal', detail: 'generic' });
const gateway = (status: number): CodeSpec => ({ status, audience: 'gateway', detail: 'generic' });

/** The RFC 9457 `title` of a problem: its status's reason phrase, whoever answers it. */
export const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Every stable problem code: its HTTP status, its audience and what a client may read of it. */
export const ERROR_CODES = {
  // Refused at the edge, before any use case runs.
  validation_failed: merchant(400),
  malformed_json: merchant(400),
  malformed_path: merchant(400),
  malformed_notification: merchant(400),
  unauthorized: merchant(401),
  // A KBank notify whose checksum does not match our stored amount and currency.
  invalid_checksum: merchant(401),
  // A restricted key called a route outside its scopes (the detail names the scope it lacks).
  insufficient_scope: merchant(403),
  resource_not_found: merchant(404),
  route_not_found: merchant(404),
  method_not_allowed: merchant(405),
  payload_too_large: merchant(413),
  unsupported_media_type: merchant(415),
  // The Idempotency-Key.
  idempotency_key_in_use: merchant(409),
  idempotency_key_reused: merchant(422),
  // Refusals found against the payment.
  stale_write: merchant(409, { text: 'The payment was changed by another request; retry.' }),
  invalid_transition: merchant(409),
  payment_not_capturable: merchant(409),
  payment_not_cancelable: merchant(409),
  payment_cancel_in_progress: merchant(409),
  amount_not_changeable: merchant(409),
  reauthorization_required: merchant(409),
  payment_not_refundable: merchant(409),
  no_qr: merchant(409),
  // The amount cannot be refunded as asked: the same request keeps failing until it asks for less.
  refund_exceeds_refundable: merchant(422),
  cost_mismatch: merchant(422),
  // Points (docs/api.md "Points"): the merchant has no program, the customer too few points, or a refund
  // would give back more points than the payment's points have left.
  points_not_enabled: merchant(409),
  insufficient_points: merchant(422),
  points_not_refundable: merchant(422),
  cost_service_rejected: merchant(422, {
    text: 'The order could not be priced (for example an unknown SKU); check its lines.',
  }),
  cost_service_unavailable: merchant(503, {
    text: 'The order could not be priced right now. It is safe to retry with the same Idempotency-Key.',
  }),
  internal_error: merchant(500, {
    text: 'Something went wrong on our side. It is safe to retry with the same Idempotency-Key.',
  }),
  // API Gateway's own answers (WAF, throttling, a function that overran the gateway's timeout, …); the
  // local stack gives the two of the merchant's plan (functions/core/plans.ts) in its place.
  bad_request: gateway(400),
  forbidden: gateway(403),
  rate_limited: gateway(429),
  quota_exceeded: gateway(429),
  upstream_timeout: gateway(504),
  // The sagas', the callbacks' and the operators' own.
  not_capturable: internal(409),
  not_waiting: internal(409),
  no_captured_charge: internal(409),
  may_hold_money: internal(409),
  reservation_missing: internal(409),
  saga_not_waiting_yet: internal(409),
  cost_not_verified: internal(409),
  kbank_unavailable: internal(503),
  kbank_outcome_unknown: internal(503),
  kbank_rejected: internal(409),
  outcome_still_unknown: internal(503),
  event_not_published: internal(503),
} as const satisfies Record<string, CodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes of one audience, e.g. every answer the API may give. */
export function codesOf(audience: Audience): ErrorCode[] {
  return (Object.keys(ERROR_CODES) as ErrorCode[]).filter((code) => ERROR_CODES[code].audience === audience);
}

export abstract class PaymentError extends Error {
  /** Stable machine-readable code, also used as the problem `code`. */
  abstract readonly code: ErrorCode;
  abstract readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  /** The HTTP status the API answers this error with. */
  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  get audience(): Audience {
    return ERROR_CODES[this.code].audience;
  }
}

/** Input that can never be valid as sent. `details` lists field-level problems. */
export class ValidationError extends PaymentError {
  readonly code = 'validation_failed';
  readonly retryable = false;
  constructor(
    message: string,
    readonly details: { field: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** The codes of requests refused at the edge, whatever the use case (see RequestRefused). */
export type EdgeCode =
  | 'malformed_json'
  | 'malformed_path'
  | 'malformed_notification'
  | 'unauthorized'
  | 'insufficient_scope'
  | 'route_not_found'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'unsupported_media_type';

/** A request refused at the edge before any use case runs (body too large, wrong media type, …). */
export class RequestRefused extends PaymentError {
  readonly retryable = false;
  constructor(
    readonly code: EdgeCode,
    message: string,
  ) {
    super(message);
  }
}

/** The resource does not exist, or belongs to another merchant (never distinguished). */
export class NotFoundError extends PaymentError {
  readonly code = 'resource_not_found';
  readonly retryable = false;
}

/** The codes of a state change that is not allowed from the current state. */
export type ConflictCode =
  | 'invalid_checksum'
  | 'invalid_transition'
  | 'payment_not_capturable'
  | 'payment_not_cancelable'
  | 'payment_cancel_in_progress'
  | 'amount_not_changeable'
  | 'reauthorization_required'
  | 'payment_not_refundable'
  | 'no_qr'
  | 'not_capturable'
  | 'not_waiting'
  | 'no_captured_charge'
  | 'may_hold_money'
  | 'reservation_missing'
  | 'saga_not_waiting_yet'
  | 'cost_not_verified'
  | 'points_not_enabled';

/** A state change that is not allowed from the current state (the saga's Catch matches the name). */
export class ConflictError extends PaymentError {
  readonly retryable = false;
  constructor(
    message: string,
    readonly code: ConflictCode,
  ) {
    super(message);
  }
}

/** Only captured payments (status `succeeded`) can be refunded. */
export class PaymentNotRefundable extends ConflictError {
  constructor(message: string) {
    super(message, 'payment_not_refundable');
  }
}

/** A KBank notify whose checksum does not match the amount and currency we stored. */
export class NotifyChecksumMismatch extends ConflictError {
  constructor(message: string) {
    super(message, 'invalid_checksum');
  }
}

/** A paid callback came before the saga stored the token it waits on: redelivered until it has. */
export class SagaNotWaitingYet extends ConflictError {
  constructor(message: string) {
    super(message, 'saga_not_waiting_yet');
  }
}

/** The merchant has no points program. */
export class PointsNotEnabled extends ConflictError {
  constructor(merchantId: string) {
    super(`merchant ${merchantId} has no points program`, 'points_not_enabled');
  }
}

/** The Idempotency-Key is being used by a request still in flight. */
export class IdempotencyInFlightError extends PaymentError {
  readonly code = 'idempotency_key_in_use';
  readonly retryable = true;
}

/** The Idempotency-Key was already used with a different request. */
export class IdempotencyMismatchError extends PaymentError {
  readonly code = 'idempotency_key_reused';
  readonly retryable = false;
}

/** Missing or wrong credentials. */
export class UnauthorizedError extends PaymentError {
  readonly code = 'unauthorized';
  readonly retryable = false;
}

/** The order total from the cost service differs from the payment amount. */
export class CostMismatch extends PaymentError {
  readonly code = 'cost_mismatch';
  readonly retryable = false;
  constructor(
    message: string,
    readonly expectedAmount: number,
  ) {
    super(message);
  }
}

/** The cost service could not price the order (unknown SKU, bad order): terminal. */
export class CostServiceRejected extends PaymentError {
  readonly code = 'cost_service_rejected';
  readonly retryable = false;
}

/** The cost service timed out or answered 5xx: worth retrying. */
export class CostServiceUnavailable extends PaymentError {
  readonly code = 'cost_service_unavailable';
  readonly retryable = true;
}

/** The refund's amount does not fit in what is left to refund. `refundable` is what is left. */
export class RefundExceedsRefundable extends PaymentError {
  readonly code = 'refund_exceeds_refundable';
  readonly retryable = false;
  constructor(
    message: string,
    readonly refundable: number,
  ) {
    super(message);
  }
}

/** Not enough available points for a hold. `available` is what the customer has. */
export class InsufficientPoints extends PaymentError {
  readonly code = 'insufficient_points';
  readonly retryable = false;
  constructor(
    message: string,
    readonly available: number,
  ) {
    super(message);
  }
}

/** A points refund beyond what the payment's committed hold has left (or of a hold not committed). */
export class PointsNotRefundable extends PaymentError {
  readonly code = 'points_not_refundable';
  readonly retryable = false;
  constructor(
    message: string,
    readonly refundable: number,
  ) {
    super(message);
  }
}

/**
 * KBank could not be reached at all (connection refused, DNS): the request never left us, so retrying
 * the same call is safe.
 */
export class KbankUnavailable extends PaymentError {
  readonly code = 'kbank_unavailable';
  readonly retryable = true;
}

/**
 * KBank may or may not have acted (timeout after sending, 5xx, malformed answer). Never assume either
 * way: inquire before anything else.
 */
export class KbankOutcomeUnknown extends PaymentError {
  readonly code = 'kbank_outcome_unknown';
  readonly retryable = true;
}

/** KBank refused the request (4xx `{object: "error"}`): retrying the same call will not help. */
export class KbankRejected extends PaymentError {
  readonly code = 'kbank_rejected';
  readonly retryable = false;
  constructor(
    message: string,
    readonly kbankCode: string,
    readonly httpStatus: number,
  ) {
    super(message);
  }
}

/** An inquiry still cannot tell the outcome (thrown so the state machine's Retry schedule re-inquires). */
export class OutcomeStillUnknown extends PaymentError {
  readonly code = 'outcome_still_unknown';
  readonly retryable = true;
}

/** A conditional write lost to a concurrent writer: reload and decide again. */
export class StaleWriteError extends PaymentError {
  readonly code = 'stale_write';
  readonly retryable = true;
}

/**
 * A step's change is recorded but its events could not be published (the bus refused them, after retries).
 * Never a reason to compensate: the state machine hands the payment over to the sweep, which holds the
 * events on it and resumes the saga to publish them. The message is the events as JSON (they are what the
 * bus would have carried: no secret), so the hand-over reads them from the task error's cause.
 */
export class EventNotPublished extends PaymentError {
  readonly code = 'event_not_published';
  readonly retryable = true;
  constructor(readonly events: readonly { event_id: string; type: string }[]) {
    super(JSON.stringify(events));
  }
}
