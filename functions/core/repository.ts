/** The port for payment storage: the payment item, its attempts and its append-only audit trail. */
import type { ReconciliationException } from '../../schemas/events.js';
import type { Attempt, AuditEntry, Change, Payment, PaymentStatus } from './payment.js';
import type { KeyClaim } from './ports.js';
import type { Refund, RefundStatus } from './refund.js';

/** One page of a cursor-paginated list: `nextCursor` continues after its last item while `hasMore`. */
export interface Page<T> {
  items: T[];
  hasMore: boolean;
  nextCursor: string | null;
}

export interface PaymentRepository {
  /**
   * Writes a new payment with its first audit entry and, given a claim, its Idempotency-Key with the
   * answer to store, in one transaction. Returns false, writing nothing, if that payment id or that key
   * already exists.
   */
  create(payment: Payment, audit: AuditEntry, claim?: KeyClaim): Promise<boolean>;
  get(paymentId: string): Promise<Payment | null>;
  /**
   * Writes the next payment version, its audit entry and (optionally) an attempt in one transaction,
   * conditioned on the stored payment still being `change.previous` (same seq and status). Throws
   * StaleWriteError when another writer got there first.
   */
  commit(change: Change, attempt?: Attempt): Promise<void>;
  getAttempt(paymentId: string, no: number): Promise<Attempt | null>;
  /**
   * Audit entries oldest first (by sequence, each version's notes after it), starting after the entry at
   * `after` (a sequence alone: after that version's own entry, before its notes).
   */
  listAudit(
    paymentId: string,
    page: { limit: number; after?: number | AuditPosition },
  ): Promise<{ entries: AuditEntry[]; hasMore: boolean }>;
  /**
   * Writes a note (payment.noteEntry) beside the audit trail without touching the payment item, so it
   * never races a status change. At most MAX_NOTES_PER_PAYMENT notes are kept per payment; beyond that
   * they are only counted. Returns false when the note was counted but not kept.
   */
  appendNote(entry: AuditEntry & { noteId: string }): Promise<boolean>;
  /**
   * Claims a one-time marker on a payment (a KBank callback's charge and state, a reversal done), without
   * touching the payment item. True for the first claim, false for every later one.
   */
  claimMarker(paymentId: string, marker: string, at: string): Promise<boolean>;
  hasMarker(paymentId: string, marker: string): Promise<boolean>;
  /**
   * Makes an open payment due at `at` (sooner than its deadline) without taking its version: a request that
   * could not reach its saga is carried out by the next sweep. No effect on a payment that is not open.
   */
  markDue(paymentId: string, at: string): Promise<void>;
}

/** Where an audit entry sits in the trail: its sequence, and its note id for a note. */
export interface AuditPosition {
  seq: number;
  noteId?: string;
}

/** Notes kept per payment; a flood beyond this (forged notifies, replays) is counted, not stored. */
export const MAX_NOTES_PER_PAYMENT = 100;

/** A place in a merchant's payments, newest first: the last payment a page returned (or examined). */
export interface PaymentPosition {
  createdAt: string;
  paymentId: string;
}

export interface PaymentSearchQuery {
  merchantId: string;
  /** Only payments in one of these statuses (absent: all). */
  statuses?: readonly PaymentStatus[];
  /** Created at or after this instant (ISO 8601, UTC, millisecond precision). */
  createdGte?: string;
  /** Created strictly before this instant (ISO 8601, UTC, millisecond precision). */
  createdLt?: string;
  limit: number;
  /** Continue strictly after (older than) this position. */
  after?: PaymentPosition;
}

/**
 * A merchant's payments, newest first (ties by id, descending), read from the merchant index, never a
 * scan. A page may hold fewer than `limit` payments while `next` is set, when a status filter matched
 * few of the payments examined within the per-request budget.
 */
export interface PaymentSearch {
  searchPayments(query: PaymentSearchQuery): Promise<{ payments: Payment[]; next: PaymentPosition | null }>;
}

/**
 * Refund storage: the refund items of a payment (`PAYMENT#<pid>` / `REFUND#<refundId>`), always written in
 * the same transaction as the payment version and audit entry that account for them.
 */
export interface RefundRepository {
  /**
   * One transaction: the payment's next version (conditioned on `change.previous`'s seq and status, like
   * `commit`), its audit entry, and the refund's new state (conditioned on the refund not existing when
   * `previousStatus` is null, else on it still having that status). With `reserve`, the payment write is
   * also conditioned on the stored payment having at least that much refundable left, so the database
   * itself refuses an over-reservation. Throws StaleWriteError when any condition fails.
   */
  commitRefund(
    change: Change,
    refund: { next: Refund; previousStatus: RefundStatus | null; reserve?: number },
  ): Promise<void>;
  /**
   * Updates a refund without touching the payment (the "sent" marker written just before the KBank call),
   * conditioned on the stored refund still being `previous` (status and kbankCalls). StaleWriteError if not.
   */
  updateRefund(next: Refund, previous: Refund): Promise<void>;
  getRefund(paymentId: string, refundId: string): Promise<Refund | null>;
  /** A payment's refunds, oldest first, starting after refund id `after`. */
  listRefunds(
    paymentId: string,
    page: { limit: number; after?: string },
  ): Promise<{ refunds: Refund[]; hasMore: boolean }>;
}

/** An open payment or refund in the sweep's index, with its deadline (or, when unresolved, since when). */
export interface DueItem {
  kind: 'payment' | 'refund';
  paymentId: string;
  refundId?: string;
  at: string;
}

/** The sweep's sparse index (GSI3): open items by deadline, and those given up to an operator. */
export interface ReconciliationIndex {
  /** Open items whose deadline is before `before`, earliest first, at most `limit`. */
  listDue(before: string, limit: number): Promise<DueItem[]>;
  /** Items marked unresolved, oldest first. */
  listUnresolved(limit: number): Promise<DueItem[]>;
}

/** One run of the daily KBank reconciliation, as stored (`RECONCILIATION#<date>` / `RUN#<runId>`). */
export interface ReconciliationRun {
  id: string;
  /** The Asia/Bangkok business day reconciled, `YYYY-MM-DD`. */
  date: string;
  startedAt: string;
  finishedAt: string;
  counts: Record<string, number>;
  /** The first MAX_STORED_EXCEPTIONS exceptions; the counts have them all. */
  exceptions: ReconciliationException[];
}

export const MAX_STORED_EXCEPTIONS = 200;

/** Storage of the KBank reconciliation: its runs, and our attempts by the day they were made. */
export interface ReconciliationStore {
  saveRun(run: ReconciliationRun): Promise<void>;
  /** A day's runs, oldest first. */
  listRuns(date: string): Promise<ReconciliationRun[]>;
  /** Attempts made on that Bangkok day (access pattern 13), for "missing" money. */
  listAttemptsOfDay(date: string): Promise<Attempt[]>;
}
