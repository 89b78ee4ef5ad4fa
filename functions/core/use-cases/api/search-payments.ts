/**
 * Use case: search the authenticated merchant's payments, newest first, by status and created-at range,
 * one cursor-paginated page at a time. Only that merchant's payments are ever read.
 */
import { ValidationError } from '../../errors.js';
import type { Payment, PaymentStatus } from '../../payment.js';
import type { Page, PaymentPosition, PaymentSearch } from '../../repository.js';

export interface SearchPaymentsQuery {
  merchantId: string;
  /** Any of these statuses matches; absent or empty means every status. */
  statuses?: readonly PaymentStatus[];
  /** ISO 8601 instant, inclusive. */
  createdGte?: string;
  /** ISO 8601 instant, exclusive. */
  createdLt?: string;
  limit: number;
  /** `next_cursor` of a previous page, for the same merchant. */
  cursor?: string;
}

export async function searchPayments(
  deps: { search: PaymentSearch },
  query: SearchPaymentsQuery,
): Promise<Page<Payment>> {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, query.merchantId);
  const page = await deps.search.searchPayments({
    merchantId: query.merchantId,
    limit: query.limit,
    ...(query.statuses?.length ? { statuses: query.statuses } : {}),
    ...(query.createdGte ? { createdGte: storedInstant(query.createdGte, 'created_gte') } : {}),
    ...(query.createdLt ? { createdLt: storedInstant(query.createdLt, 'created_lt') } : {}),
    ...(after ? { after } : {}),
  });
  return {
    items: page.payments,
    hasMore: page.next !== null,
    nextCursor: page.next ? encodeCursor(query.merchantId, page.next) : null,
  };
}

/**
 * An instant in the form payments store `createdAt` (UTC, milliseconds), so that it compares as a string.
 * A finer bound rounds up to the next millisecond: with millisecond timestamps that selects exactly the
 * same payments, whether the bound is inclusive (gte) or exclusive (lt).
 */
export function storedInstant(iso: string, field: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) {
    throw new ValidationError('Invalid date-time.', [{ field, message: 'not an ISO 8601 date-time' }]);
  }
  const fraction = /T[^.]*\.(\d+)/.exec(iso)?.[1] ?? '';
  const finer = /[1-9]/.test(fraction.slice(3)) ? 1 : 0;
  return new Date(ms + finer).toISOString();
}

/*
 * The cursor is base64url JSON of the position of the last payment returned, bound to the merchant it was
 * issued to: it only ever narrows that merchant's own query (the partition key comes from the API key,
 * never from the cursor), and another merchant's cursor is refused rather than silently reinterpreted.
 */
interface CursorBody {
  v: 1;
  /** Merchant the cursor was issued to. */
  m: string;
  /** createdAt of the last payment returned. */
  t: string;
  /** id of the last payment returned. */
  id: string;
}

const STORED_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const PAYMENT_ID = /^pay_[0-9A-HJKMNP-TV-Z]{26}$/;

function encodeCursor(merchantId: string, position: PaymentPosition): string {
  const body: CursorBody = { v: 1, m: merchantId, t: position.createdAt, id: position.paymentId };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

function decodeCursor(cursor: string, merchantId: string): PaymentPosition {
  try {
    const body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<CursorBody>;
    if (
      body.v === 1 &&
      body.m === merchantId &&
      typeof body.t === 'string' &&
      STORED_INSTANT.test(body.t) &&
      typeof body.id === 'string' &&
      PAYMENT_ID.test(body.id)
    ) {
      return { createdAt: body.t, paymentId: body.id };
    }
  } catch {
    // fall through to the typed error below
  }
  throw new ValidationError('Invalid cursor.', [
    { field: 'cursor', message: 'not a cursor this API returned for this API key' },
  ]);
}
