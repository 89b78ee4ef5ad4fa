/**
 * The Payment aggregate: its statuses, the transition table, and the one pure function that turns a
 * payment plus a step into the next payment and the audit entry recorded with it.
 */
import type { PaymentEventDetail, PointsEventDetail, RefundEventDetail } from '../../schemas/events.js';
import { ConflictError } from './errors.js';
import type { Currency } from './money.js';
import { type PaymentPoints, type PointsChange, pointsAtEnd, pointsChangeOf } from './points.js';
import type { OrderLine } from './ports.js';
import { type PAYMENT_METHOD_TYPES, PAYMENT_STATUSES } from './vocabulary.js';

export { PAYMENT_METHOD_TYPES, PAYMENT_STATUSES } from './vocabulary.js';

export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/**
 * Allowed status changes. `unknown` means KBank may or may not have acted: only an inquiry moves a
 * payment out of it, never a guess. Terminal statuses have no way out (refunds are their own records).
 */
export const TRANSITIONS: Readonly<Record<PaymentStatus, readonly PaymentStatus[]>> = {
  processing: [
    'requires_action',
    'requires_capture',
    'unknown',
    'succeeded',
    'canceled',
    'failed',
    'rejected',
  ],
  requires_action: ['processing', 'unknown', 'succeeded', 'canceled', 'failed', 'expired'],
  requires_capture: ['processing', 'unknown', 'succeeded', 'canceled'],
  unknown: ['processing', 'requires_action', 'requires_capture', 'succeeded', 'canceled', 'failed'],
  succeeded: [],
  canceled: [],
  failed: [],
  rejected: [],
  expired: [],
};

export const TERMINAL_STATUSES: readonly PaymentStatus[] = PAYMENT_STATUSES.filter(
  (status) => TRANSITIONS[status].length === 0,
);

