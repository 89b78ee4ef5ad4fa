/** Use cases that read: one payment, and its audit trail. Another merchant's payment does not exist. */
import { ValidationError } from '../../errors.js';
import { ownedPayment } from '../../flows/merchant-requests.js';
import type { AuditEntry, Payment } from '../../payment.js';
import type { AuditPosition, Page, PaymentRepository } from '../../repository.js';

export async function getPayment(
  deps: { repo: PaymentRepository },
  query: { merchantId: string; paymentId: string },
): Promise<Payment> {
  return ownedPayment(deps.repo, query.merchantId, query.paymentId);
}

export async function listPaymentEvents(
  deps: { repo: PaymentRepository },
  query: { merchantId: string; paymentId: string; limit: number; cursor?: string },
): Promise<Page<AuditEntry>> {
  await ownedPayment(deps.repo, query.merchantId, query.paymentId);
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const page = await deps.repo.listAudit(query.paymentId, {
    limit: query.limit,
    ...(after ? { after } : {}),
  });
  const last = page.entries.at(-1);
  return {
    items: page.entries,
    hasMore: page.hasMore,
    nextCursor: page.hasMore && last ? encodeCursor(last) : null,
  };
}

function encodeCursor(last: AuditPosition): string {
  const position = last.noteId ? { after: last.seq, note: last.noteId } : { after: last.seq };
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function decodeCursor(cursor: string): AuditPosition {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const { after, note } = parsed as { after?: unknown; note?: unknown };
    if (typeof after === 'number' && Number.isSafeInteger(after) && after >= 0) {
      if (note === undefined) return { seq: after };
      if (typeof note === 'string' && /^[0-9A-HJKMNP-TV-Z]{26}$/.test(note))
        return { seq: after, noteId: note };
    }
  } catch {
    // fall through to the typed error below
  }
  throw new ValidationError('Invalid cursor.', [
    { field: 'cursor', message: 'not a cursor this API returned' },
  ]);
}
