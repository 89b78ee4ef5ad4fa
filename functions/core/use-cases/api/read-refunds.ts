/** Use case: a payment's refunds, oldest first, cursor-paginated. Another merchant's payment does not exist. */
import { NotFoundError, ValidationError } from '../../errors.js';
import type { Refund } from '../../refund.js';
import type { Page, PaymentRepository, RefundRepository } from '../../repository.js';

export async function listRefunds(
  deps: { repo: PaymentRepository & RefundRepository },
  query: { merchantId: string; paymentId: string; limit: number; cursor?: string },
): Promise<Page<Refund>> {
  const payment = await deps.repo.get(query.paymentId);
  if (!payment || payment.merchantId !== query.merchantId) {
    throw new NotFoundError(`No payment ${query.paymentId}.`);
  }
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const page = await deps.repo.listRefunds(payment.id, { limit: query.limit, ...(after ? { after } : {}) });
  const last = page.refunds.at(-1);
  return {
    items: page.refunds,
    hasMore: page.hasMore,
    nextCursor: page.hasMore && last ? encodeCursor(last.id) : null,
  };
}

function encodeCursor(refundId: string): string {
  return Buffer.from(JSON.stringify({ after: refundId })).toString('base64url');
}

function decodeCursor(cursor: string): string {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const after = (parsed as { after?: unknown }).after;
    if (typeof after === 'string' && /^re_[0-9A-HJKMNP-TV-Z]{26}$/.test(after)) return after;
  } catch {
    // fall through to the typed error below
  }
  throw new ValidationError('Invalid cursor.', [
    { field: 'cursor', message: 'not a cursor this API returned' },
  ]);
}
