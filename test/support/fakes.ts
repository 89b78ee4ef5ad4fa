/** In-memory fakes of the core's ports, for unit tests of use cases (adapters are tested for real). */
import {
  IdempotencyInFlightError,
  IdempotencyMismatchError,
  StaleWriteError,
} from '../../functions/core/errors.js';
import type { Attempt, AuditEntry, Change, Payment } from '../../functions/core/payment.js';
import type {
  Clock,
  CostQuote,
  CostService,
  IdempotencyStore,
  Kbank,
  KbankCharge,
  StoredResponse,
} from '../../functions/core/ports.js';
import {
  type AuditPosition,
  MAX_NOTES_PER_PAYMENT,
  type PaymentRepository,
} from '../../functions/core/repository.js';

export class MemoryRepository implements PaymentRepository {
  payments = new Map<string, Payment>();
  attempts = new Map<string, Attempt>();
  audit: AuditEntry[] = [];

  async create(payment: Payment, audit: AuditEntry): Promise<boolean> {
    if (this.payments.has(payment.id)) return false;
    this.payments.set(payment.id, structuredClone(payment));
    this.audit.push(audit);
    return true;
  }
  async get(id: string) {
    const payment = this.payments.get(id);
    return payment ? structuredClone(payment) : null;
  }
  async commit(change: Change, attempt?: Attempt) {
    const current = this.payments.get(change.previous.id);
    if (!current || current.seq !== change.previous.seq || current.status !== change.previous.status) {
      throw new StaleWriteError('stale');
    }
    this.payments.set(change.next.id, structuredClone(change.next));
    // Notes on the previous version first: the trail lists them before the new version.
    this.audit.push(...(change.notes ?? []), change.audit);
    if (attempt) this.attempts.set(`${attempt.paymentId}#${attempt.no}`, structuredClone(attempt));
  }
  async getAttempt(paymentId: string, no: number) {
    const attempt = this.attempts.get(`${paymentId}#${no}`);
    return attempt ? structuredClone(attempt) : null;
  }
  notesOffered = new Map<string, number>();
  markers = new Set<string>();
  async listAudit(paymentId: string, page: { limit: number; after?: number | AuditPosition }) {
    const after = typeof page.after === 'number' ? { seq: page.after } : page.after;
    const position = (e: { seq: number; noteId?: string }) =>
      `${String(e.seq).padStart(8, '0')}#${e.noteId ?? ''}`;
    const all = this.audit
      .filter((e) => e.paymentId === paymentId && (!after || position(e) > position(after)))
      .sort((a, b) => (position(a) < position(b) ? -1 : 1));
    return { entries: all.slice(0, page.limit), hasMore: all.length > page.limit };
  }
  async appendNote(entry: AuditEntry & { noteId: string }) {
    const offered = (this.notesOffered.get(entry.paymentId) ?? 0) + 1;
    this.notesOffered.set(entry.paymentId, offered);
    if (offered > MAX_NOTES_PER_PAYMENT) return false;
    this.audit.push(structuredClone(entry));
    return true;
  }
  async claimMarker(paymentId: string, marker: string) {
    const key = `${paymentId}#${marker}`;
    if (this.markers.has(key)) return false;
    this.markers.add(key);
    return true;
  }
  /** Payments marked due, in order, and the instant each was last marked due at. */
  dueNow: string[] = [];
  dueAt = new Map<string, string>();
  async markDue(paymentId: string, at: string) {
    this.dueNow.push(paymentId);
    this.dueAt.set(paymentId, at);
  }
  async hasMarker(paymentId: string, marker: string) {
    return this.markers.has(`${paymentId}#${marker}`);
  }
  types(paymentId: string): string[] {
    return this.audit.filter((e) => e.paymentId === paymentId).map((e) => e.type);
  }
}

export const fixedClock = (iso = '2026-11-22T04:00:00.000Z'): Clock => ({ now: () => new Date(iso) });

export function charge(overrides: Partial<KbankCharge> = {}): KbankCharge {
  return {
    chargeId: 'chrg_test_1',
    referenceOrder: 'ref',
    status: 'success',
    state: 'Authorized',
    amount: 70900,
    currency: 'THB',
    approvalCode: '123456',
    card: { brand: 'VISA', masked: '411111xxxxxx1111' },
    ...overrides,
  };
}

/** A KBank fake whose every method is scripted by the test; unscripted calls fail loudly. */
export function scriptedKbank(script: Partial<Kbank>): Kbank & { calls: string[] } {
  const calls: string[] = [];
  const missing = (name: string) => async () => {
    throw new Error(`unexpected KBank call: ${name}`);
  };
  const wrap =
    <A extends unknown[], R>(name: string, fn: ((...args: A) => Promise<R>) | undefined) =>
    async (...args: A): Promise<R> => {
      calls.push(name);
      return (fn ?? (missing(name) as unknown as (...args: A) => Promise<R>))(...args);
    };
  return {
    calls,
    chargeCard: wrap('chargeCard', script.chargeCard),
    inquireCharge: wrap('inquireCharge', script.inquireCharge),
    voidCharge: wrap('voidCharge', script.voidCharge),
    settleCharge: wrap('settleCharge', script.settleCharge),
    refundCharge: wrap('refundCharge', script.refundCharge),
    createQrOrder: wrap('createQrOrder', script.createQrOrder),
    createQr: wrap('createQr', script.createQr),
    chargeAlipay: wrap('chargeAlipay', script.chargeAlipay),
    inquireQr: wrap('inquireQr', script.inquireQr),
    cancelQr: wrap('cancelQr', script.cancelQr),
    refundQr: wrap('refundQr', script.refundQr),
    listTransactions: wrap('listTransactions', script.listTransactions),
  };
}

export function fixedCost(totalAmount: number): CostService {
  return {
    quote: async (order): Promise<CostQuote> => ({
      orderId: order.orderId,
      currency: order.currency,
      totalAmount,
    }),
  };
}

/** Idempotency keys in memory: claim, replay once completed, refuse another request under the key. */
export class MemoryIdempotency implements IdempotencyStore {
  keys = new Map<
    string,
    { fingerprint: string; resourceId: string; response?: StoredResponse; released?: boolean }
  >();
  async reserve(request: { scope: string; key: string; fingerprint: string; resourceId: string }) {
    const id = `${request.scope}#${request.key}`;
    const held = this.keys.get(id);
    if (!held) {
      this.keys.set(id, { fingerprint: request.fingerprint, resourceId: request.resourceId });
      return { kind: 'proceed' as const, resourceId: request.resourceId };
    }
    if (held.fingerprint !== request.fingerprint) throw new IdempotencyMismatchError('reused');
    if (!held.response && held.released) {
      held.released = false;
      return { kind: 'proceed' as const, resourceId: held.resourceId };
    }
    if (!held.response) throw new IdempotencyInFlightError('in flight');
    return { kind: 'replay' as const, resourceId: held.resourceId, response: held.response };
  }
  async complete(request: { scope: string; key: string; response: StoredResponse }) {
    const held = this.keys.get(`${request.scope}#${request.key}`);
    if (held) held.response = request.response;
  }
  async release(request: { scope: string; key: string }) {
    const held = this.keys.get(`${request.scope}#${request.key}`);
    if (held && !held.response) held.released = true;
  }
  async find(request: { scope: string; key: string }) {
    const held = this.keys.get(`${request.scope}#${request.key}`);
    if (!held) return null;
    const { fingerprint, resourceId, response } = held;
    return { fingerprint, resourceId, ...(response ? { response } : {}) };
  }
}
