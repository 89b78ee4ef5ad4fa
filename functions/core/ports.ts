/**
 * Ports: what the core needs from the outside world. Adapters in functions/adapters implement them for
 * AWS and the local stack alike; unit tests use in-memory fakes.
 */

import type { KbankCallback } from '../../schemas/callbacks.js';
import type { ApiKeyRecord, Scope } from './api-keys.js';
import type { Currency } from './money.js';
import type { PlanName } from './plans.js';

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
  /**
   * Every charge created and every refund applied on `date` (`YYYY-MM-DD`, an Asia/Bangkok business
   * day), all pages read, for the daily reconciliation. `GET /v2/transactions` [ours, ?: KBank publishes no
   * report API].
   */
  listTransactions(date: string): Promise<KbankTransaction[]>;
}

/**
 * One entry of KBank's daily transaction list, normalized: amounts in minor units [ours, ?: KBank
 * publishes no report API; see kbankTransactionSchema in schemas/kbank.ts].
 */
export interface KbankTransaction {
  /** A charge created that day (any state), or a refund applied that day. */
  kind: 'charge' | 'refund';
  /** The charge id, or the refund's own id. */
  id: string;
  /** The charge; for a refund, the charge it gave money back on. */
  chargeId: string;
  /** QR / WeChat: KBank's order id. */
  orderId?: string;
  referenceOrder: string;
  sourceType: 'card' | 'alipay' | 'qr' | 'wechat';
  /** The charge's amount, or the refund's. */
  amount: number;
  currency: Currency;
  /** KBank's raw `status`, when listed. */
  status?: string;
  state: KbankQrState;
  /** For a charge, the refunded total so far; for a refund, its amount. */
  refundedAmount: number;
  /** KBank's 17-digit `YYYYMMDDHHmmssSSS`, Bangkok time. */
  created: string;
}

/**
 * States a QR / WeChat charge can be in: KBank's card states plus `Expired`, for an order nobody paid in
 * time [ours: KBank publishes neither the QR expiry nor how an inquiry reports it [?]]. Kept apart from
 * KBANK_STATES so the card path stays strict.
 */
export const KBANK_QR_STATES = [...KBANK_STATES, 'Expired'] as const;
export type KbankQrState = (typeof KBANK_QR_STATES)[number];

/** `source_type` of a QR order. Both are THB only [5×]. */
export type KbankQrSourceType = 'qr' | 'wechat';

export interface CreateQrOrderRequest {
  /** Minor units. */
  amount: number;
  /** Must be THB for both source types [5×]; KBank refuses anything else. */
  currency: Currency;
  /** Our unique reference for this attempt (≤ 50 chars); the handle for inquiry after a timeout. */
  referenceOrder: string;
  description: string;
  sourceType: KbankQrSourceType;
  metadata?: Record<string, string>;
}

/**
 * A QR order (`POST /qr/v2/order`). KBank publishes only `id` in the answer [?]: everything else is
 * optional and filled when the answer carries it (the simulator always sends them).
 */
export interface KbankQrOrder {
  /** KBank's order id: the handle for `createQr`, `inquireQr({orderId})` and `cancelQr`. */
  orderId: string;
  referenceOrder: string;
  /** The EMVCo (PromptPay) string to render as a QR image, when the order answer carries it [?]. */
  qrPayload?: string;
  /** When the QR stops being payable, ISO 8601, when the answer says [?]. */
  expiresAt?: string;
}

/** The separate "show the QR" call, `POST /qr/v2/qr` [2×, ?]. */
export interface CreateQrRequest {
  orderId: string;
  amount: number;
  currency: Currency;
  description: string;
  referenceOrder: string;
  /** Which QR to show; sent as KBank's `sof` ("ThaiQR" [2×] or "WeChat" [ours, ?]). Default `qr`. */
  sourceType?: KbankQrSourceType;
}

export interface KbankQr {
  orderId: string;
  qrPayload: string;
  /** The charge KBank opened for this QR, when the answer names it [?]. */
  chargeId?: string;
  expiresAt?: string;
}

/** Alipay goes through the card endpoint with `source_type: "alipay"` and no token [3×]. */
export interface ChargeAlipayRequest {
  amount: number;
  currency: Currency;
  referenceOrder: string;
  description: string;
  metadata?: Record<string, string>;
}

