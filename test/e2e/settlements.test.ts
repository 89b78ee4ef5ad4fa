/**
 * Daily settlements as a merchant sees them, on the local stack: real payments (automatic and partial manual
 * captures) and partial refunds across a Bangkok midnight, booked by the settlements consumer from the local
 * bus through its queue, closed by the close, read over HTTP. Totals = Σ lines = what the payments and
 * refunds in the API show for the day; a replayed event counts once; two merchants never mix.
 */
import { randomUUID } from 'node:crypto';
import { hashApiKey } from '../../functions/core/api-keys.js';
import { settlementDayOf } from '../../functions/core/settlements.js';
import { MAGIC_CARDS } from '../../local/kbank-simulator.js';
import type { LocalStack } from '../../local/stack.js';
import { randomApiKey } from '../../local/stack.js';
import { EVENT_SOURCE } from '../../schemas/events.js';
import { api, paymentBody, startTestStack, tokenize } from '../support/stack.js';

/** 22:00 in Bangkok on 22 November. */
let now = Date.parse('2026-11-22T15:00:00.000Z');
const setClock = (iso: string) => {
  now = Date.parse(iso);
};

let stack: LocalStack;
const other = { id: 'merchant_other', key: randomApiKey() };
beforeAll(async () => {
  stack = await startTestStack({ clock: { now: () => new Date(now) } });
  await stack.repo.putApiKey(hashApiKey(other.key), { id: other.id, name: 'Other Merchant' });
});
afterAll(async () => {
  await stack?.close();
});

type Key = string | undefined;

