/**
 * Loyalty points as a merchant's developer sees them, over HTTP on the local stack (the real handlers, both
 * sagas, DynamoDB Local, the KBank simulator, the webhook consumer): grant points, read the balance, pay a
 * whole order with points, pay another part points and part card, refund part of the split, and read the
 * ledger page by page. The balance is the sum of the ledger at every step, KBank only ever sees the card's
 * part, and every movement reaches a `points.*` webhook endpoint once, signed.
 */
import { randomUUID } from 'node:crypto';
import { MAGIC_CARDS } from '../../local/kbank-simulator.js';
import type { LocalStack } from '../../local/stack.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../local/webhook-receiver.js';
import { api, paymentBody, startTestStack, tokenize } from '../support/stack.js';

let stack: LocalStack;
let listener: WebhookReceiver;
beforeAll(async () => {
  stack = await startTestStack();
  listener = await startWebhookReceiver();
});
afterAll(async () => {
  await listener?.close();
  await stack?.close();
});

type Movement = { id: string; type: string; points: number; available: number; held: number };

/** Every movement of the customer, oldest first, `limit` a page, following the cursor. */
async function ledger(customerId: string, limit = 2): Promise<Movement[]> {
  const all: Movement[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `limit=${limit}&order=oldest_first${cursor ? `&cursor=${cursor}` : ''}`;
    const page = await api(stack, 'GET', `/v1/customers/${customerId}/points/transactions?${query}`);
    expect(page.status).toBe(200);
    all.push(...page.body.data);
    cursor = page.body.has_more ? page.body.next_cursor : null;
  } while (cursor);
  return all;
}

/** The balance over HTTP, checked against the sum of the ledger over HTTP. */
async function balance(customerId: string) {
  const answer = await api(stack, 'GET', `/v1/customers/${customerId}/points`);
  expect(answer.status).toBe(200);
  const entries = await ledger(customerId);
  const sum = entries.reduce(
    (total, m) => ({ available: total.available + m.available, held: total.held + m.held }),
    { available: 0, held: 0 },
  );
  expect({ available: answer.body.available, held: answer.body.held }).toEqual(sum);
  return { available: answer.body.available as number, held: answer.body.held as number };
}

