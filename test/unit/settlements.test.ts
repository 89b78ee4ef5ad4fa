/** The settlement arithmetic: Bangkok days and their edges, fees rounded half up per line, totals, ids, CSV. */
import { describe, expect, it } from '@jest/globals';
import {
  DEFAULT_FEE_SCHEDULE,
  dayPeriod,
  type FeeSchedule,
  feeOf,
  lineOf,
  linesCsv,
  type Movement,
  nextDay,
  parseSettlementId,
  rateFor,
  settlementDayOf,
  settlementId,
  sumLines,
} from '../../functions/core/settlements.js';

const capture = (overrides: Partial<Movement> = {}): Movement => ({
  eventId: 'evt_01JD3Q4V7M0000000000000000_4',
  kind: 'capture',
  merchantId: 'merchant_a',
  paymentId: 'pay_01JD3Q4V7M0000000000000000',
  method: 'card',
  currency: 'THB',
  amount: 72500,
  occurredAt: '2026-11-22T04:00:00.000Z',
  ...overrides,
});

const booking = (day: string, schedule: FeeSchedule = DEFAULT_FEE_SCHEDULE) => ({
  day,
  schedule,
  recordedAt: '2026-11-22T04:00:01.000Z',
});

describe('the settlement day', () => {
  it('is the Bangkok calendar day: 17:00 UTC is midnight in Bangkok', () => {
    expect(settlementDayOf('2026-11-22T16:59:59.999Z')).toBe('2026-11-22');
    expect(settlementDayOf('2026-11-22T17:00:00.000Z')).toBe('2026-11-23');
    expect(settlementDayOf('2026-11-21T17:00:00.000Z')).toBe('2026-11-22');
    expect(settlementDayOf('2026-12-31T18:30:00.000Z')).toBe('2027-01-01');
  });

  it('covers [start, end) in UTC, 24 hours every day of the year (no daylight saving)', () => {
    expect(dayPeriod('2026-11-22')).toEqual({
      start: '2026-11-21T17:00:00.000Z',
      end: '2026-11-22T17:00:00.000Z',
    });
    for (const day of ['2026-03-29', '2026-10-25', '2028-02-29']) {
      const { start, end } = dayPeriod(day);
      expect(Date.parse(end) - Date.parse(start)).toBe(24 * 3600_000);
      expect(settlementDayOf(start)).toBe(day);
      expect(settlementDayOf(new Date(Date.parse(end) - 1).toISOString())).toBe(day);
      expect(settlementDayOf(end)).toBe(nextDay(day));
    }
    expect(() => dayPeriod('2026-13-01')).toThrow(RangeError);
  });

  it('is followed by the next calendar day across months, years and leap days', () => {
    expect(nextDay('2026-11-30')).toBe('2026-12-01');
    expect(nextDay('2026-12-31')).toBe('2027-01-01');
    expect(nextDay('2028-02-28')).toBe('2028-02-29');
    expect(nextDay('2027-02-28')).toBe('2027-03-01');
  });
});

describe('fees', () => {
  it('rounds amount × bps / 10 000 half up, in integers, then adds the fixed part', () => {
    // 72500 × 2.90 % = 2102.5 → 2103
    expect(feeOf(72500, { bps: 290, fixed: 0 })).toBe(2103);
    // 10001 × 0.80 % = 80.008 → 80
    expect(feeOf(10001, { bps: 80, fixed: 0 })).toBe(80);
    // 1 × 50 % = 0.5 → 1; 1 × 49.99 % → 0
    expect(feeOf(1, { bps: 5000, fixed: 0 })).toBe(1);
    expect(feeOf(1, { bps: 4999, fixed: 0 })).toBe(0);
    expect(feeOf(35000, { bps: 250, fixed: 300 })).toBe(875 + 300);
    // The largest amount we accept stays exact.
    expect(feeOf(1_000_000_000, { bps: 9999, fixed: 0 })).toBe(999_900_000);
    expect(() => feeOf(-1, { bps: 290, fixed: 0 })).toThrow(RangeError);
    expect(() => feeOf(1.5, { bps: 290, fixed: 0 })).toThrow(RangeError);
  });

  it("takes a merchant's own rate for a method it overrides and the default for the others", () => {
    const schedule: FeeSchedule = {
      ...DEFAULT_FEE_SCHEDULE,
      merchants: { merchant_a: { card: { bps: 200, fixed: 500 } } },
    };
    expect(rateFor(schedule, 'merchant_a', 'card')).toEqual({ bps: 200, fixed: 500 });
    expect(rateFor(schedule, 'merchant_a', 'qr_promptpay')).toEqual(
      DEFAULT_FEE_SCHEDULE.defaults.qr_promptpay,
    );
    expect(rateFor(schedule, 'merchant_b', 'card')).toEqual(DEFAULT_FEE_SCHEDULE.defaults.card);
  });
});

