/** In-memory refund storage for unit tests: the same conditions as the DynamoDB adapter, checked in memory. */
import { StaleWriteError } from '../../functions/core/errors.js';
import type { Change, Payment } from '../../functions/core/payment.js';
import { type Refund, type RefundStatus, refundableAmount } from '../../functions/core/refund.js';
import type { RefundRepository } from '../../functions/core/repository.js';
import { MemoryRepository } from './fakes.js';
import { aPayment } from './payments.js';

export class MemoryRefundRepository extends MemoryRepository implements RefundRepository {
  refunds = new Map<string, Refund>();

  async commitRefund(
    change: Change,
    refund: { next: Refund; previousStatus: RefundStatus | null; reserve?: number },
  ): Promise<void> {
    const current = this.payments.get(change.previous.id);
    const stored = this.refunds.get(refund.next.id);
    const refundOk = refund.previousStatus === null ? !stored : stored?.status === refund.previousStatus;
    const fits = refund.reserve === undefined || (current && refundableAmount(current) >= refund.reserve);
    if (!current || current.seq !== change.previous.seq || current.status !== change.previous.status) {
      throw new StaleWriteError('stale payment');
    }
    if (!refundOk || !fits) throw new StaleWriteError('refund condition failed');
    this.payments.set(change.next.id, structuredClone(change.next));
    this.audit.push(change.audit);
    this.refunds.set(refund.next.id, structuredClone(refund.next));
  }

  async updateRefund(next: Refund, previous: Refund): Promise<void> {
    const stored = this.refunds.get(previous.id);
    if (!stored || stored.status !== previous.status || stored.kbankCalls !== previous.kbankCalls) {
      throw new StaleWriteError('stale refund');
    }
    this.refunds.set(next.id, structuredClone(next));
  }

  async getRefund(paymentId: string, refundId: string): Promise<Refund | null> {
    const refund = this.refunds.get(refundId);
    return refund && refund.paymentId === paymentId ? structuredClone(refund) : null;
  }

  async listRefunds(paymentId: string, page: { limit: number; after?: string }) {
    const all = [...this.refunds.values()]
      .filter((r) => r.paymentId === paymentId && (page.after === undefined || r.id > page.after))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    return {
      refunds: all.slice(0, page.limit).map((r) => structuredClone(r)),
      hasMore: all.length > page.limit,
    };
  }
}

/** A captured (succeeded) payment of 10000, as the payment saga leaves it. */
export function capturedPayment(overrides: Partial<Payment> = {}): Payment {
  const { payment } = aPayment(
    { id: 'pay_01JD3Q4V7M0000000000000000', merchantId: 'merchant_1', amount: 10000 },
    new Date('2026-11-22T03:00:00.000Z'),
  );
  return {
    ...payment,
    status: 'succeeded',
    amountAuthorized: 10000,
    amountCaptured: 10000,
    attemptCount: 1,
    seq: 5,
    updatedAt: '2026-11-22T03:00:05.000Z',
    ...overrides,
  };
}
