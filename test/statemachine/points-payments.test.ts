/**
 * Points payments and split tender through the real saga (statemachines/payment.asl.json run by the ASL
 * runner, the real handlers, DynamoDB Local, the KBank and cost simulators): the points are held before
 * KBank is asked for anything, spent when the payment is captured, and given back by themselves whenever
 * it ends otherwise (declined, expired, canceled, voided), every movement in the customer's ledger and the
 * balance always the ledger's sum.
 */
import { randomUUID } from 'node:crypto';
import { DynamoPointsLedger } from '../../functions/adapters/dynamo-points.js';
import { createDocumentClient } from '../../functions/adapters/dynamo-repository.js';
import { type PointsMovement, sumMovements } from '../../functions/core/points.js';
import { pointsMovementView } from '../../functions/core/points-views.js';
import { MAGIC_CARDS } from '../../local/kbank-simulator.js';
import type { LocalStack } from '../../local/stack.js';
import { api, customerWith, paymentBody, startTestStack, tokenize } from '../support/stack.js';

let stack: LocalStack;
let short: LocalStack;
beforeAll(async () => {
  [stack, short] = await Promise.all([
    startTestStack(),
    startTestStack({ actionWindows: { qrSeconds: 2, redirectSeconds: 2 }, captureWindowSeconds: 2 }),
  ]);
});
afterAll(async () => {
  await Promise.all([stack?.close(), short?.close()]);
});

const ledgerOf = (on: LocalStack) => new DynamoPointsLedger(createDocumentClient(on.dynamodb), on.tableName);

async function create(on: LocalStack, body: Record<string, unknown>) {
  return api(on, 'POST', '/v1/payments', { body, idempotencyKey: randomUUID() });
}

/** 72500 satang (725 points) in points only. */
const pointsBody = (customerId: string, overrides: Record<string, unknown> = {}) =>
  paymentBody('unused', { customer: { id: customerId }, payment_method: { type: 'points' }, ...overrides });

/** 72500 satang: `points` points, the rest by `method`. */
const splitBody = (
  customerId: string,
  method: Record<string, unknown>,
  points: number,
  overrides: Record<string, unknown> = {},
) =>
  paymentBody('unused', {
    customer: { id: customerId },
    payment_method: method,
    points: { amount: points },
    ...overrides,
  });

async function waitFor(on: LocalStack, id: string, done: (status: string, token?: boolean) => boolean) {
  for (let i = 0; i < 1000; i++) {
    const payment = await on.repo.get(id);
    if (payment && done(payment.status, Boolean(payment.captureToken ?? payment.actionToken))) return payment;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`payment ${id} did not get there; it is ${(await on.repo.get(id))?.status}`);
}

/** The payment once the customer can act on it (requires_action, its token stored). */
const awaitingCustomer = (on: LocalStack, id: string) =>
  waitFor(on, id, (status, token) => status === 'requires_action' && Boolean(token));