describe('lines and totals', () => {
  it('books a capture as gross minus its fee, with the rate it used', () => {
    const line = lineOf(capture(), booking('2026-11-22'));
    expect(line).toMatchObject({
      kind: 'capture',
      day: '2026-11-22',
      amount: 72500,
      rate: { bps: 290, fixed: 0 },
      fee: 2103,
      net: 72500 - 2103,
      settlementId: settlementId('merchant_a', '2026-11-22', 'THB'),
    });
    expect(line.rolledFrom).toBeUndefined();
  });

  it('books a refund as money given back, without reversing any fee', () => {
    const line = lineOf(
      capture({ kind: 'refund', refundId: 're_01JD3Q4V7M0000000000000001', amount: 10000 }),
      booking('2026-11-22'),
    );
    expect(line).toMatchObject({ kind: 'refund', rate: null, fee: 0, net: -10000 });
  });

  it('says on the line which day it rolled from when booked on a later day', () => {
    const line = lineOf(capture({ occurredAt: '2026-11-22T16:59:00.000Z' }), booking('2026-11-23'));
    expect(line.rolledFrom).toBe('2026-11-22');
    expect(line.settlementId).toBe(settlementId('merchant_a', '2026-11-23', 'THB'));
  });

  it('sums lines to the same totals in any order, net = gross − refunds − fees', () => {
    const lines = [
      lineOf(capture(), booking('2026-11-22')),
      lineOf(capture({ eventId: 'e2', amount: 35000, method: 'qr_promptpay' }), booking('2026-11-22')),
      lineOf(capture({ eventId: 'e3', kind: 'refund', amount: 50000 }), booking('2026-11-22')),
    ];
    const totals = sumLines(lines);
    expect(totals).toEqual({
      grossCaptured: 107500,
      refunds: 50000,
      fees: 2103 + 280,
      netPayable: 107500 - 50000 - 2383,
      captureCount: 2,
      refundCount: 1,
      lineCount: 3,
    });
    expect(sumLines([...lines].reverse())).toEqual(totals);
    expect(sumLines([lines[2], lines[0], lines[1]] as typeof lines)).toEqual(totals);
  });
});

describe('settlement ids', () => {
  it('name the day and currency, and differ between merchants of the same day', () => {
    const a = settlementId('merchant_a', '2026-11-22', 'THB');
    const b = settlementId('merchant_b', '2026-11-22', 'THB');
    expect(a).toMatch(/^stl_20261122_THB_[0-9a-f]{12}$/);
    expect(b).not.toBe(a);
    expect(settlementId('merchant_a', '2026-11-22', 'THB')).toBe(a);
    expect(parseSettlementId(a)).toEqual({ day: '2026-11-22', currency: 'THB' });
    expect(parseSettlementId('stl_20261122_THB')).toBeNull();
    expect(parseSettlementId('pay_01JD3Q4V7M0000000000000000')).toBeNull();
  });
});

describe('the CSV export', () => {
  it('has a header row and one CRLF-terminated row per line, quoting what needs it', () => {
    const lines = [
      lineOf(capture(), booking('2026-11-22')),
      lineOf(
        capture({ eventId: 'evt_"odd",id', kind: 'refund', refundId: 're_1', amount: 100 }),
        booking('2026-11-23'),
      ),
    ];
    const rows = linesCsv(lines).split('\r\n');
    expect(rows[0]).toBe(
      'settlement_id,day,event_id,type,payment_id,refund_id,payment_method,currency,amount,fee_bps,fee_fixed,fee,net,occurred_at,rolled_from',
    );
    expect(rows[1]).toBe(
      `${lines[0]?.settlementId},2026-11-22,evt_01JD3Q4V7M0000000000000000_4,capture,pay_01JD3Q4V7M0000000000000000,,card,THB,72500,290,0,2103,70397,2026-11-22T04:00:00.000Z,`,
    );
    expect(rows[2]).toContain(',"evt_""odd"",id",refund,');
    expect(rows[2]?.endsWith(',2026-11-22')).toBe(true);
    expect(rows).toHaveLength(4);
    expect(rows[3]).toBe('');
  });
});