/** A card payment run to its end; `capture` set: manual, then captured for that much. */
async function payment(options: { capture?: number; key?: Key } = {}): Promise<string> {
  const token = await tokenize(stack, MAGIC_CARDS.visa.number);
  const created = await api(stack, 'POST', '/v1/payments', {
    body: paymentBody(token, options.capture ? { capture: 'manual' } : {}),
    idempotencyKey: randomUUID(),
    ...(options.key ? { key: options.key } : {}),
  });
  expect(created.status).toBe(201);
  const id: string = created.body.id;
  if (options.capture) {
    for (let i = 0; i < 500; i++) {
      const stored = await stack.repo.get(id);
      if (stored?.status === 'requires_capture' && stored.captureToken) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const captured = await api(stack, 'POST', `/v1/payments/${id}/capture`, {
      body: { amount: options.capture },
      idempotencyKey: randomUUID(),
    });
    expect(captured.status).toBe(202);
  }
  expect((await stack.runner.waitForExecution(id, 20_000)).status).toBe('SUCCEEDED');
  return id;
}

async function refund(paymentId: string, amount: number): Promise<void> {
  const created = await api(stack, 'POST', `/v1/payments/${paymentId}/refunds`, {
    body: { amount },
    idempotencyKey: randomUUID(),
  });
  expect(created.status).toBe(202);
  expect((await stack.refundRunner.waitForExecution(created.body.id, 20_000)).status).toBe('SUCCEEDED');
}

/** What the payments API shows per Bangkok day: captured (when it succeeded) and refunds that succeeded. */
async function fromPaymentsApi(ids: string[]) {
  const days: Record<string, { captured: number; refunded: number; captures: number; refunds: number }> = {};
  const of = (day: string) => {
    days[day] ??= { captured: 0, refunded: 0, captures: 0, refunds: 0 };
    return days[day];
  };
  for (const id of ids) {
    const shown = (await api(stack, 'GET', `/v1/payments/${id}`)).body;
    const trail = (await api(stack, 'GET', `/v1/payments/${id}/events`)).body.data as {
      at: string;
      to_status: string;
      from_status: string | null;
    }[];
    const succeeded = trail.find(
      (entry) => entry.to_status === 'succeeded' && entry.from_status !== 'succeeded',
    );
    const day = of(settlementDayOf(succeeded?.at ?? ''));
    day.captured += shown.amount_captured;
    day.captures += 1;
    const refunds = (await api(stack, 'GET', `/v1/payments/${id}/refunds`)).body.data as {
      status: string;
      amount: number;
      updated_at: string;
    }[];
    for (const r of refunds.filter((r) => r.status === 'succeeded')) {
      const refundDay = of(settlementDayOf(r.updated_at));
      refundDay.refunded += r.amount;
      refundDay.refunds += 1;
    }
  }
  return days;
}

async function allLines(settlementId: string) {
  const lines: {
    type: string;
    amount: number;
    fee: number;
    net: number;
    payment_id: string;
    rolled_from: string | null;
  }[] = [];
  let cursor: string | null = null;
  do {
    const page = await api(
      stack,
      'GET',
      `/v1/settlements/${settlementId}/lines?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(page.status).toBe(200);
    lines.push(...page.body.data);
    cursor = page.body.next_cursor;
  } while (cursor);
  return lines;
}

it('adds up per merchant and Bangkok day across midnight, counts a replayed event once, closes, and exports CSV', async () => {
  // 22 November, 22:00 in Bangkok.
  const p1 = await payment();
  const p2 = await payment({ capture: 50000 });
  const theirs = await payment({ key: other.key });
  await refund(p1, 10000);
  // 23 November, 01:00 in Bangkok: a partial refund of yesterday's payment, today's payments.
  setClock('2026-11-22T18:00:00.000Z');
  await refund(p1, 20000);
  await refund(p2, 50000);
  const p3 = await payment();
  const p4 = await payment({ capture: 30000 });
  await refund(p4, 5000);
  await stack.settlementEvents.idle();

  // A replay of every money event the bus carried (EventBridge delivers at least once): nothing changes.
  const money = stack.bus
    .events()
    .filter((event) => ['payment.captured', 'refund.succeeded'].includes(event.detailType));
  expect(money).toHaveLength(9);
  const before = (await api(stack, 'GET', '/v1/settlements')).body;
  for (const event of money) {
    stack.bus.putEvents([{ Source: EVENT_SOURCE, DetailType: event.detailType, Detail: event.detail }]);
  }
  await stack.settlementEvents.idle();
  const listed = await api(stack, 'GET', '/v1/settlements');
  expect(listed.status).toBe(200);
  expect(listed.body).toEqual(before);
  expect(listed.body.data.map((s: { day: string }) => s.day)).toEqual(['2026-11-23', '2026-11-22']);

  const expected = await fromPaymentsApi([p1, p2, p3, p4]);
  expect(Object.keys(expected).sort()).toEqual(['2026-11-22', '2026-11-23']);
  expect(expected['2026-11-22']).toEqual({
    captured: 72500 + 50000,
    refunded: 10000,
    captures: 2,
    refunds: 1,
  });
  for (const settlement of listed.body.data) {
    const day = expected[settlement.day];
    expect(settlement).toMatchObject({
      status: 'open',
      currency: 'THB',
      gross_captured: day?.captured,
      refunds: day?.refunded,
      counts: { captures: day?.captures, refunds: day?.refunds },
    });
    expect(settlement.net_payable).toBe(settlement.gross_captured - settlement.refunds - settlement.fees);
    const lines = await allLines(settlement.id);
    expect(lines).toHaveLength(settlement.counts.lines);
    const sum = (type: string, field: 'amount' | 'fee' | 'net') =>
      lines.filter((l) => type === '*' || l.type === type).reduce((total, l) => total + l[field], 0);
    expect(sum('capture', 'amount')).toBe(settlement.gross_captured);
    expect(sum('refund', 'amount')).toBe(settlement.refunds);
    expect(sum('*', 'fee')).toBe(settlement.fees);
    expect(sum('*', 'net')).toBe(settlement.net_payable);
    // Default card rate 2.90 %, per line, rounded half up; refunds keep the fee.
    for (const line of lines.filter((l) => l.type === 'capture')) {
      expect(line.fee).toBe(Math.floor((line.amount * 290 + 5000) / 10_000));
    }
  }
  const day22 = listed.body.data[1];

  // The other merchant sees only its own day, and none of ours.
  const theirList = await api(stack, 'GET', '/v1/settlements', { key: other.key });
  expect(theirList.body.data).toHaveLength(1);
  expect(theirList.body.data[0]).toMatchObject({
    day: '2026-11-22',
    gross_captured: 72500,
    counts: { lines: 1 },
  });
  expect((await allLinesAs(theirList.body.data[0].id, other.key)).map((l) => l.payment_id)).toEqual([theirs]);
  expect((await api(stack, 'GET', `/v1/settlements/${day22.id}`, { key: other.key })).status).toBe(404);
  expect((await api(stack, 'GET', `/v1/settlements/${day22.id}/lines`, { key: other.key })).status).toBe(404);
  expect((await api(stack, 'GET', '/v1/settlements/stl_nonsense')).status).toBe(404);
  expect((await api(stack, 'GET', '/v1/settlements?status=settled')).status).toBe(400);
  expect((await api(stack, 'GET', '/v1/settlements?from=2026-11-23&to=2026-11-22')).status).toBe(400);

  // The close (01:00 on the 23rd): the 22nd of both merchants closes; the 23rd stays open.
  const report = await stack.closeSettlements();
  expect(report.closed).toHaveLength(2);
  const closedEvents = stack.bus.events({ detailType: 'settlement.closed' });
  expect(closedEvents.map((e) => (e.detail.settlement as { id: string }).id).sort()).toEqual(
    [day22.id, theirList.body.data[0].id].sort(),
  );
  const closed = await api(stack, 'GET', `/v1/settlements/${day22.id}`);
  expect(closed.body).toMatchObject({
    status: 'closed',
    gross_captured: day22.gross_captured,
    net_payable: day22.net_payable,
  });
  expect(closed.body.closed_at).toBe('2026-11-22T18:00:00.000Z');
  const byStatus = await api(stack, 'GET', '/v1/settlements?status=closed');
  expect(byStatus.body.data.map((s: { id: string }) => s.id)).toEqual([day22.id]);
  const ranged = await api(stack, 'GET', '/v1/settlements?from=2026-11-23&to=2026-11-23');
  expect(ranged.body.data.map((s: { day: string }) => s.day)).toEqual(['2026-11-23']);

  // A payment whose capture happened on the 22nd but whose event arrives after the close: on the 23rd.
  setClock('2026-11-22T16:50:00.000Z');
  const late = await payment();
  await stack.settlementEvents.idle();
  const after = await api(stack, 'GET', `/v1/settlements/${day22.id}`);
  expect(after.body).toEqual(closed.body);
  const day23 = (await api(stack, 'GET', '/v1/settlements?from=2026-11-23')).body.data[0];
  const lateLine = (await allLines(day23.id)).find((l) => l.payment_id === late);
  expect(lateLine).toMatchObject({ type: 'capture', amount: 72500, rolled_from: '2026-11-22' });

  // The CSV export: a header and one row per line, the same amounts.
  const csv = await fetch(`${stack.apiUrl}/v1/settlements/${day23.id}/lines.csv`, {
    headers: { Authorization: `Bearer ${stack.merchant.apiKey}` },
  });
  expect(csv.status).toBe(200);
  expect(csv.headers.get('content-type')).toContain('text/csv');
  const rows = (await csv.text()).trim().split('\r\n');
  expect(rows[0]?.startsWith('settlement_id,day,event_id,type,')).toBe(true);
  expect(rows).toHaveLength(day23.counts.lines + 1);
  const netColumn = rows[0]?.split(',').indexOf('net') ?? -1;
  expect(rows.slice(1).reduce((total, row) => total + Number(row.split(',')[netColumn]), 0)).toBe(
    day23.net_payable,
  );
  const theirCsv = await fetch(`${stack.apiUrl}/v1/settlements/${day23.id}/lines.csv`, {
    headers: { Authorization: `Bearer ${other.key}` },
  });
  expect(theirCsv.status).toBe(404);
  expect(stack.settlementEvents.deadLetters()).toEqual([]);
});

async function allLinesAs(settlementId: string, key: string) {
  const page = await api(stack, 'GET', `/v1/settlements/${settlementId}/lines`, { key });
  expect(page.status).toBe(200);
  return page.body.data as { payment_id: string }[];
}