/**
 * A QR / WeChat charge as inquiry, cancel and notify show it: the card charge fields plus the order it
 * belongs to, with the wider QR state.
 */
export interface KbankQrCharge extends Omit<KbankCharge, 'state'> {
  state: KbankQrState;
  /** KBank's order id (`order_id`) [5×]. */
  orderId?: string;
}

/**
 * The asynchronous methods of KBank Payment Gateway: Thai QR and WeChat Pay orders, Alipay redirect
 * charges. Same error contract as KbankGateway (KbankUnavailable / KbankOutcomeUnknown / KbankRejected).
 * The outcome arrives later, by the notify webhook (see KbankNotification) and by inquiry; 3-D Secure card
 * charges use KbankGateway (chargeCard answers `Pre-Authorized` with `redirectUrl`, inquireCharge
 * confirms). Separate from KbankGateway so existing fakes and wiring keep compiling; merge them when the
 * saga uses both.
 */
export interface KbankAsyncGateway {
  /** `POST /qr/v2/order` [5×]. */
  createQrOrder(request: CreateQrOrderRequest): Promise<KbankQrOrder>;
  /** `POST /qr/v2/qr` [2×, ?]: the QR payload for an order, when the order answer did not carry it. */
  createQr(request: CreateQrRequest): Promise<KbankQr>;
  /**
   * `POST /card/v2/charge` with `source_type: "alipay"` [3×]: a charge waiting for the customer
   * (state `Initialize` [?]) whose `redirectUrl` the customer's browser must open.
   */
  chargeAlipay(request: ChargeAlipayRequest): Promise<KbankCharge>;
  /**
   * `GET /qr/v2/qr/{chargeId|orderId}` [5×]. null when KBank has no such charge or order (HTTP 404).
   * Paid = `status === "success" && state === "Authorized"` [?: KBank documents this for cards only].
   */
  inquireQr(ref: { chargeId: string } | { orderId: string }): Promise<KbankQrCharge | null>;
  /**
   * `POST /qr/v2/qr/{id}/void` [1×; another source shows GET: ?], with a charge id or an order id [ours],
   * before payment. After payment, see refundQr.
   */
  cancelQr(chargeIdOrOrderId: string, reason?: string): Promise<KbankQrCharge>;
  /**
   * Gives back money paid to a QR / WeChat order after our payment expired or was cancelled (the customer
   * paid too late, or paid an order we had given up on): a cancel is no longer possible once paid.
   * `POST /qr/v2/qr/{chargeId}/refund` body `{amount, reason}` [ours, ?: KBank publishes no QR refund
   * endpoint]; `amount` in minor units, the whole paid amount or part of it. The answer's `refundedAmount`
   * is the refunded total so far. Same error contract as the other methods.
   */
  refundQr(chargeId: string, amount: number, currency: Currency, reason: string): Promise<KbankQrCharge>;
}

/** Everything the saga and the callback processor ask of KBank. */
export type Kbank = KbankGateway & KbankAsyncGateway;

/**
 * A notify webhook that passed validation and the checksum, normalized. The amount and currency are OURS
 * (what the checksum was verified against), never the body's. Still re-inquire before acting on it: the
 * checksum has no timestamp, so a notification can be replayed [5×].
 */
export interface KbankNotification {
  chargeId: string;
  /** Present for QR / WeChat. */
  orderId?: string;
  referenceOrder?: string;
  /** KBank's raw `status`. */
  status: string;
  state: KbankQrState;
  /** Our stored amount, in minor units. */
  amount: number;
  currency: Currency;
  approvalCode?: string;
  failureCode?: string;
  failureMessage?: string;
  /** KBank's 17-digit creation timestamp, as sent. */
  created?: string;
}

export type KbankNotifyResult =
  | { ok: true; notification: KbankNotification }
  | { ok: false; reason: 'malformed' | 'checksum_mismatch' };

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

/**
 * The durable hand-off between the KBank callback endpoints and the notification processor (SQS with a
 * dead-letter queue on AWS; an in-process queue with the same retry semantics locally). `send` resolves
 * only once the message is stored: the endpoint answers 2xx after that, never before.
 */
export interface NotificationQueue {
  send(message: KbankCallback): Promise<void>;
}

/** What became of a saga run, as far as the reconciliation sweep cares. */
export type SagaRunStatus = 'running' | 'ended' | 'not_found';

/**
 * Starts a saga run, named by the payment (or refund) id, or by the name the sweep gives a restart.
 * Idempotent: starting the same name twice is not an error.
 */