export function isTerminal(status: PaymentStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** A step may keep the status (e.g. an authorization in automatic-capture mode) unless it is terminal. */
export function canTransition(from: PaymentStatus, to: PaymentStatus): boolean {
  return from === to ? !isTerminal(from) : TRANSITIONS[from].includes(to);
}

export type CaptureMethod = 'automatic' | 'manual';

export interface CardDetails {
  brand?: string;
  /** KBank's masked number, e.g. "411111xxxxxx1111". Never the PAN. */
  masked?: string;
}

export type PaymentMethodType = (typeof PAYMENT_METHOD_TYPES)[number];

export interface CardPaymentMethod {
  type: 'card';
  /** KBank one-time card token (10 minutes, single use). Never returned by the API. */
  token: string;
  card?: CardDetails;
}

/**
 * Methods the customer completes away from us: Thai QR (PromptPay) and WeChat Pay by scanning a QR,
 * Alipay on KBank's page. KBank takes the money when the customer pays: there is no separate capture.
 */
export interface CustomerActionMethod {
  type: Exclude<PaymentMethodType, 'card'>;
}

/** The whole amount in points (Payment.points says how many); no KBank charge at all. */
export interface PointsPaymentMethod {
  type: 'points';
}

export type PaymentMethod = CardPaymentMethod | CustomerActionMethod | PointsPaymentMethod;

/** Thai QR and WeChat Pay live under KBank's /qr endpoints; cards and Alipay under /card. */
export function isQrMethod(method: PaymentMethod): boolean {
  return method.type === 'qr_promptpay' || method.type === 'wechat_pay';
}

/** What the customer must do while the payment is `requires_action`. */
export type NextAction =
  | { type: 'display_qr'; qrPayload: string; expiresAt: string }
  | { type: 'redirect_to_url'; url: string; expiresAt: string };

export interface Customer {
  id: string;
  email?: string;
  name?: string;
}

export interface Failure {
  code: string;
  message: string;
}

export interface Payment {
  id: string;
  merchantId: string;
  status: PaymentStatus;
  amount: number;
  currency: Currency;
  captureMethod: CaptureMethod;
  amountAuthorized: number;
  amountCaptured: number;
  /** Refunds KBank confirmed (functions/core/refund.ts). Absent on payments stored before refunds: 0. */
  amountRefunded?: number;
  /** Reserved by refunds not settled yet (pending, or unknown at KBank). Absent: 0. */
  amountRefundPending?: number;
  order: { id: string; lines: OrderLine[] };
  customer: Customer;
  paymentMethod: PaymentMethod;
  /**
   * The points part (functions/core/points.ts): all of `amount` for a points payment, or part of it beside
   * the other method (a split: KBank charges `amount − points.value`). Absent: no points.
   */
  points?: PaymentPoints;
  description?: string;
  metadata?: Record<string, string>;
  failure?: Failure;
  cancellationReason?: string;
  /** When the cost service confirmed the order total. */
  verifiedAt?: string;
  /** Manual capture: what may still be captured (while `requires_capture`) and until when. */
  amountCapturable?: number;
  captureBefore?: string;
  /** Manual capture: the amount the merchant asked to capture (≤ amountCapturable). */
  amountToCapture?: number;
  /** The parked saga's task token while it waits for the merchant (never leaves through the API). */
  captureToken?: string;
  /**
   * The Idempotency-Key of the merchant request (capture or cancel) recorded but maybe not yet handed to
   * the saga: a retry of that same request resumes the saga again; any other request is refused.
   */
  requestKey?: string;
  /** How long the customer has for a QR, wallet or 3-D Secure step, fixed at creation (seconds). */
  actionWindowSeconds?: number;
  /** While `requires_action`: what the customer must do, and until when. */
  nextAction?: NextAction;
  /** The saga's task token while it waits for the customer (never leaves through the API). */
  actionToken?: string;
  /** KBank callbacks already recorded, as `<chargeId>:<state>`: a repeat is recorded as a duplicate. */
  callbacksSeen?: string[];
  /** What the reconciliation sweep did to this payment (functions/core/reconciliation.ts). */
  reconciliation?: Reconciliation;
  /**
   * Events of this payment or its refunds the bus refused after the saga's retries, oldest first. Held, the
   * payment is due for the sweep (terminal or not); the run it resumes publishes them before anything else.
   */
  undeliveredEvents?: HeldEvent[];
  /**
   * The payment failed after charge calls whose answers never came and whose inquiries found nothing: a
   * request still on its way may yet land at KBank. At this time the sweep asks KBank once more for each
   * attempt's reference and gives back any money it finds; cleared once asked.
   */
  lateChargeCheckAt?: string;
  /** Number of KBank attempts made; the current one is ATTEMPT#<attemptCount>. */
  attemptCount: number;
  /** Version and audit sequence: every change increments it and writes AUDIT#<seq>. */
  seq: number;
  createdAt: string;
  updatedAt: string;
}

/** What the sweep has done to a payment or refund so far; absent until it first acts (reconciliation.ts). */
export interface Reconciliation {
  /** Saga runs the sweep started (0: only the original). The current run's name follows from it. */
  restarts: number;
  /** Times the sweep acted on it (restarts, and looks at a saga still running past due): the backoff step. */
  sweeps: number;
  /** Not looked at again before this instant. */
  nextAt?: string;
  /** Set once the bounded schedule is spent: the payment waits for an operator (runbook). */
  unresolvedAt?: string;
  reason?: string;
}

/** An event held on its payment until a saga run publishes it (`Payment.undeliveredEvents`). */
export type HeldEvent = PaymentEventDetail | RefundEventDetail | PointsEventDetail;

/** The held events with `event` among them, once, in sequence order. */
export function holdEvent(held: readonly HeldEvent[] | undefined, event: HeldEvent): HeldEvent[] {
  return [...(held ?? []).filter((other) => other.event_id !== event.event_id), event].sort(
    (a, b) => (a.sequence ?? 0) - (b.sequence ?? 0),
  );
}

/** The held events without the one published again; undefined when none is left. */
export function releaseEvent(
  held: readonly HeldEvent[] | undefined,
  eventId: string,
): HeldEvent[] | undefined {
  const left = (held ?? []).filter((event) => event.event_id !== eventId);
  return left.length > 0 ? left : undefined;
}

/** Who made the change; `kbank` for callbacks KBank (or a browser it sent) delivered. */
export type AuditActor = 'api' | 'saga' | 'kbank' | 'operator';

/** One append-only line of a payment's audit trail, written in the same transaction as the change. */
export interface AuditEntry {
  paymentId: string;
  seq: number;
  at: string;
  /** What happened, past tense: `payment.created`, `authorization.requested`, `payment.captured`, … */
  type: string;
  actor: AuditActor;
  fromStatus: PaymentStatus | null;
  toStatus: PaymentStatus;
  detail: Record<string, unknown>;
  /**
   * Set on a note (see noteEntry): an entry that changes nothing on the payment and so takes no version. It
   * carries the sequence of the version it follows and sorts after it, by this time-ordered id.
   */
  noteId?: string;
}

/** A step to apply: what happened, the status it leads to (default: unchanged) and the fields it sets. */
export interface Step {
  type: string;
  actor: AuditActor;
  status?: PaymentStatus;
  patch?: Partial<Omit<Payment, 'id' | 'merchantId' | 'seq' | 'createdAt' | 'updatedAt' | 'status'>>;
  detail?: Record<string, unknown>;
}

export interface Change {
  previous: Payment;
  next: Payment;
  audit: AuditEntry;
  /** Notes on the previous version written in the same commit (what an earlier step left to record). */
  notes?: (AuditEntry & { noteId: string })[];
  /** What the change does to the customer's points, in the same transaction (a hold taken, spent, given back). */
  points?: PointsChange;
}

/**
 * A note on the payment in any status, terminal ones included: an audit entry (and the next sequence)
 * without a status change, e.g. a KBank callback received after the payment ended, or a refund.
 */
export function noteStep(payment: Payment, step: Omit<Step, 'status'>, now: Date): Change {
  return changeTo(payment, step, payment.status, now);
}

/**
 * A note that must not contend with the payment's version: what a KBank callback (forged, duplicate, or
 * checked) or anyone without the merchant's credentials makes us record. It is written beside the trail
 * (PaymentRepository.appendNote), never in the payment's transaction, so no amount of them can delay a
 * status change. `noteId` is time-ordered (ulid) so notes sort in the order they were made.
 */
export function noteEntry(
  payment: Payment,
  step: Omit<Step, 'status' | 'patch'>,
  now: Date,
  noteId: string,
): AuditEntry & { noteId: string } {
  return {
    paymentId: payment.id,
    seq: payment.seq,
    at: now.toISOString(),
    type: step.type,
    actor: step.actor,
    fromStatus: payment.status,
    toStatus: payment.status,
    detail: step.detail ?? {},
    noteId,
  };
}

/** Applies a step: checks the transition, bumps the sequence, and describes the audit entry. Pure. */
export function applyStep(payment: Payment, step: Step, now: Date): Change {
  const to = step.status ?? payment.status;
  if (!canTransition(payment.status, to)) {
    throw new ConflictError(
      `payment ${payment.id} cannot go from ${payment.status} to ${to}`,
      'invalid_transition',
    );
  }
  return changeTo(payment, step, to, now);
}

function changeTo(payment: Payment, step: Step, to: PaymentStatus, now: Date): Change {
  const at = now.toISOString();
  const next: Payment = { ...payment, ...step.patch, status: to, seq: payment.seq + 1, updatedAt: at };
  // A payment that ends spends its held points (captured) or gives them back (every other end), in the
  // same transaction as its end: no step can end a payment and leave its points held.
  if (next.points && isTerminal(to)) next.points = pointsAtEnd(next.points, to === 'succeeded');
  const points = pointsChangeOf(payment.merchantId, payment.id, payment.points, next.points, now);
  const audit: AuditEntry = {
    paymentId: payment.id,
    seq: next.seq,
    at,
    type: step.type,
    actor: step.actor,
    fromStatus: payment.status,
    toStatus: to,
    detail: {
      ...step.detail,
      ...(points
        ? {
            points: { movement: points.entry.type, points: points.entry.points, movementId: points.entry.id },
          }
        : {}),
    },
  };
  return { previous: payment, next, audit, ...(points ? { points } : {}) };
}

/** The first version of a payment and its first audit entry. */
export function newPayment(
  fields: Omit<
    Payment,
    'status' | 'seq' | 'createdAt' | 'updatedAt' | 'attemptCount' | 'amountAuthorized' | 'amountCaptured'
  >,
  now: Date,
): { payment: Payment; audit: AuditEntry } {
  const at = now.toISOString();
  const payment: Payment = {
    ...fields,
    status: 'processing',
    amountAuthorized: 0,
    amountCaptured: 0,
    attemptCount: 0,
    seq: 1,
    createdAt: at,
    updatedAt: at,
  };
  const audit: AuditEntry = {
    paymentId: payment.id,
    seq: 1,
    at,
    type: 'payment.created',
    actor: 'api',
    fromStatus: null,
    toStatus: 'processing',
    detail: { amount: payment.amount, currency: payment.currency, orderId: payment.order.id },
  };
  return { payment, audit };
}

export type AttemptState =
  | 'pending'
  | 'authorized'
  | 'declined'
  | 'unknown'
  | 'captured'
  | 'voided'
  | 'not_found'
  /** A QR order or wallet charge waiting for the customer. */
  | 'awaiting_customer'
  /** Never shown to the customer (its creation's answer was lost): it expires unpaid at KBank. */
  | 'abandoned'
  /** The customer never paid in time; canceled at KBank. */
  | 'expired';

/**
 * One KBank authorization attempt. Persisted with its unique `referenceOrder` before KBank is called,
 * so that a charge KBank made can always be found again, even if we never saw the answer.
 */
export interface Attempt {
  paymentId: string;
  no: number;
  referenceOrder: string;
  state: AttemptState;
  /** How many times the charge request was sent for this attempt (only re-sent when KBank has no record). */
  chargeCalls: number;
  chargeId?: string;
  /** QR / WeChat: KBank's order id (the charge id comes with the payment). */
  orderId?: string;
  kbankState?: string;
  approvalCode?: string;
  failureCode?: string;
  /** Capture request written ahead of the settle call; `captured` once KBank confirmed. */
  captureRequestedAt?: string;
  /**
   * The expiry's cancel, written ahead of the call to KBank: from then on the expiry decides, since KBank
   * may still carry out a cancel whose answer was lost after the customer paid.
   */
  expiryCancelSentAt?: string;
  createdAt: string;
  updatedAt: string;
}

/** KBank's reference_order for attempt `no` of a payment: unique, ≤ 50 characters. */
export function referenceOrderFor(paymentId: string, no: number): string {
  return `${paymentId}-${no}`;
}

/** The payment and attempt a reference_order names, or null when it is not one of ours. */
export function parseReferenceOrder(referenceOrder: string): { paymentId: string; no: number } | null {
  const match = /^(pay_[0-9A-HJKMNP-TV-Z]{26})-([1-9][0-9]{0,2})$/.exec(referenceOrder);
  if (!match?.[1] || !match[2]) return null;
  return { paymentId: match[1], no: Number(match[2]) };
}
