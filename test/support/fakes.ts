/** In-memory fakes of the core's ports, for unit tests of use cases (adapters are tested for real). */
import { StaleWriteError } from '../../functions/core/errors.js';
import type { Attempt, AuditEntry, Change, Payment } from '../../functions/core/payment.js';
import type { Clock, CostQuote, CostService, Kbank, KbankCharge } from '../../functions/core/ports.js';
import type { PaymentRepository } from '../../functions/core/repository.js';

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
    this.audit.push(change.audit);
    if (attempt) this.attempts.set(`${attempt.paymentId}#${attempt.no}`, structuredClone(attempt));
  }
  async getAttempt(paymentId: string, no: number) {
    const attempt = this.attempts.get(`${paymentId}#${no}`);
    return attempt ? structuredClone(attempt) : null;
  }
  async listAudit(paymentId: string, page: { limit: number; after?: number }) {
    const all = this.audit.filter((e) => e.paymentId === paymentId && e.seq > (page.after ?? 0));
    return { entries: all.slice(0, page.limit), hasMore: all.length > page.limit };
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