async function pay(body: Record<string, unknown>) {
  const created = await api(stack, 'POST', '/v1/payments', { body, idempotencyKey: randomUUID() });
  expect(created.status).toBe(201);
  expect((await stack.runner.waitForExecution(created.body.id, 20_000)).status).toBe('SUCCEEDED');
  return (await api(stack, 'GET', `/v1/payments/${created.body.id}`)).body;
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

it('grants, pays with points, pays a split, refunds part of it, and keeps the ledger, balance and events in step', async () => {
  const endpoint = await api(stack, 'POST', '/v1/webhook_endpoints', {
    body: { url: listener.url, events: ['points.*'] },
    idempotencyKey: randomUUID(),
  });
  expect(endpoint.status).toBe(201);
  listener.setSecret(endpoint.body.secret);
  const customerId = `cus-${randomUUID().slice(0, 12)}`;

  // Grant (and its replay under the same key: one grant).
  const grantKey = randomUUID();
  const grantBody = { points: 2000, reason: 'Welcome bonus' };
  const path = `/v1/customers/${customerId}/points/grants`;
  const granted = await api(stack, 'POST', path, { body: grantBody, idempotencyKey: grantKey });
  expect(granted).toMatchObject({
    status: 201,
    body: { movement: { type: 'grant', points: 2000 }, balance: { available: 2000, held: 0 } },
  });
  const replayed = await api(stack, 'POST', path, { body: grantBody, idempotencyKey: grantKey });
  expect(replayed.headers.get('Idempotent-Replayed')).toBe('true');
  expect(await balance(customerId)).toEqual({ available: 2000, held: 0 });

  // The whole order with points: 72500 = 725 points, nothing at KBank.
  const whole = await pay(
    paymentBody('unused', { customer: { id: customerId }, payment_method: { type: 'points' } }),
  );
  expect(whole).toMatchObject({
    status: 'succeeded',
    amount_captured: 72500,
    tenders: [{ type: 'points', amount: 72500, points: 725, status: 'committed' }],
  });
  expect(stack.kbank.charges().filter((c) => c.referenceOrder.startsWith(whole.id))).toEqual([]);
  expect(await balance(customerId)).toEqual({ available: 1275, held: 0 });

  // A split: 300 points (30000) and 42500 by card.
  const token = await tokenize(stack, MAGIC_CARDS.visa.number);
  const split = await pay(paymentBody(token, { customer: { id: customerId }, points: { amount: 300 } }));
  expect(split).toMatchObject({
    status: 'succeeded',
    amount_captured: 72500,
    tenders: [
      { type: 'points', amount: 30000, points: 300, status: 'committed' },
      { type: 'card', amount: 42500, status: 'captured' },
    ],
  });
  const charge = () => stack.kbank.charges().find((c) => c.referenceOrder.startsWith(split.id));
  expect(charge()).toMatchObject({ amount: 42500 });
  expect(await balance(customerId)).toEqual({ available: 975, held: 0 });

  // Refund 50000 of the split: money first (the card's 42500), then 75 points.
  const refund = await api(stack, 'POST', `/v1/payments/${split.id}/refunds`, {
    body: { amount: 50000 },
    idempotencyKey: randomUUID(),
  });
  expect(refund).toMatchObject({
    status: 202,
    body: { amount: 50000, points: { points: 75, amount: 7500 } },
  });
  expect((await stack.refundRunner.waitForExecution(refund.body.id, 20_000)).status).toBe('SUCCEEDED');
  expect((await api(stack, 'GET', `/v1/payments/${split.id}`)).body).toMatchObject({
    amount_refunded: 50000,
    amount_refundable: 22500,
    tenders: [
      { type: 'points', amount_refunded: 7500 },
      { type: 'card', amount_refunded: 42500 },
    ],
  });
  expect(charge()).toMatchObject({ refundedAmount: 42500 });
  expect(await balance(customerId)).toEqual({ available: 1050, held: 0 });

  // The ledger, read in pages of two: every movement, in order, with its payment and refund.
  const entries = await ledger(customerId);
  expect(entries.map((m) => `${m.type}:${m.points}`)).toEqual([
    'grant:2000',
    'reserve:725',
    'commit:725',
    'reserve:300',
    'commit:300',
    'refund:75',
  ]);
  expect(entries.slice(1, 3).every((m) => (m as { payment_id?: string }).payment_id === whole.id)).toBe(true);
  expect(entries.at(-1)).toMatchObject({ payment_id: split.id, refund_id: refund.body.id });
  // Spent: 725 + 300 points; given back: 75; 2000 − 1025 + 75 = 1050.
  expect(entries.reduce((sum, m) => sum + m.available, 0)).toBe(1050);

  // Each movement reached the endpoint once, signed, as the ledger shows it.
  const received = await until('a points webhook per movement', () => {
    const accepted = listener.received.filter((d) => d.accepted && d.event?.data.customer_id === customerId);
    return accepted.length >= entries.length ? accepted : undefined;
  });
  expect(received.every((d) => d.verified)).toBe(true);
  const byId = new Map(received.map((d) => [d.id, d.event]));
  expect(byId.size).toBe(entries.length);
  for (const movement of entries) {
    expect(byId.get(`evt_${movement.id}`)?.data).toEqual(movement);
  }
  expect(received.map((d) => d.event?.type).sort()).toEqual(
    [
      'points.granted',
      'points.reserved',
      'points.committed',
      'points.reserved',
      'points.committed',
      'points.refunded',
    ].sort(),
  );
}, 60_000);
