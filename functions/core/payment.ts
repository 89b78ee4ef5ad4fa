/**
 * The Payment aggregate: its statuses, the transition table, and the one pure function that turns a
 * payment plus a step into the next payment and the audit entry recorded with it.
 */
import { ConflictError } from './errors.js';
import type { Currency } from './money.js';
import type { OrderLine } from './ports.js';

export const PAYMENT_STATUSES = [
  'processing',
  'requires_action',
  'requires_capture',
  'unknown',
  'succeeded',
  'canceled',
  'failed',
  'rejected',
  'expired',
] as const;
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

export interface PaymentMethod {
  type: 'card';
  /** KBank one-time card token (10 minutes, single use). Never returned by the API. */
  token: string;
  card?: CardDetails;
}

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
  /** Number of KBank attempts made; the current one is ATTEMPT#<attemptCount>. */
  attemptCount: number;
  /** Version and audit sequence: every change increments it and writes AUDIT#<seq>. */
  seq: number;
  createdAt: string;
  updatedAt: string;
}

export type AuditActor = 'api' | 'saga' | 'operator';

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
  const at = now.toISOString();
  const next: Payment = { ...payment, ...step.patch, status: to, seq: payment.seq + 1, updatedAt: at };
  const audit: AuditEntry = {
    paymentId: payment.id,
    seq: next.seq,
    at,
    type: step.type,
    actor: step.actor,
    fromStatus: payment.status,
    toStatus: to,
    detail: step.detail ?? {},
  };
  return { previous: payment, next, audit };
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
  | 'not_found';

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
  kbankState?: string;
  approvalCode?: string;
  failureCode?: string;
  /** Capture request written ahead of the settle call; `captured` once KBank confirmed. */
  captureRequestedAt?: string;
  createdAt: string;
  updatedAt: string;
}

/** KBank's reference_order for attempt `no` of a payment: unique, ≤ 50 characters. */
export function referenceOrderFor(paymentId: string, no: number): string {
  return `${paymentId}-${no}`;
}
