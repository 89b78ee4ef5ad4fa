/**
 * The error taxonomy. `name` is set exactly because Step Functions Retry/Catch match on it, and the API
 * maps each class to one RFC 9457 problem. Retryable errors may succeed on a later try with the same
 * input; terminal errors never will.
 */

export abstract class PaymentError extends Error {
  /** Stable machine-readable code, also used as the problem `code`. */
  abstract readonly code: string;
  abstract readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
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

/** The resource does not exist, or belongs to another merchant (never distinguished). */
export class NotFoundError extends PaymentError {
  readonly code = 'resource_not_found';
  readonly retryable = false;
}

/** A state change lost a race or is not allowed from the current state. */
export class ConflictError extends PaymentError {
  readonly retryable = false;
  constructor(
    message: string,
    readonly code: string = 'state_conflict',
  ) {
    super(message);
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
