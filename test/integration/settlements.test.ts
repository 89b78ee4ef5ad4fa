/**
 * Settlements against DynamoDB Local: the consumer's use case and the close on the real store. An event
 * counts once (also twice at once), order does not matter, merchants never mix, a closed day's movements
 * roll to the next open day, and the close publishes each day once, even after a failed publish.
 */
import { describe, expect, it } from '@jest/globals';
import { createDocumentClient } from '../../functions/adapters/dynamo-repository.js';
import { DynamoSettlementStore } from '../../functions/adapters/dynamo-settlements.js';
import { NotFoundError, ValidationError } from '../../functions/core/errors.js';
import type { Payment } from '../../functions/core/payment.js';
import type { EventPublisher } from '../../functions/core/ports.js';
import {
  DEFAULT_FEE_SCHEDULE,
  type FeeSchedule,
  settlementId,
  sumLines,
} from '../../functions/core/settlements.js';
import { closeSettlements } from '../../functions/core/use-cases/settlements/close-settlements.js';
import {
  exportSettlementLines,
  getSettlement,
  listSettlementLines,
  listSettlements,
} from '../../functions/core/use-cases/settlements/read-settlements.js';
import {
  type MoneyEvent,
  type RecordMovementDeps,
  recordMovement,
} from '../../functions/core/use-cases/settlements/record-movement.js';
import type { PaymentEventDetail, RefundEventDetail } from '../../schemas/events.js';
import { freshTable } from '../support/dynamodb.js';

const FEES: FeeSchedule = {
  ...DEFAULT_FEE_SCHEDULE,
  merchants: { merchant_b: { card: { bps: 200, fixed: 500 } } },
};

/** The payments the events name: merchant and method are all the consumer reads of them. */
const payments = new Map<string, Pick<Payment, 'merchantId' | 'paymentMethod'>>();
let seq = 0;
function paymentOf(merchantId: string, method: Payment['paymentMethod']['type'] = 'card'): string {
  const id = `pay_01JD3Q4V7M${String(++seq).padStart(16, '0')}`;
  payments.set(id, {
    merchantId,
    paymentMethod: method === 'card' ? { type: 'card', token: 'tok' } : { type: method },
  });
  return id;
}

function captured(paymentId: string, amount: number, at: string, sequence = 4): MoneyEvent {
  const detail = {
    version: '1',
    event_id: `evt_${paymentId.slice(4)}_${sequence}`,
    type: 'payment.captured',
    sequence,
    occurred_at: at,
    payment: { id: paymentId, currency: 'THB', amount_captured: amount },
  } as unknown as PaymentEventDetail;
  return { type: 'payment.captured', detail };
}

let refundNo = 0;
function refunded(paymentId: string, amount: number, at: string, sequence: number): MoneyEvent {
  const detail = {
    version: '1',
    event_id: `evt_${paymentId.slice(4)}_${sequence}`,
    type: 'refund.succeeded',
    sequence,
    occurred_at: at,
    payment_id: paymentId,
    refund: { id: `re_01JD3Q4V7M${String(++refundNo).padStart(16, '0')}`, currency: 'THB', amount },
  } as unknown as RefundEventDetail;
  return { type: 'refund.succeeded', detail };
}

async function setup() {
  const table = await freshTable('settlements');
  const store = new DynamoSettlementStore(
    createDocumentClient(table.client),
    table.tableName,
    async () => {},
  );
  let now = new Date('2026-11-22T05:00:00.000Z');
  const clock = { now: () => now };
  const published: { type: string; detail: Record<string, unknown> }[] = [];
  let failPublish = false;
  const events: EventPublisher = {
    publish: async (entries) => {
      if (failPublish) throw new Error('EventBridge is unavailable');
      published.push(...entries);
    },
  };
  const deps: RecordMovementDeps = {
    settlements: store,
    payments: { get: async (id) => (payments.get(id) as Payment | undefined) ?? null },
    fees: FEES,
    clock,
  };
  return {
    store,
    deps,
    published,
    record: (event: MoneyEvent) => recordMovement(deps, event),
    close: () => closeSettlements({ settlements: store, events, clock }),
    setNow: (iso: string) => {
      now = new Date(iso);
    },
    failPublishing: (fail: boolean) => {
      failPublish = fail;
    },
  };
}

async function allLines(store: DynamoSettlementStore, merchantId: string, day: string) {
  return (await store.listLines({ merchantId, day, currency: 'THB' }, { limit: 100 })).lines;
}