/** A POST to the KBank simulator's own controls (what the customer's bank or KBank's page would do). */
const sim = (on: LocalStack, path: string, body: unknown = {}) =>
  fetch(`${on.kbankUrl}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });

/** A manual-capture split (300 points of the customer's 300, the rest on a card), awaiting its capture. */
async function manualSplitAuthorized() {
  const customerId = await customerWith(stack, 300);
  const token = await tokenize(stack, MAGIC_CARDS.visa.number);
  const id: string = (
    await create(stack, splitBody(customerId, { type: 'card', token }, 300, { capture: 'manual' }))
  ).body.id;
  await waitFor(stack, id, (status, token) => status === 'requires_capture' && Boolean(token));
  return { customerId, id };
}

async function finish(on: LocalStack, id: string) {
  const execution = await on.runner.waitForExecution(id, 20_000);
  await on.callbacks.idle();
  const payment = await on.repo.get(id);
  const audit = (await on.repo.listAudit(id, { limit: 100 })).entries;
  const events = on.bus.events({ paymentId: id }).map((event) => event.detailType);
  const charges = on.kbank.charges().filter((charge) => charge.referenceOrder.startsWith(id));
  const view = (await api(on, 'GET', `/v1/payments/${id}`)).body;
  return { execution, payment, audit, types: audit.map((e) => e.type), events, charges, view };
}

async function allMovements(on: LocalStack, customerId: string): Promise<PointsMovement[]> {
  const page = await ledgerOf(on).movements(on.merchant.id, customerId, {
    limit: 100,
    order: 'oldest_first',
  });
  return page.movements;
}

/**
 * The customer's balance, checked against the sum of the ledger, and the ledger's movement types. Every
 * movement was announced on the bus, once: its `points.*` event carries it as the API shows it.
 */
async function pointsOf(on: LocalStack, customerId: string, paymentId?: string) {
  const balance = await ledgerOf(on).balance(on.merchant.id, customerId);
  const movements = await allMovements(on, customerId);
  expect({ available: balance?.available, held: balance?.held }).toEqual(sumMovements(movements));
  const announced = on.bus
    .events()
    .filter((event) => event.detailType.startsWith('points.') && event.detail.customer_id === customerId);
  // Parallel payments announce in the order their steps ran, not always the ledger's.
  const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const sent = announced.map((event) => event.detail.movement as { id: string }).sort(byId);
  expect(sent).toEqual(movements.map(pointsMovementView).sort(byId));
  expect(announced.map((event) => event.detail.event_id).sort()).toEqual(sent.map((m) => `evt_${m.id}`));
  return {
    available: balance?.available,
    held: balance?.held,
    movements: movements
      .filter((m) => paymentId === undefined || m.paymentId === paymentId)
      .map((m) => `${m.type}:${m.points}`),
  };
}

describe('a points payment', () => {
  it('holds the points, then spends them on capture: succeeded, no KBank charge', async () => {
    const customerId = await customerWith(stack, 1000);
    const created = await create(stack, pointsBody(customerId));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      status: 'processing',
      payment_method: { type: 'points', card: null },
      tenders: [{ type: 'points', amount: 72500, points: 725, status: 'pending', amount_refunded: 0 }],
    });
    const id: string = created.body.id;
    const run = await finish(stack, id);
    expect(run.execution.status).toBe('SUCCEEDED');
    expect(run.view).toMatchObject({
      status: 'succeeded',
      amount_authorized: 72500,
      amount_captured: 72500,
      tenders: [{ type: 'points', amount: 72500, points: 725, status: 'committed' }],
    });
    expect(run.charges).toEqual([]);
    expect(run.types).toEqual([
      'payment.created',
      'cost.verified',
      'points.reserved',
      'payment.authorized',
      'payment.captured',
    ]);
    expect(run.audit.find((e) => e.type === 'payment.captured')?.detail).toMatchObject({
      points: { movement: 'commit', points: 725 },
    });
    // The hold is announced before the authorization it came with, the spent points with the capture.
    expect(run.events).toEqual([
      'payment.created',
      'points.reserved',
      'payment.authorized',
      'payment.captured',
      'points.committed',
    ]);
    // Each points event has the sequence of the change that moved the points.
    const sequenceOf = (type: string) =>
      stack.bus.events({ paymentId: id, detailType: type }).map((event) => event.detail.sequence);
    expect(sequenceOf('points.reserved')).toEqual([run.audit.find((e) => e.type === 'points.reserved')?.seq]);
    expect(sequenceOf('points.committed')).toEqual(sequenceOf('payment.captured'));
    expect(await pointsOf(stack, customerId, id)).toEqual({
      available: 275,
      held: 0,
      movements: ['reserve:725', 'commit:725'],
    });
  });

  it('is refused at creation with 422 insufficient_points and the balance when the customer has too few, writing nothing', async () => {
    const customerId = await customerWith(stack, 700);
    const answer = await create(stack, pointsBody(customerId));
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ code: 'insufficient_points' });
    expect(answer.body.detail).toMatch(/700 points available, 725 needed/);
    expect(await pointsOf(stack, customerId)).toEqual({ available: 700, held: 0, movements: ['grant:700'] });
  });

  it.each([
    ['an amount that is not whole points', { amount: 72550 }, 'amount'],
    ['points beside a points payment', { points: { amount: 5 } }, 'points'],
    [
      'zero points in a split',
      { payment_method: { type: 'card', token: 'tokn_x' }, points: { amount: 0 } },
      'points.amount',
    ],
    [
      'negative points',
      { payment_method: { type: 'card', token: 'tokn_x' }, points: { amount: -1 } },
      'points.amount',
    ],
    [
      'fractional points',
      { payment_method: { type: 'card', token: 'tokn_x' }, points: { amount: 1.5 } },
      'points.amount',
    ],
    [
      'points worth the whole amount',
      { payment_method: { type: 'card', token: 'tokn_x' }, points: { amount: 725 } },
      'points.amount',
    ],
    [
      'points worth more than the amount',
      { payment_method: { type: 'card', token: 'tokn_x' }, points: { amount: 900 } },
      'points.amount',
    ],
    ['no customer', { customer: undefined }, 'customer'],
  ])('refuses %s with a 400 on that field, writing nothing', async (_, overrides, field) => {
    const customerId = await customerWith(stack, 5000);
    const body: Record<string, unknown> = { ...pointsBody(customerId), ...overrides };
    if ('amount' in overrides) {
      body.order = {
        id: `o-${randomUUID().slice(0, 8)}`,
        lines: [{ sku: 'SKU-X', quantity: 1, unit_amount: 72550 }],
      };
    }
    const answer = await create(stack, body);
    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await pointsOf(stack, customerId)).toEqual({
      available: 5000,
      held: 0,
      movements: ['grant:5000'],
    });
  });

  it('holds the points through manual capture and spends them when captured', async () => {
    const customerId = await customerWith(stack, 800);
    const id: string = (await create(stack, pointsBody(customerId, { capture: 'manual' }))).body.id;
    await waitFor(stack, id, (status, token) => status === 'requires_capture' && Boolean(token));
    expect(await pointsOf(stack, customerId, id)).toEqual({
      available: 75,
      held: 725,
      movements: ['reserve:725'],
    });
    const partial = await api(stack, 'POST', `/v1/payments/${id}/capture`, {
      body: { amount: 50000 },
      idempotencyKey: randomUUID(),
    });
    expect(partial.status).toBe(400);
    const captured = await api(stack, 'POST', `/v1/payments/${id}/capture`, { idempotencyKey: randomUUID() });
    expect(captured.status).toBe(202);
    const run = await finish(stack, id);
    expect(run.view).toMatchObject({ status: 'succeeded', tenders: [{ status: 'committed' }] });
    expect(await pointsOf(stack, customerId, id)).toEqual({
      available: 75,
      held: 0,
      movements: ['reserve:725', 'commit:725'],
    });
  });

  it('gives the points back when the merchant cancels a manual capture', async () => {
    const customerId = await customerWith(stack, 725);
    const id: string = (await create(stack, pointsBody(customerId, { capture: 'manual' }))).body.id;
    await waitFor(stack, id, (status, token) => status === 'requires_capture' && Boolean(token));
    const canceled = await api(stack, 'POST', `/v1/payments/${id}/cancel`, { idempotencyKey: randomUUID() });
    expect(canceled.status).toBe(202);
    const run = await finish(stack, id);
    expect(run.view).toMatchObject({
      status: 'canceled',
      cancellation_reason: 'requested_by_merchant',
      tenders: [{ status: 'released' }],
    });
    expect(run.events).toContain('payment.canceled');
    expect(await pointsOf(stack, customerId, id)).toEqual({
      available: 725,
      held: 0,
      movements: ['reserve:725', 'release:725'],
    });
  });

  it('gives the points back when a manual capture is never made before the window ends', async () => {
    const customerId = await customerWith(short, 725);
    const id: string = (await create(short, pointsBody(customerId, { capture: 'manual' }))).body.id;
    const run = await finish(short, id);
    expect(run.view).toMatchObject({ status: 'canceled', cancellation_reason: 'authorization_expired' });
    expect(await pointsOf(short, customerId, id)).toEqual({
      available: 725,
      held: 0,
      movements: ['reserve:725', 'release:725'],
    });
  });

  it('lets exactly as many of 20 parallel payments through as the balance covers, never below zero', async () => {
    // 5 × 725 points: the sixth payment onwards is refused at creation or declined by the saga's hold.
    const customerId = await customerWith(stack, 5 * 725);
    const created = await Promise.all(
      Array.from({ length: 20 }, () => create(stack, pointsBody(customerId))),
    );
    const ids = created.filter((c) => c.status === 201).map((c) => c.body.id as string);
    expect(created.filter((c) => c.status !== 201).every((c) => c.body.code === 'insufficient_points')).toBe(
      true,
    );
    const runs = await Promise.all(ids.map((id) => finish(stack, id)));
    const succeeded = runs.filter((r) => r.payment?.status === 'succeeded');
    expect(succeeded).toHaveLength(5);
    for (const run of runs.filter((r) => r.payment?.status !== 'succeeded')) {
      expect(run.payment).toMatchObject({ status: 'failed', failure: { code: 'insufficient_points' } });
      expect(run.view.tenders[0].status).toBe('declined');
    }
    const points = await pointsOf(stack, customerId);
    expect(points).toMatchObject({ available: 0, held: 0 });
    expect(points.movements.filter((m) => m.startsWith('reserve'))).toHaveLength(5);
  });
});

describe('split tender: points and a card', () => {
  it('holds the points, charges KBank only the rest, and captures both', async () => {
    const customerId = await customerWith(stack, 500);
    const token = await tokenize(stack, MAGIC_CARDS.visa.number);
    const created = await create(stack, splitBody(customerId, { type: 'card', token }, 300));
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    const run = await finish(stack, id);
    expect(run.view).toMatchObject({
      status: 'succeeded',
      amount: 72500,
      amount_captured: 72500,
      tenders: [
        { type: 'points', amount: 30000, points: 300, status: 'committed' },
        { type: 'card', amount: 42500, points: null, status: 'captured' },
      ],
    });
    expect(run.charges).toHaveLength(1);
    expect(run.charges[0]).toMatchObject({ amount: 42500, state: 'Settled', settledAmount: 42500 });
    expect(run.types.indexOf('points.reserved')).toBeLessThan(run.types.indexOf('authorization.requested'));
    expect(await pointsOf(stack, customerId, id)).toEqual({
      available: 200,
      held: 0,
      movements: ['reserve:300', 'commit:300'],
    });
  });

  it('gives the points back when the card is declined', async () => {
    const customerId = await customerWith(stack, 300);
    const token = await tokenize(stack, MAGIC_CARDS.declined.number);
    const id: string = (await create(stack, splitBody(customerId, { type: 'card', token }, 300))).body.id;
    const run = await finish(stack, id);
    expect(run.view).toMatchObject({
      status: 'failed',
      failure: { code: 'card_declined' },
      tenders: [{ status: 'released' }, { type: 'card', status: 'failed' }],
    });
    expect(run.audit.find((e) => e.type === 'payment.failed')?.detail).toMatchObject({
      points: { movement: 'release', points: 300 },
    });
    expect(await pointsOf(stack, customerId, id)).toEqual({
      available: 300,
      held: 0,
      movements: ['reserve:300', 'release:300'],
    });
  });

  it('after a lost answer, asks KBank before deciding: authorized, captured, points spent', async () => {
    const customerId = await customerWith(stack, 300);
    const token = await tokenize(stack, MAGIC_CARDS.timeoutAfterSuccess.number);
    const id: string = (await create(stack, splitBody(customerId, { type: 'card', token }, 300))).body.id;
    const run = await finish(stack, id);
    expect(run.view).toMatchObject({
      status: 'succeeded',
      tenders: [{ status: 'committed' }, { status: 'captured' }],
    });
    expect(run.types).toContain('authorization.outcome_unknown');
    expect(run.charges).toHaveLength(1);
    expect(await pointsOf(stack, customerId, id)).toMatchObject({ movements: ['reserve:300', 'commit:300'] });
  });

  it('gives the points back when the capture fails and the charge is voided', async () => {
    const customerId = await customerWith(stack, 300);
    const token = await tokenize(stack, MAGIC_CARDS.settleFails.number);
    const id: string = (await create(stack, splitBody(customerId, { type: 'card', token }, 300))).body.id;
    const run = await finish(stack, id);
    expect(run.view).toMatchObject({
      status: 'canceled',
      tenders: [{ status: 'released' }, { status: 'canceled' }],
    });
    expect(run.charges[0]?.state).toBe('Voided');
    expect(await pointsOf(stack, customerId, id)).toEqual({
      available: 300,
      held: 0,
      movements: ['reserve:300', 'release:300'],
    });
  });

  it('holds the points through manual capture; a cancel voids the card and gives the points back', async () => {
    const { customerId, id } = await manualSplitAuthorized();
    expect(await pointsOf(stack, customerId, id)).toMatchObject({ available: 0, held: 300 });
    const below = await api(stack, 'POST', `/v1/payments/${id}/capture`, {
      body: { amount: 29999 },
      idempotencyKey: randomUUID(),
    });
    expect(below).toMatchObject({ status: 400, body: { errors: [{ field: 'amount' }] } });
    expect(
      (await api(stack, 'POST', `/v1/payments/${id}/cancel`, { idempotencyKey: randomUUID() })).status,
    ).toBe(202);
    const run = await finish(stack, id);
    expect(run.view).toMatchObject({
      status: 'canceled',
      tenders: [{ status: 'released' }, { status: 'canceled' }],
    });
    expect(run.charges[0]?.state).toBe('Voided');
    expect(await pointsOf(stack, customerId, id)).toEqual({
      available: 300,
      held: 0,
      movements: ['reserve:300', 'release:300'],
    });
  });

  it('captures part of a manual split: the points whole, the card the rest of what is captured', async () => {
    const { customerId, id } = await manualSplitAuthorized();
    const captured = await api(stack, 'POST', `/v1/payments/${id}/capture`, {
      body: { amount: 50000 },
      idempotencyKey: randomUUID(),
    });
    expect(captured.status).toBe(202);
    const run = await finish(stack, id);
    expect(run.payment).toMatchObject({ status: 'succeeded', amountCaptured: 50000 });
    expect(run.charges[0]).toMatchObject({ state: 'Settled', settledAmount: 20000 });
    expect(await pointsOf(stack, customerId, id)).toMatchObject({ movements: ['reserve:300', 'commit:300'] });
  });
});

describe('split tender: amount change under manual capture', () => {
  it('changes only the card part: the points stay whole, KBank settles the new amount less their value', async () => {
    const { customerId, id } = await manualSplitAuthorized();
    const change = (amount: number, lines: { sku: string; quantity: number; unit_amount: number }[]) =>
      api(stack, 'PATCH', `/v1/payments/${id}`, {
        body: { amount, currency: 'THB', order: { id: `order-${amount}`, lines } },
        idempotencyKey: randomUUID(),
      });
    // Below the points' value (30000): refused on the amount, nothing changed.
    const tooSmall = await change(25000, [{ sku: 'SKU-STICKER', quantity: 10, unit_amount: 2500 }]);
    expect(tooSmall.status).toBe(400);
    expect(tooSmall.body.errors).toEqual([expect.objectContaining({ field: 'amount' })]);
    expect(await stack.repo.get(id)).toMatchObject({ status: 'requires_capture', amount: 72500 });
    // 37500: the points' 30000 and 7500 on the card.
    const changed = await change(37500, [
      { sku: 'SKU-TSHIRT', quantity: 1, unit_amount: 35000 },
      { sku: 'SKU-STICKER', quantity: 1, unit_amount: 2500 },
    ]);
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      status: 'requires_capture',
      amount: 37500,
      amount_capturable: 37500,
      tenders: [
        { type: 'points', amount: 30000, points: 300, status: 'held' },
        { type: 'card', amount: 7500, status: 'authorized' },
      ],
    });
    await waitFor(stack, id, (status, token) => status === 'requires_capture' && Boolean(token));
    const captured = await api(stack, 'POST', `/v1/payments/${id}/capture`, { idempotencyKey: randomUUID() });
    expect(captured.status).toBe(202);
    const run = await finish(stack, id);
    expect(run.payment).toMatchObject({ status: 'succeeded', amount: 37500, amountCaptured: 37500 });
    expect(run.charges[0]).toMatchObject({ amount: 42500, state: 'Settled', settledAmount: 7500 });
    expect(await pointsOf(stack, customerId, id)).toEqual({
      available: 0,
      held: 0,
      movements: ['reserve:300', 'commit:300'],
    });
  });
});

describe('split tender: points and a method the customer completes', () => {
  it('Thai QR paid: points spent, KBank charged the rest', async () => {
    const customerId = await customerWith(stack, 300);
    const id: string = (await create(stack, splitBody(customerId, { type: 'qr_promptpay' }, 300))).body.id;
    const payment = await awaitingCustomer(stack, id);
    const payload = payment.nextAction?.type === 'display_qr' ? payment.nextAction.qrPayload : '';
    expect((await sim(stack, '/_sim/qr/scan', { payload, action: 'pay' })).status).toBe(200);
    const run = await finish(stack, id);
    expect(run.view).toMatchObject({
      status: 'succeeded',
      amount_captured: 72500,
      tenders: [{ status: 'committed' }, { type: 'qr_promptpay', amount: 42500, status: 'captured' }],
    });
    expect(await pointsOf(stack, customerId, id)).toMatchObject({ movements: ['reserve:300', 'commit:300'] });
  });

  it('Alipay completed at KBank: points spent, KBank charged the rest', async () => {
    const customerId = await customerWith(stack, 300);
    const id: string = (await create(stack, splitBody(customerId, { type: 'alipay' }, 300))).body.id;
    const payment = await awaitingCustomer(stack, id);
    const url = payment.nextAction?.type === 'redirect_to_url' ? payment.nextAction.url : '';
    const chargeId = decodeURIComponent(url.split('/').pop() ?? '');
    expect((await sim(stack, `/_sim/charges/${chargeId}/complete`)).status).toBe(200);
    const run = await finish(stack, id);
    expect(run.view).toMatchObject({
      status: 'succeeded',
      amount_captured: 72500,
      tenders: [{ status: 'committed' }, { type: 'alipay', amount: 42500, status: 'captured' }],
    });
    expect(run.charges).toEqual([expect.objectContaining({ amount: 42500 })]);
    expect(await pointsOf(stack, customerId, id)).toMatchObject({ movements: ['reserve:300', 'commit:300'] });
  });

  it('Alipay abandoned: the customer never completes it, the points come back', async () => {
    const customerId = await customerWith(short, 300);
    const id: string = (await create(short, splitBody(customerId, { type: 'alipay' }, 300))).body.id;
    const run = await finish(short, id);
    expect(run.payment?.status).toBe('expired');
    expect(run.view.tenders).toMatchObject([{ status: 'released' }, { type: 'alipay', status: 'expired' }]);
    expect(await pointsOf(short, customerId, id)).toEqual({
      available: 300,
      held: 0,
      movements: ['reserve:300', 'release:300'],
    });
  });

  it('Thai QR never paid: expired, the points come back by themselves', async () => {
    const customerId = await customerWith(short, 300);
    const id: string = (await create(short, splitBody(customerId, { type: 'qr_promptpay' }, 300))).body.id;
    const run = await finish(short, id);
    expect(run.view).toMatchObject({
      status: 'expired',
      tenders: [{ status: 'released' }, { status: 'expired' }],
    });
    expect(await pointsOf(short, customerId, id)).toEqual({
      available: 300,
      held: 0,
      movements: ['reserve:300', 'release:300'],
    });
  });

  it('WeChat Pay canceled by the merchant while the customer has the QR: the points come back', async () => {
    const customerId = await customerWith(stack, 300);
    const id: string = (await create(stack, splitBody(customerId, { type: 'wechat_pay' }, 300))).body.id;
    await awaitingCustomer(stack, id);
    expect(
      (await api(stack, 'POST', `/v1/payments/${id}/cancel`, { idempotencyKey: randomUUID() })).status,
    ).toBe(202);
    const run = await finish(stack, id);
    expect(run.view).toMatchObject({
      status: 'canceled',
      tenders: [{ status: 'released' }, { status: 'canceled' }],
    });
    expect(await pointsOf(stack, customerId, id)).toEqual({
      available: 300,
      held: 0,
      movements: ['reserve:300', 'release:300'],
    });
  });
});

/** Refunds `amount` (all that is left when absent) and waits for the refund saga. */
async function refund(on: LocalStack, paymentId: string, amount?: number) {
  const answer = await api(on, 'POST', `/v1/payments/${paymentId}/refunds`, {
    body: amount === undefined ? {} : { amount },
    idempotencyKey: randomUUID(),
  });
  if (answer.status !== 202) return { answer, refund: null };
  await on.refundRunner.waitForExecution(answer.body.id, 20_000);
  const listed = await api(on, 'GET', `/v1/payments/${paymentId}/refunds`);
  return { answer, refund: listed.body.data.find((r: { id: string }) => r.id === answer.body.id) };
}

describe('refunds of points: money first, then points, never more of either than was paid', () => {
  it('refunds a points payment in points, without KBank, and refuses what is not left', async () => {
    const customerId = await customerWith(stack, 725);
    const id: string = (await create(stack, pointsBody(customerId))).body.id;
    await finish(stack, id);
    const first = await refund(stack, id, 20000);
    expect(first.refund).toMatchObject({
      status: 'succeeded',
      amount: 20000,
      points: { points: 200, amount: 20000 },
    });
    expect(await pointsOf(stack, customerId, id)).toMatchObject({
      available: 200,
      movements: ['reserve:725', 'commit:725', 'refund:200'],
    });
    const fraction = await refund(stack, id, 150);
    expect(fraction.answer).toMatchObject({ status: 400, body: { errors: [{ field: 'amount' }] } });
    const rest = await refund(stack, id);
    expect(rest.refund).toMatchObject({ status: 'succeeded', amount: 52500, points: { points: 525 } });
    const more = await refund(stack, id, 100);
    expect(more.answer).toMatchObject({ status: 422, body: { code: 'refund_exceeds_refundable' } });
    const view = (await api(stack, 'GET', `/v1/payments/${id}`)).body;
    expect(view).toMatchObject({
      amount_refunded: 72500,
      amount_refundable: 0,
      tenders: [{ type: 'points', amount_refunded: 72500 }],
    });
    expect(await pointsOf(stack, customerId)).toMatchObject({ available: 725, held: 0 });
  });

  it('refunds a split to the card first, then in points', async () => {
    const customerId = await customerWith(stack, 300);
    const token = await tokenize(stack, MAGIC_CARDS.visa.number);
    const id: string = (await create(stack, splitBody(customerId, { type: 'card', token }, 300))).body.id;
    await finish(stack, id);
    const cardOnly = await refund(stack, id, 40000);
    expect(cardOnly.refund).toMatchObject({ status: 'succeeded', amount: 40000 });
    expect(cardOnly.refund.points).toBeUndefined();
    const both = await refund(stack, id, 12500);
    expect(both.refund).toMatchObject({
      status: 'succeeded',
      amount: 12500,
      points: { points: 100, amount: 10000 },
    });
    const charge = stack.kbank.charges().find((c) => c.referenceOrder.startsWith(id));
    expect(charge?.refundedAmount).toBe(42500);
    const pointsOnly = await refund(stack, id);
    expect(pointsOnly.refund).toMatchObject({ status: 'succeeded', amount: 20000, points: { points: 200 } });
    expect(stack.kbank.charges().find((c) => c.referenceOrder.startsWith(id))?.refundedAmount).toBe(42500);
    const view = (await api(stack, 'GET', `/v1/payments/${id}`)).body;
    expect(view.tenders).toMatchObject([
      { type: 'points', amount_refunded: 30000 },
      { type: 'card', amount_refunded: 42500 },
    ]);
    expect(await pointsOf(stack, customerId, id)).toMatchObject({
      movements: ['reserve:300', 'commit:300', 'refund:100', 'refund:200'],
    });
  });

  it('gives no points back when the money part fails at KBank: the refund fails whole, nothing moves', async () => {
    const customerId = await customerWith(stack, 300);
    const token = await tokenize(stack, MAGIC_CARDS.refundFails.number);
    const id: string = (await create(stack, splitBody(customerId, { type: 'card', token }, 300))).body.id;
    await finish(stack, id);
    const before = await pointsOf(stack, customerId, id);
    // 50000 = the card's 42500, then 75 points: KBank refuses the card part, so neither is given back.
    const failed = await refund(stack, id, 50000);
    expect(failed.refund).toMatchObject({
      status: 'failed',
      amount: 50000,
      points: { points: 75, amount: 7500 },
      failure: { code: expect.any(String) },
    });
    expect(await pointsOf(stack, customerId, id)).toEqual(before);
    expect(before.movements).toEqual(['reserve:300', 'commit:300']);
    const payment = await stack.repo.get(id);
    expect(payment).toMatchObject({ amountRefunded: 0, amountRefundPending: 0 });
    expect(payment?.points).toMatchObject({ status: 'committed', points: 300 });
    expect(payment?.points?.refunded ?? 0).toBe(0);
    expect(payment?.points?.refundPending ?? 0).toBe(0);
    const view = (await api(stack, 'GET', `/v1/payments/${id}`)).body;
    expect(view).toMatchObject({ amount_refundable: 72500 });
    expect(view.tenders).toMatchObject([{ amount_refunded: 0 }, { amount_refunded: 0 }]);
    const events = stack.bus.events({ paymentId: id }).map((event) => event.detailType);
    expect(events).toContain('refund.failed');
    expect(events).not.toContain('points.refunded');
    expect(stack.kbank.charges().find((c) => c.referenceOrder.startsWith(id))?.refundedAmount).toBe(0);
    // Money first still holds: the points cannot be refunded on their own while the card part is left.
    const again = await refund(stack, id, 10000);
    expect(again.refund).toMatchObject({ status: 'failed' });
    expect(again.refund.points).toBeUndefined();
    expect(await pointsOf(stack, customerId, id)).toEqual(before);
  });

  it('never refunds more of either tender under parallel partial refunds of a split', async () => {
    const customerId = await customerWith(stack, 300);
    const token = await tokenize(stack, MAGIC_CARDS.visa.number);
    const id: string = (await create(stack, splitBody(customerId, { type: 'card', token }, 300))).body.id;
    await finish(stack, id);
    // 8 × 12500 = 100000 asked of 72500 (42500 card + 30000 in points).
    const results = await Promise.all(Array.from({ length: 8 }, () => refund(stack, id, 12500)));
    const succeeded = results.filter((r) => r.refund?.status === 'succeeded');
    const refused = results.filter((r) => r.answer.status !== 202);
    expect(refused.every((r) => r.answer.status === 422 || r.answer.status === 400)).toBe(true);
    const refundedPoints = succeeded.reduce((total, r) => total + (r.refund.points?.points ?? 0), 0);
    const charge = stack.kbank.charges().find((c) => c.referenceOrder.startsWith(id));
    expect(charge?.refundedAmount ?? 0).toBeLessThanOrEqual(42500);
    expect(refundedPoints).toBeLessThanOrEqual(300);
    expect((charge?.refundedAmount ?? 0) + refundedPoints * 100).toBe(succeeded.length * 12500);
    const payment = await stack.repo.get(id);
    expect(payment?.amountRefunded).toBe(succeeded.length * 12500);
    expect(await pointsOf(stack, customerId)).toMatchObject({ available: refundedPoints, held: 0 });
  });
});
