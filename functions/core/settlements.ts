/**
 * Daily settlements, pure: the settlement day of an instant (Asia/Bangkok), the fee arithmetic of a rate
 * table, the line a money event makes and the totals of a set of lines. The store port is kept by
 * functions/adapters/dynamo-settlements.ts; the rules are written down in docs/api.md ("Settlements").
 */
import { createHash } from 'node:crypto';
import type { Currency } from './money.js';
import type { PaymentMethodType } from './payment.js';
import { bangkokDay } from './reconciliation.js';

export { bangkokDay as settlementDayOf };

/** Bangkok is UTC+7 all year (no daylight saving). */
const BANGKOK_OFFSET_MS = 7 * 3600_000;
const DAY_MS = 24 * 3600_000;

/** A settlement day, `YYYY-MM-DD` (a Bangkok calendar day). */
export const SETTLEMENT_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The instants a settlement day covers: [start, end), both ISO 8601 UTC. 2026-11-22 → 2026-11-21T17:00Z…. */
export function dayPeriod(day: string): { start: string; end: string } {
  const start = Date.parse(`${day}T00:00:00.000Z`) - BANGKOK_OFFSET_MS;
  if (Number.isNaN(start) || !SETTLEMENT_DAY.test(day)) throw new RangeError(`not a settlement day: ${day}`);
  return { start: new Date(start).toISOString(), end: new Date(start + DAY_MS).toISOString() };
}

/** The calendar day after `day`. */
export function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) + DAY_MS).toISOString().slice(0, 10);
}

/** One method's price: a percentage in basis points (1 bp = 0.01 %) of the amount, plus a fixed part. */
export interface FeeRate {
  /** 290 = 2.90 %. */
  bps: number;
  /** Minor units of the payment's currency, charged once per captured payment. */
  fixed: number;
}

export type MethodRates = Record<PaymentMethodType, FeeRate>;

/** The rate table: defaults for every merchant, and per-merchant overrides of some methods. */
export interface FeeSchedule {
  defaults: MethodRates;
  merchants?: Record<string, Partial<MethodRates>>;
}

/**
 * The defaults when the stage configures none (SETTLEMENT_FEES): card 2.90 %, Thai QR 0.80 %, WeChat Pay
 * and Alipay 2.50 %, no fixed part.
 */
export const DEFAULT_FEE_SCHEDULE: FeeSchedule = {
  defaults: {
    card: { bps: 290, fixed: 0 },
    qr_promptpay: { bps: 80, fixed: 0 },
    wechat_pay: { bps: 250, fixed: 0 },
    alipay: { bps: 250, fixed: 0 },
  },
};

export function rateFor(schedule: FeeSchedule, merchantId: string, method: PaymentMethodType): FeeRate {
  return schedule.merchants?.[merchantId]?.[method] ?? schedule.defaults[method];
}

/**
 * The fee of one captured amount: round half up of amount × bps / 10 000, plus the fixed part, in integer
 * minor units (no floating point: amount × bps stays far below 2^53 for any amount we accept).
 */
export function feeOf(amount: number, rate: FeeRate): number {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new RangeError(`not an amount: ${amount}`);
  return Math.floor((amount * rate.bps + 5000) / 10_000) + rate.fixed;
}

export type SettlementStatus = 'open' | 'closed';

/** What a line records: a capture (gross, minus its fee) or a refund (given back; the fee is not reversed). */
export type MovementKind = 'capture' | 'refund';

/** A money movement as the consumer reads it from an event and the payment it belongs to. */
export interface Movement {
  eventId: string;
  kind: MovementKind;
  merchantId: string;
  paymentId: string;
  refundId?: string;
  method: PaymentMethodType;
  currency: Currency;
  /** Captured or refunded, minor units, > 0. */
  amount: number;
  occurredAt: string;
}

/** One line of a settlement: a movement with its fee and what it adds to the net payable. */
export interface SettlementLine extends Movement {
  settlementId: string;
  /** The settlement day it is booked on. */
  day: string;
  /** The day the movement happened on, when it arrived after that day closed (it is then booked on `day`). */
  rolledFrom?: string;
  rate: FeeRate | null;
  fee: number;
  /** What the line adds to the net payable: amount − fee for a capture, −amount for a refund. */
  net: number;
  recordedAt: string;
}

export interface SettlementTotals {
  grossCaptured: number;
  refunds: number;
  fees: number;
  /** grossCaptured − refunds − fees (may be negative: refunds of earlier days' payments). */
  netPayable: number;
  captureCount: number;
  refundCount: number;
  lineCount: number;
}

export interface Settlement {
  id: string;
  merchantId: string;
  day: string;
  currency: Currency;
  status: SettlementStatus;
  periodStart: string;
  periodEnd: string;
  totals: SettlementTotals;
  createdAt: string;
  updatedAt: string;
  closedAt?: string;
}

export const EMPTY_TOTALS: SettlementTotals = {
  grossCaptured: 0,
  refunds: 0,
  fees: 0,
  netPayable: 0,
  captureCount: 0,
  refundCount: 0,
  lineCount: 0,
};

/**
 * A settlement's id, the same whoever computes it (the consumer creates the settlement on its first line):
 * `stl_<YYYYMMDD>_<currency>_<12 hex of the merchant's hash>`. The day and currency can be read back from
 * it; the hash keeps ids of different merchants apart without showing the merchant.
 */
export function settlementId(merchantId: string, day: string, currency: Currency): string {
  const merchant = createHash('sha256').update(merchantId).digest('hex').slice(0, 12);
  return `stl_${day.replaceAll('-', '')}_${currency}_${merchant}`;
}

const SETTLEMENT_ID = /^stl_(\d{4})(\d{2})(\d{2})_([A-Z]{3})_([0-9a-f]{12})$/;