describe('booking money events', () => {
  it('counts an event once, whether it comes again later or twice at the same moment', async () => {
    const { store, record } = await setup();
    const paymentId = paymentOf('merchant_a');
    const event = captured(paymentId, 72500, '2026-11-22T04:00:00.000Z');
    expect((await record(event)).outcome).toBe('booked');
    expect(await record(event)).toEqual({ outcome: 'duplicate' });
    const twice = captured(paymentOf('merchant_a'), 10000, '2026-11-22T04:10:00.000Z');
    const outcomes = (await Promise.all([record(twice), record(twice)])).map((o) => o.outcome).sort();
    expect(outcomes).toEqual(['booked', 'duplicate']);

    const settlement = await store.get('merchant_a', '2026-11-22', 'THB');
    expect(settlement?.totals).toMatchObject({ grossCaptured: 82500, fees: 2103 + 290, lineCount: 2 });
    expect(await allLines(store, 'merchant_a', '2026-11-22')).toHaveLength(2);
  });

  it('gives the same totals whatever order the events arrive in, and they equal the sum of the lines', async () => {
    const events = (() => {
      const p1 = paymentOf('merchant_a');
      const p2 = paymentOf('merchant_a', 'qr_promptpay');
      return [
        captured(p1, 72500, '2026-11-22T01:00:00.000Z'),
        refunded(p1, 10000, '2026-11-22T02:00:00.000Z', 6),
        refunded(p1, 20000, '2026-11-22T03:00:00.000Z', 8),
        captured(p2, 35000, '2026-11-22T04:00:00.000Z'),
      ];
    })();
    const inOrder = await setup();
    for (const event of events) await inOrder.record(event);
    const reversed = await setup();
    for (const event of [...events].reverse()) await reversed.record(event);

    const a = await inOrder.store.get('merchant_a', '2026-11-22', 'THB');
    const b = await reversed.store.get('merchant_a', '2026-11-22', 'THB');
    expect(a?.totals).toEqual({
      grossCaptured: 107500,
      refunds: 30000,
      fees: 2103 + 280,
      netPayable: 107500 - 30000 - 2383,
      captureCount: 2,
      refundCount: 2,
      lineCount: 4,
    });
    expect(b?.totals).toEqual(a?.totals);
    expect(sumLines(await allLines(reversed.store, 'merchant_a', '2026-11-22'))).toEqual(a?.totals);
  });

  it('keeps concurrent bookings of one day exact (the settlement item is contended, not lost)', async () => {
    const { store, record } = await setup();
    const events = Array.from({ length: 25 }, (_, i) =>
      captured(paymentOf('merchant_a'), 1000 + i, `2026-11-22T06:${String(i).padStart(2, '0')}:00.000Z`),
    );
    await Promise.all(events.map(record));
    const settlement = await store.get('merchant_a', '2026-11-22', 'THB');
    const lines = await allLines(store, 'merchant_a', '2026-11-22');
    expect(lines).toHaveLength(25);
    expect(settlement?.totals).toEqual(sumLines(lines));
    expect(settlement?.totals.grossCaptured).toBe(25 * 1000 + (24 * 25) / 2);
  });

  it("never mixes two merchants' movements, and each has its own rates", async () => {
    const { store, record, deps } = await setup();
    await record(captured(paymentOf('merchant_a'), 50000, '2026-11-22T04:00:00.000Z'));
    await record(captured(paymentOf('merchant_b'), 50000, '2026-11-22T04:00:00.000Z'));
    const a = await store.get('merchant_a', '2026-11-22', 'THB');
    const b = await store.get('merchant_b', '2026-11-22', 'THB');
    expect(a?.totals).toMatchObject({ grossCaptured: 50000, fees: 1450, lineCount: 1 });
    expect(b?.totals).toMatchObject({ grossCaptured: 50000, fees: 1000 + 500, lineCount: 1 });
    expect(a?.id).not.toBe(b?.id);
    // B asking for A's settlement by its id finds nothing.
    await expect(
      getSettlement(deps, { merchantId: 'merchant_b', settlementId: a?.id ?? '' }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      listSettlementLines(deps, { merchantId: 'merchant_b', settlementId: a?.id ?? '', limit: 10 }),
    ).rejects.toBeInstanceOf(NotFoundError);
    const listed = await listSettlements(deps, { merchantId: 'merchant_b', limit: 10 });
    expect(listed.data.map((s) => s.id)).toEqual([b?.id]);
  });

  it('books a movement of a closed day on the next open day, and says so on the line', async () => {
    const { store, record, close, setNow } = await setup();
    await record(captured(paymentOf('merchant_a'), 10000, '2026-11-22T10:00:00.000Z'));
    setNow('2026-11-22T17:05:00.000Z');
    expect((await close()).closed).toEqual([settlementId('merchant_a', '2026-11-22', 'THB')]);

    // Happened on the 22nd (16:59 UTC is 23:59 in Bangkok), arrived after the close.
    const late = await record(captured(paymentOf('merchant_a'), 20000, '2026-11-22T16:59:00.000Z'));
    expect(late).toMatchObject({ outcome: 'booked', line: { day: '2026-11-23', rolledFrom: '2026-11-22' } });
    const closed = await store.get('merchant_a', '2026-11-22', 'THB');
    expect(closed).toMatchObject({ status: 'closed', totals: { grossCaptured: 10000, lineCount: 1 } });
    const next = await store.get('merchant_a', '2026-11-23', 'THB');
    expect(next).toMatchObject({ status: 'open', totals: { grossCaptured: 20000, lineCount: 1 } });
    const [line] = await allLines(store, 'merchant_a', '2026-11-23');
    expect(line).toMatchObject({ rolledFrom: '2026-11-22', occurredAt: '2026-11-22T16:59:00.000Z' });
    // Still counted once: the marker is the event's, whatever day it landed on.
    expect(await record(captured(line?.paymentId ?? '', 20000, '2026-11-22T16:59:00.000Z'))).toEqual({
      outcome: 'duplicate',
    });
  });
});

describe('the close', () => {
  it('closes only days that ended, publishes settlement.closed with the final totals once, and again after a failed publish', async () => {
    const { store, record, close, setNow, published, failPublishing } = await setup();
    await record(captured(paymentOf('merchant_a'), 10000, '2026-11-22T10:00:00.000Z'));
    await record(captured(paymentOf('merchant_b'), 30000, '2026-11-22T11:00:00.000Z'));
    await record(captured(paymentOf('merchant_a'), 40000, '2026-11-23T10:00:00.000Z'));

    setNow('2026-11-22T16:59:59.999Z');
    expect(await close()).toEqual({ closed: [], published: [] });

    setNow('2026-11-22T17:00:00.000Z');
    failPublishing(true);
    await expect(close()).rejects.toThrow('EventBridge is unavailable');
    failPublishing(false);
    const report = await close();
    const ids = [
      settlementId('merchant_a', '2026-11-22', 'THB'),
      settlementId('merchant_b', '2026-11-22', 'THB'),
    ];
    expect(report.published.sort()).toEqual([...ids].sort());
    expect(published.map((event) => event.type)).toEqual(['settlement.closed', 'settlement.closed']);
    const aEvent = published.find(
      (event) => (event.detail as { merchant_id: string }).merchant_id === 'merchant_a',
    );
    expect(aEvent?.detail).toMatchObject({
      event_id: `evt_${ids[0]}_closed`,
      settlement: { id: ids[0], status: 'closed', gross_captured: 10000, fees: 290, net_payable: 9710 },
    });
    expect(await close()).toEqual({ closed: [], published: [] });
    expect(published).toHaveLength(2);
    expect((await store.get('merchant_a', '2026-11-23', 'THB'))?.status).toBe('open');
  });
});

describe('reading settlements', () => {
  it('lists newest day first, filters by status and days, pages by cursor; lines page and export as CSV', async () => {
    const { deps, record, close, setNow } = await setup();
    const days = ['2026-11-20', '2026-11-21', '2026-11-22', '2026-11-23'];
    for (const day of days) {
      for (let i = 0; i < 3; i++) {
        await record(captured(paymentOf('merchant_a'), 1000 * (i + 1), `${day}T0${i}:00:00.000Z`));
      }
    }
    setNow('2026-11-22T17:00:00.000Z');
    await close();

    const all = await listSettlements(deps, { merchantId: 'merchant_a', limit: 10 });
    expect(all.data.map((s) => s.day)).toEqual([...days].reverse());
    expect(all.data.map((s) => s.status)).toEqual(['open', 'closed', 'closed', 'closed']);
    const open = await listSettlements(deps, { merchantId: 'merchant_a', status: 'open', limit: 10 });
    expect(open.data.map((s) => s.day)).toEqual(['2026-11-23']);
    const range = await listSettlements(deps, {
      merchantId: 'merchant_a',
      from: '2026-11-21',
      to: '2026-11-22',
      limit: 10,
    });
    expect(range.data.map((s) => s.day)).toEqual(['2026-11-22', '2026-11-21']);
    const first = await listSettlements(deps, { merchantId: 'merchant_a', limit: 3 });
    expect(first).toMatchObject({ has_more: true });
    const rest = await listSettlements(deps, {
      merchantId: 'merchant_a',
      limit: 3,
      cursor: first.next_cursor ?? '',
    });
    expect(rest).toMatchObject({ has_more: false, next_cursor: null });
    expect(rest.data.map((s) => s.day)).toEqual(['2026-11-20']);
    await expect(
      listSettlements(deps, { merchantId: 'merchant_a', limit: 3, cursor: 'bm90LWEtY3Vyc29y' }),
    ).rejects.toBeInstanceOf(ValidationError);

    const id = settlementId('merchant_a', '2026-11-22', 'THB');
    const page = await listSettlementLines(deps, { merchantId: 'merchant_a', settlementId: id, limit: 2 });
    expect(page.data.map((line) => line.amount)).toEqual([1000, 2000]);
    const next = await listSettlementLines(deps, {
      merchantId: 'merchant_a',
      settlementId: id,
      limit: 2,
      cursor: page.next_cursor ?? '',
    });
    expect(next.data.map((line) => line.amount)).toEqual([3000]);
    expect(next.has_more).toBe(false);
    const settlement = await getSettlement(deps, { merchantId: 'merchant_a', settlementId: id });
    expect(settlement).toMatchObject({ gross_captured: 6000, counts: { captures: 3, lines: 3 } });
    const { csv } = await exportSettlementLines(deps, { merchantId: 'merchant_a', settlementId: id });
    const rows = csv.trim().split('\r\n');
    expect(rows).toHaveLength(4);
    const amounts = rows.slice(1).map((row) => Number(row.split(',')[8]));
    expect(amounts.reduce((a, b) => a + b, 0)).toBe(settlement.gross_captured);
  });
});
