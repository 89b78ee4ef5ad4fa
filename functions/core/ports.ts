/**
 * Ports: what the core needs from the outside world. Adapters in functions/adapters implement them for
 * AWS and the local stack alike; unit tests use in-memory fakes.
 */
import type { Currency } from './money.js';

/** KBank `transaction_state` values (see shared/kbank-kpgw.md). */
export const KBANK_STATES = [
  'Initialize',
  'Pre-Authorized',
  'Authorized',
  'Declined',
  'Reversed',
  'Voided',
  'Refund Sent',
  'Settled',
] as const;
export type KbankState = (typeof KBANK_STATES)[number];

/** A KBank charge object, normalized: amounts in minor units, camelCase, only the fields we use. */
export interface KbankCharge {
  chargeId: string;
  referenceOrder: string;
  /** KBank's `status`: "success" when the call itself worked. */
  status: string;
  state: KbankState;
  amount: number;
  currency: Currency;
  approvalCode?: string;
  card?: { brand?: string; masked?: string; issuerBank?: string };
  failureCode?: string;
  failureMessage?: string;
  /** Set when the customer must be redirected (3-D Secure, Alipay). */
  redirectUrl?: string;
  /** KBank's 17-digit creation timestamp, as sent. */
  created?: string;
  /**
   * Σ of the refunds KBank applied to this charge, in minor units; absent when KBank's answer does not say
   * (its refund format is unpublished [?]: see refundedAmountOf in functions/adapters/kbank-client.ts).
   */
  refundedAmount?: number;
}

export interface ChargeCardRequest {
  token: string;
  amount: number;
  currency: Currency;
  /** Our unique reference for this attempt (≤ 50 chars); the only handle after a timeout. */
  referenceOrder: string;
  description: string;
  metadata?: Record<string, string>;
}

/**
 * KBank Payment Gateway. Every method throws KbankUnavailable (request never sent: safe to retry),
 * KbankOutcomeUnknown (timeout after sending, 5xx, unreadable answer: inquire before anything else) or
 * KbankRejected (4xx `{object: "error"}`: terminal). A decline is not an error: it is a charge whose
 * state is `Declined`.
 */
export interface KbankGateway {
  chargeCard(request: ChargeCardRequest): Promise<KbankCharge>;
  /** null when KBank has no such charge (HTTP 404). */
  inquireCharge(ref: { chargeId: string } | { referenceOrder: string }): Promise<KbankCharge | null>;
  voidCharge(chargeId: string, reason: string): Promise<KbankCharge>;
  /** Captures `amount` of an authorized charge; `full` when it is the whole authorized amount. */
  settleCharge(
    chargeId: string,
    amount: number,
    currency: Currency,
    type: 'full' | 'partial',
  ): Promise<KbankCharge>;
  refundCharge(chargeId: string, amount: number, currency: Currency, reason: string): Promise<KbankCharge>;
}

export interface OrderLine {
  sku: string;
  quantity: number;
  /** Unit price the client showed, in minor units. */
  unitAmount: number;
}

export interface CostQuote {
  orderId: string;
  currency: Currency;
  /** The order total the cost service calculated, in minor units. */
  totalAmount: number;
}

/**
 * The external cost calculation endpoint. Throws CostServiceUnavailable (timeout/5xx after its own
 * bounded retries) or CostServiceRejected (4xx: the order cannot be priced).
 */
export interface CostService {
  quote(order: { orderId: string; currency: Currency; lines: OrderLine[] }): Promise<CostQuote>;
}

/** Starts the payment's saga. Idempotent: starting the same payment twice is not an error. */
export interface WorkflowStarter {
  start(paymentId: string, input: Record<string, unknown>): Promise<void>;
}

/**
 * Resumes a saga parked on a task token. Returns false when the token is no longer valid (the wait
 * already ended, e.g. timed out): the saga has moved on and will see what was recorded.
 */
export interface TaskNotifier {
  succeed(token: string, output: unknown): Promise<boolean>;
  fail(token: string, error: string, cause: string): Promise<boolean>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** What a stored idempotent response looks like: replayed byte for byte. */
export interface StoredResponse {
  statusCode: number;
  body: unknown;
}

export type IdempotencyOutcome =
  | { kind: 'proceed'; resourceId: string }
  | { kind: 'replay'; resourceId: string; response: StoredResponse };

/**
 * Idempotency keys, scoped per merchant and operation. `reserve` atomically claims a key (or takes over
 * one whose holder crashed: its lock expired) and remembers the resource id the request will create, so
 * a retry after a crash finishes the same resource instead of making a second one. Throws
 * IdempotencyInFlightError (a live holder) or IdempotencyMismatchError (same key, different request).
 */
export interface IdempotencyStore {
  reserve(request: {
    scope: string;
    key: string;
    fingerprint: string;
    resourceId: string;
    now: Date;
  }): Promise<IdempotencyOutcome>;
  complete(request: { scope: string; key: string; response: StoredResponse; now: Date }): Promise<void>;
}

export interface Merchant {
  id: string;
  name: string;
}

export interface MerchantDirectory {
  /** The merchant whose API key hashes to `keyHash` (SHA-256 hex), or null. */
  findByApiKeyHash(keyHash: string): Promise<Merchant | null>;
}