/** The day and currency an id names, or null when it is not a settlement id. */
export function parseSettlementId(id: string): { day: string; currency: string } | null {
  const match = SETTLEMENT_ID.exec(id);
  if (!match) return null;
  const [, year, month, date, currency] = match;
  const day = `${year}-${month}-${date}`;
  if (!currency || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) return null;
  return { day, currency };
}

/** The line a movement makes when booked on `day` (its own day, or a later open one). */
export function lineOf(
  movement: Movement,
  booking: { day: string; schedule: FeeSchedule; recordedAt: string },
): SettlementLine {
  const rate =
    movement.kind === 'capture' ? rateFor(booking.schedule, movement.merchantId, movement.method) : null;
  const fee = rate ? feeOf(movement.amount, rate) : 0;
  const ownDay = bangkokDay(movement.occurredAt);
  return {
    ...movement,
    settlementId: settlementId(movement.merchantId, booking.day, movement.currency),
    day: booking.day,
    ...(ownDay === booking.day ? {} : { rolledFrom: ownDay }),
    rate,
    fee,
    net: movement.kind === 'capture' ? movement.amount - fee : -movement.amount,
    recordedAt: booking.recordedAt,
  };
}

/** What one line adds to its settlement's totals. */
export function totalsOf(line: Pick<SettlementLine, 'kind' | 'amount' | 'fee' | 'net'>): SettlementTotals {
  const capture = line.kind === 'capture';
  return {
    grossCaptured: capture ? line.amount : 0,
    refunds: capture ? 0 : line.amount,
    fees: line.fee,
    netPayable: line.net,
    captureCount: capture ? 1 : 0,
    refundCount: capture ? 0 : 1,
    lineCount: 1,
  };
}

export function addTotals(a: SettlementTotals, b: SettlementTotals): SettlementTotals {
  return {
    grossCaptured: a.grossCaptured + b.grossCaptured,
    refunds: a.refunds + b.refunds,
    fees: a.fees + b.fees,
    netPayable: a.netPayable + b.netPayable,
    captureCount: a.captureCount + b.captureCount,
    refundCount: a.refundCount + b.refundCount,
    lineCount: a.lineCount + b.lineCount,
  };
}

/** The totals of a set of lines, in any order. */
export function sumLines(
  lines: readonly Pick<SettlementLine, 'kind' | 'amount' | 'fee' | 'net'>[],
): SettlementTotals {
  return lines.map(totalsOf).reduce(addTotals, EMPTY_TOTALS);
}

/** Outcome of booking one movement. */
export type BookingOutcome =
  | { outcome: 'booked'; line: SettlementLine }
  | { outcome: 'duplicate' }
  /** The settlement of `line.day` is closed: book on the next day instead. */
  | { outcome: 'closed' };

/** Settlement storage: settlements, their lines, and the marker that makes each event count once. */
export interface SettlementStore {
  /**
   * One transaction: the event's marker (conditioned on not existing), the line, and the settlement's totals
   * (created open on its first line; conditioned on not being closed).
   */
  book(line: SettlementLine, period: { start: string; end: string }): Promise<BookingOutcome>;
  get(merchantId: string, day: string, currency: string): Promise<Settlement | null>;
  /** A merchant's settlements, newest day first, days in [fromDay, toDay], after the cursor's position. */
  list(query: SettlementQuery): Promise<{ settlements: Settlement[]; next: SettlementPosition | null }>;
  /** A settlement's lines, oldest first. */
  listLines(
    settlement: Pick<Settlement, 'merchantId' | 'day' | 'currency'>,
    page: { limit: number; after?: LinePosition },
  ): Promise<{ lines: SettlementLine[]; next: LinePosition | null }>;
  /** Open settlements whose period ended at or before `endedBy`, and closed ones whose event is not out yet. */
  listClosable(endedBy: string, limit: number): Promise<Settlement[]>;
  /** open → closed (conditioned on open); returns the closed settlement, or null when it was not open. */
  close(settlement: Settlement, at: string): Promise<Settlement | null>;
  /** The `settlement.closed` event of a closed settlement is on the bus: it leaves the close's index. */
  markPublished(settlement: Settlement): Promise<void>;
}

export interface SettlementQuery {
  merchantId: string;
  fromDay?: string;
  toDay?: string;
  status?: SettlementStatus;
  limit: number;
  after?: SettlementPosition;
}

/** Where a settlement list page ended: the last settlement's day and currency. */
export interface SettlementPosition {
  day: string;
  currency: string;
}

/** Where a line page ended: the last line's time and event id. */
export interface LinePosition {
  occurredAt: string;
  eventId: string;
}

const CSV_COLUMNS = [
  'settlement_id',
  'day',
  'event_id',
  'type',
  'payment_id',
  'refund_id',
  'payment_method',
  'currency',
  'amount',
  'fee_bps',
  'fee_fixed',
  'fee',
  'net',
  'occurred_at',
  'rolled_from',
] as const;

/** RFC 4180: quote a field holding a comma, quote or line break; double its quotes. */
function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The CSV export: a header row, then one row per line (CRLF line ends, RFC 4180). Amounts in minor units. */
export function linesCsv(lines: readonly SettlementLine[]): string {
  const rows = lines.map((line) =>
    [
      line.settlementId,
      line.day,
      line.eventId,
      line.kind,
      line.paymentId,
      line.refundId ?? '',
      line.method,
      line.currency,
      line.amount,
      line.rate?.bps ?? '',
      line.rate?.fixed ?? '',
      line.fee,
      line.net,
      line.occurredAt,
      line.rolledFrom ?? '',
    ]
      .map(csvField)
      .join(','),
  );
  return `${[CSV_COLUMNS.join(','), ...rows].join('\r\n')}\r\n`;
}