export interface WorkflowStarter {
  start(name: string, input: Record<string, unknown>): Promise<void>;
}

/** The sweep's view of a state machine: start runs, and ask what became of one. */
export interface SagaRuns extends WorkflowStarter {
  /** Whether the run of that name is still running, has ended (any way), or was never started. */
  status(name: string): Promise<SagaRunStatus>;
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

/**
 * The answer stored under an Idempotency-Key, as the API sent it (the edge maps it; the core only keeps
 * it): replayed byte for byte. Keys stored before answers were kept as sent hold `body` as an object.
 */
export interface StoredResponse {
  statusCode: number;
  headers?: Record<string, string>;
  body: string | Record<string, unknown>;
}

/**
 * An Idempotency-Key claimed in the same transaction as what its request creates, with the answer to
 * store: the key and the resource can then never exist one without the other.
 */
export interface KeyClaim {
  scope: string;
  key: string;
  fingerprint: string;
  response: StoredResponse;
  now: Date;
}

/** What a key holds, as found by `IdempotencyStore.find`. */
export interface HeldKey {
  fingerprint: string;
  resourceId: string;
  /** Undefined while the request that holds it is in flight. */
  response?: StoredResponse;
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
  /**
   * Ends the lock of a request that finished without an answer to store (a retryable or unexpected
   * failure), so the same key may retry at once instead of waiting for the lock to expire. The key keeps
   * its fingerprint and resource id: the retry finishes the same resource. `reservedAt` is the `now` the
   * key was reserved with; a lock taken over since (or completed) is left alone.
   */
  release(request: { scope: string; key: string; reservedAt: Date; now: Date }): Promise<void>;
  /** What the key holds, or null if it was never used. */
  find(request: { scope: string; key: string }): Promise<HeldKey | null>;
}

export interface Merchant {
  id: string;
  name: string;
  /** Its request limits (functions/core/plans.ts); DEFAULT_PLAN when absent. */
  plan?: PlanName;
}

/**
 * What an API key's hash leads to: its merchant, the end of its validity if it has one (a rotation's
 * overlap, or a restricted key's expiry), and a restricted key's scopes.
 */
export interface ApiKeyGrant {
  merchant: Merchant;
  validUntil?: string;
  scopes?: Scope[];
}

export interface MerchantDirectory {
  /** What the API key that hashes to `keyHash` (SHA-256 hex) grants, or null (unknown or revoked). */
  findByApiKeyHash(keyHash: string): Promise<ApiKeyGrant | null>;
}

/** The operator's side of merchants and their keys (`npm run merchant`). */
export interface MerchantKeyStore {
  /** Writes a new merchant; false when one with this id exists. */
  createMerchant(merchant: Merchant & { createdAt: string }): Promise<boolean>;
  getMerchant(merchantId: string): Promise<(Merchant & { createdAt: string }) | null>;
  listMerchants(): Promise<(Merchant & { createdAt: string })[]>;
  /** The lookup item (by hash) and the directory's record of a key, written together. */
  addKey(keyHash: string, merchant: Merchant, key: ApiKeyRecord): Promise<void>;
  /** A merchant's keys, oldest first. */
  listKeys(merchantId: string): Promise<ApiKeyRecord[]>;
  /** Ends a key's validity at `validUntil` (a rotation's overlap), on both items. */
  expireKey(key: ApiKeyRecord, validUntil: string): Promise<void>;
  /** Deletes the lookup item (the key stops authenticating) and marks the record revoked. */
  revokeKey(key: ApiKeyRecord, revokedAt: string): Promise<void>;
  /** Moves the merchant to `plan`: its profile, then every key's lookup item (what the authorizer reads). */
  setPlan(merchantId: string, plan: PlanName): Promise<void>;
}

/**
 * Where a merchant's plan is enforced outside our code: API Gateway's usage plans in AWS (the merchant's
 * usage key joins its plan's usage plan). The local stack enforces plans from the authorizer's answer and
 * needs nothing here.
 */
export interface UsagePlans {
  assign(merchantId: string, plan: PlanName): Promise<void>;
}

/** Puts events on the bus (EventBridge on AWS, the local bus locally); resolves once all were accepted. */
export interface EventPublisher {
  publish(events: { type: string; detail: Record<string, unknown> }[]): Promise<void>;
}
