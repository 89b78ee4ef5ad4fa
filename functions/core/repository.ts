/** The port for payment storage: the payment item, its attempts and its append-only audit trail. */
import type { Attempt, AuditEntry, Change, Payment } from './payment.js';

export interface PaymentRepository {
  /** Writes a new payment with its first audit entry. Returns false if that payment id already exists. */
  create(payment: Payment, audit: AuditEntry): Promise<boolean>;
  get(paymentId: string): Promise<Payment | null>;
  /**
   * Writes the next payment version, its audit entry and (optionally) an attempt in one transaction,
   * conditioned on the stored payment still being `change.previous` (same seq and status). Throws
   * StaleWriteError when another writer got there first.
   */
  commit(change: Change, attempt?: Attempt): Promise<void>;
  getAttempt(paymentId: string, no: number): Promise<Attempt | null>;
  /** Audit entries oldest first, starting after sequence `after`. */
  listAudit(
    paymentId: string,
    page: { limit: number; after?: number },
  ): Promise<{ entries: AuditEntry[]; hasMore: boolean }>;
}
