/**
 * The daily KBank reconciliation against the real local stack: KBank's transaction list from the simulator
 * over HTTP, our payments in DynamoDB Local. A normal day matches; orphans (a charge no attempt of ours
 * recorded) are attached to their payment or, when they name none, given back; money KBank lost is
 * reported as missing; every run is stored and announced; a second run gives nothing back twice. A split
 * payment (points + card) is compared by its card part only, and a points payment has nothing at KBank.
 */
import { randomUUID } from 'node:crypto';
import { bangkokDay } from '../../functions/core/reconciliation.js';
import { MAGIC_CARDS } from '../../local/kbank-simulator.js';
import type { LocalStack } from '../../local/stack.js';
import { api, customerWith, paymentBody, startTestStack, tokenize } from '../support/stack.js';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ actionWindows: { qrSeconds: 2 } });
});
afterAll(async () => {
  await stack?.close();
});

const today = () => bangkokDay(new Date().toISOString());

async function paidCard(): Promise<string> {
  const token = await tokenize(stack, MAGIC_CARDS.visa.number);
  const created = await api(stack, 'POST', '/v1/payments', {
    body: paymentBody(token),
    idempotencyKey: randomUUID(),
  });
  await stack.runner.waitForExecution(created.body.id, 20_000);
  expect((await stack.repo.get(created.body.id))?.status).toBe('succeeded');
  return created.body.id;
}

it('matches a normal day: payments, refunds, nothing to report; the run is stored and announced', async () => {
  const id = await paidCard();
  const refund = await api(stack, 'POST', `/v1/payments/${id}/refunds`, {
    body: { amount: 10000 },
    idempotencyKey: randomUUID(),
  });
  expect(refund.status).toBe(202);
  await stack.refundRunner.waitForExecution(refund.body.id, 20_000);
  await paidCard();

  const run = await stack.reconcile(today());
  expect(run.exceptions).toEqual([]);
  expect(run.counts).toMatchObject({ orphan: 0, state_mismatch: 0, amount_mismatch: 0, missing: 0 });
  expect(run.counts.matched).toBeGreaterThanOrEqual(2);
  expect(run.counts.refunds).toBeGreaterThanOrEqual(1);
  expect(run.exceptions).toEqual([]);
  expect((await stack.repo.listRuns(today())).map((stored) => stored.id)).toContain(run.id);
  const announced = stack.bus.events().filter((event) => event.detailType === 'reconciliation.completed');
  expect(announced.at(-1)?.detail).toMatchObject({ run_id: run.id, date: today() });
});

it('matches a split payment by its card part, refunded into its points, and a points payment', async () => {
  const customerId = await customerWith(stack, 2000);
  const token = await tokenize(stack, MAGIC_CARDS.visa.number);
  // 72500: 300 points (30000) and 42500 by card.
  const split = await api(stack, 'POST', '/v1/payments', {
    body: paymentBody(token, { customer: { id: customerId }, points: { amount: 300 } }),
    idempotencyKey: randomUUID(),
  });
  expect(split.status).toBe(201);
  const splitId: string = split.body.id;
  const points = await api(stack, 'POST', '/v1/payments', {
    body: paymentBody('unused', { customer: { id: customerId }, payment_method: { type: 'points' } }),
    idempotencyKey: randomUUID(),
  });
  const pointsId: string = points.body.id;
  await Promise.all([splitId, pointsId].map((id) => stack.runner.waitForExecution(id, 20_000)));
  expect((await stack.repo.get(splitId))?.status).toBe('succeeded');
  expect((await stack.repo.get(pointsId))?.status).toBe('succeeded');
  // Money first, then points: 52500 is the card's 42500 and 100 points.
  const refund = await api(stack, 'POST', `/v1/payments/${splitId}/refunds`, {
    body: { amount: 52500 },
    idempotencyKey: randomUUID(),
  });
  expect(refund.status).toBe(202);
  await stack.refundRunner.waitForExecution(refund.body.id, 20_000);
  const charge = stack.kbank.charges().find((c) => c.referenceOrder.startsWith(splitId));
  expect(charge).toMatchObject({ amount: 42500, refundedAmount: 42500 });
  expect(stack.kbank.charges().filter((c) => c.referenceOrder.startsWith(pointsId))).toEqual([]);

  const run = await stack.reconcile(today());
  expect(run.exceptions.filter((e) => e.payment_id === splitId || e.payment_id === pointsId)).toEqual([]);
  expect(run.counts).toMatchObject({ amount_mismatch: 0, missing: 0, state_mismatch: 0 });
});

it('gives back an orphan that names no payment of ours, and only once', async () => {
  const orphan = stack.kbank.createOrphan({
    referenceOrder: `not-ours-${randomUUID().slice(0, 8)}`,
    amount: 4200,
  });
  const run = await stack.reconcile(today());
  expect(run.exceptions).toContainEqual(
    expect.objectContaining({
      kind: 'orphan',
      charge_id: orphan.id,
      payment_id: null,
      action: 'reversed',
    }),
  );
  expect(stack.kbank.charges().find((c) => c.id === orphan.id)?.state).toBe('Voided');
  const again = await stack.reconcile(today());
  expect(again.exceptions.filter((e) => e.charge_id === orphan.id)).toEqual([]);
});

it('attaches an orphan to the expired payment it names and gives its money back as a late payment', async () => {
  const created = await api(stack, 'POST', '/v1/payments', {
    body: paymentBody('unused', { payment_method: { type: 'qr_promptpay' } }),
    idempotencyKey: randomUUID(),
  });
  const id: string = created.body.id;
  await stack.runner.waitForExecution(id, 20_000);
  expect((await stack.repo.get(id))?.status).toBe('expired');
  // KBank holds a paid QR charge under a later attempt of this payment that we never recorded.
  const orphan = stack.kbank.createOrphan({ referenceOrder: `${id}-2`, amount: 72500, sourceType: 'qr' });

  const run = await stack.reconcile(today());
  expect(run.exceptions).toContainEqual(
    expect.objectContaining({
      kind: 'orphan',
      charge_id: orphan.id,
      payment_id: id,
      action: 'reversed',
    }),
  );
  expect(stack.kbank.charges().find((c) => c.id === orphan.id)?.refundedAmount).toBe(72500);
  const types = (await stack.repo.listAudit(id, { limit: 100 })).entries.map((entry) => entry.type);
  expect(types).toEqual(
    expect.arrayContaining([
      'reconciliation.orphan_attached',
      'late_payment.detected',
      'late_payment.reversed',
    ]),
  );
  expect((await stack.repo.get(id))?.status).toBe('expired');
  // The money is back: the next run has nothing to give back (the shared marker also forbids it).
  const again = await stack.reconcile(today());
  expect(again.exceptions.filter((e) => e.charge_id === orphan.id && e.action === 'reversed')).toEqual([]);
});

it('reports money we recorded that KBank does not have', async () => {
  const id = await paidCard();
  const attempt = await stack.repo.getAttempt(id, 1);
  if (!attempt?.chargeId) throw new Error('no charge id');
  stack.kbank.forgetCharge(attempt.chargeId);
  const run = await stack.reconcile(today());
  expect(run.exceptions).toContainEqual(
    expect.objectContaining({ kind: 'missing', payment_id: id, action: 'reported' }),
  );
  expect(stack.bus.events().some((event) => event.detailType === 'reconciliation.exception')).toBe(true);
});
