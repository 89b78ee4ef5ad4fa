/**
 * The reconciliation sweep against the real local stack (ASL runner, DynamoDB Local, KBank simulator over
 * HTTP): a saga that never started, a saga that died under a parked manual capture, a paid Thai QR whose
 * saga died before the notify came, two equal refunds sent just before a crash (one applied at KBank).
 * Each time the sweep restarts the saga where the record says and the payment ends where the money is;
 * nothing is left open and the simulator agrees.
 */
import { randomUUID } from 'node:crypto';
import { createKbankClient } from '../../functions/adapters/kbank-client.js';
import { ulid } from '../../functions/core/ids.js';
import { executionName } from '../../functions/core/reconciliation.js';
import { reserveRefund } from '../../functions/core/refund.js';
import { MAGIC_CARDS } from '../../local/kbank-simulator.js';
import { KBANK_SECRET, type LocalStack } from '../../local/stack.js';
import { aPayment } from '../support/payments.js';
import { api, paymentBody, startTestStack, tokenize } from '../support/stack.js';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 1500; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const payment = (id: string) => stack.repo.get(id);
const everythingDue = { dueBefore: '9999-12-31' };

/** A card payment made through the API and captured by its saga. */
async function capturedCardPayment() {
  const token = await tokenize(stack, MAGIC_CARDS.visa.number);
  const created = await api(stack, 'POST', '/v1/payments', {
    body: paymentBody(token),
    idempotencyKey: randomUUID(),
  });
  const id: string = created.body.id;
  await stack.runner.waitForExecution(id, 20_000);
  const paid = await until(
    () => payment(id),
    (p) => p?.status === 'succeeded',
    'succeeded',
  );
  if (!paid) throw new Error(`payment ${id} did not succeed`);
  return paid;
}

/** A manual-capture card payment made through the API, parked in requires_capture by its saga. */
async function awaitingCapture(card: string): Promise<string> {
  const token = await tokenize(stack, card);
  const created = await api(stack, 'POST', '/v1/payments', {
    body: paymentBody(token, { capture: 'manual' }),
    idempotencyKey: randomUUID(),
  });
  const id: string = created.body.id;
  await until(
    () => payment(id),
    (p) => p?.status === 'requires_capture' && !!p.captureToken,
    'requires_capture',
  );
  return id;
}

it('starts the saga of a payment whose creation crashed before StartExecution', async () => {
  // The cost simulator prices only its catalog's SKUs: the order of test/support/stack.ts paymentBody.
  const { payment: fresh, audit } = aPayment({
    merchantId: stack.merchant.id,
    amount: 72500,
    order: {
      id: `order-${randomUUID().slice(0, 8)}`,
      lines: [
        { sku: 'SKU-TSHIRT', quantity: 2, unitAmount: 35000 },
        { sku: 'SKU-STICKER', quantity: 1, unitAmount: 2500 },
      ],
    },
    customer: { id: 'cus-42' },
    paymentMethod: { type: 'card', token: await tokenize(stack, MAGIC_CARDS.visa.number) },
  });
  await stack.repo.create(fresh, audit);
  // Not due yet by its own deadline (5 minutes of grace): a pass now leaves it alone.
  expect((await stack.sweep()).examined).toBe(0);

  const report = await stack.sweep(everythingDue);
  expect(report).toMatchObject({ restarted: 1, errors: 0 });
  const execution = await stack.runner.waitForExecution(fresh.id, 20_000);
  expect(execution.status).toBe('SUCCEEDED');
  const done = await payment(fresh.id);
  expect(done).toMatchObject({ status: 'succeeded', amountCaptured: 72500 });
  const types = (await stack.repo.listAudit(fresh.id, { limit: 100 })).entries.map((entry) => entry.type);
  expect(types.slice(0, 3)).toEqual(['payment.created', 'reconciliation.saga_restarted', 'cost.verified']);
  expect(stack.bus.events({ paymentId: fresh.id }).map((event) => event.detailType)[0]).toBe(
    'payment.created',
  );
  // Terminal: out of the due index.
  expect((await stack.repo.listDue('9999-12-31', 1000)).some((item) => item.paymentId === fresh.id)).toBe(
    false,
  );
});

it('carries out a capture accepted while the saga was dead: recorded, handed to the sweep, captured', async () => {
  const id = await awaitingCapture(MAGIC_CARDS.visa.number);
  await stack.runner.stopExecution(id, 'Crash', 'the saga died');

  const captured = await api(stack, 'POST', `/v1/payments/${id}/capture`, {
    body: { amount: 60000 },
    idempotencyKey: randomUUID(),
  });
  expect(captured.status).toBe(202);
  // The resume failed, so the payment was made due at once: a normal pass (now) picks it up.
  const report = await stack.sweep();
  expect(report).toMatchObject({ restarted: 1, errors: 0 });
  const restarted = await stack.runner.waitForExecution(`${id}-r1`, 20_000);
  expect(restarted.status).toBe('SUCCEEDED');
  expect(await payment(id)).toMatchObject({ status: 'succeeded', amountCaptured: 60000 });
  const charge = stack.kbank.charges().find((c) => c.referenceOrder.startsWith(id));
  expect(charge).toMatchObject({ state: 'Settled' });
});

it('carries out a capture KBank could not settle within the saga’s retries: handed to the sweep, never voided', async () => {
  const id = await awaitingCapture(MAGIC_CARDS.settleUnavailable.number);
  const captured = await api(stack, 'POST', `/v1/payments/${id}/capture`, {
    body: { amount: 60000 },
    idempotencyKey: randomUUID(),
  });
  expect(captured.status).toBe(202);

  // Every settle of this run answered 503: the run ends unresolved, the money still authorized, nothing voided.
  const failed = await stack.runner.waitForExecution(id, 20_000);
  expect(failed).toMatchObject({ status: 'FAILED', error: 'CaptureOutcomeUnknown' });
  expect(await payment(id)).toMatchObject({ status: 'processing', amountToCapture: 60000 });
  const charge = () => stack.kbank.charges().find((c) => c.referenceOrder.startsWith(id));
  expect(charge()).toMatchObject({ state: 'Authorized' });

  const report = await stack.sweep(everythingDue);
  expect(report).toMatchObject({ restarted: 1, errors: 0 });
  const restarted = await stack.runner.waitForExecution(`${id}-r1`, 20_000);
  expect(restarted.status).toBe('SUCCEEDED');
  expect(await payment(id)).toMatchObject({ status: 'succeeded', amountCaptured: 60000 });
  expect(charge()).toMatchObject({ state: 'Settled', settledAmount: 60000 });
  const types = (await stack.repo.listAudit(id, { limit: 100 })).entries.map((entry) => entry.type);
  expect(types).not.toContain('payment.voided');
});
it('finds a Thai QR paid while its saga was dead: the notify hands it to the sweep, the inquiry decides', async () => {
  const created = await api(stack, 'POST', '/v1/payments', {
    body: paymentBody('unused', { payment_method: { type: 'qr_promptpay' } }),
    idempotencyKey: randomUUID(),
  });
  const id: string = created.body.id;
  await until(
    () => payment(id),
    (p) => p?.status === 'requires_action' && !!p.actionToken,
    'requires_action',
  );
  const view = await api(stack, 'GET', `/v1/payments/${id}`);
  await stack.runner.stopExecution(id, 'Crash', 'the saga died');

  const scanned = await fetch(`${stack.kbankUrl}/_sim/qr/scan`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ payload: view.body.next_action.qr_payload, action: 'pay' }),
  });
  expect(scanned.status).toBe(200);
  await stack.callbacks.idle();
  expect((await payment(id))?.status).toBe('requires_action');

  expect(await stack.sweep()).toMatchObject({ restarted: 1, errors: 0 });
  await stack.runner.waitForExecution(`${id}-r1`, 20_000);
  expect(await payment(id)).toMatchObject({ status: 'succeeded', amountCaptured: 72500 });
  expect(stack.bus.events({ paymentId: id }).map((event) => event.detailType)).toContain('payment.captured');
});

it('starts the refund saga of a refund reserved just before a crash, and the refund completes once', async () => {
  const paid = await capturedCardPayment();
  const id = paid.id;
  // What create-refund commits before StartExecution, and then nothing (the crash).
  const { change, refund } = reserveRefund(paid, { refundId: `re_${ulid()}`, amount: 20000 }, new Date());
  await stack.repo.commitRefund(change, { next: refund, previousStatus: null, reserve: refund.amount });

  const report = await stack.sweep(everythingDue);
  expect(report).toMatchObject({ restarted: 1, errors: 0 });
  const execution = await stack.refundRunner.waitForExecution(refund.id, 20_000);
  expect(execution.status).toBe('SUCCEEDED');
  expect(await stack.repo.getRefund(id, refund.id)).toMatchObject({ status: 'succeeded', kbankCalls: 1 });
  expect(await payment(id)).toMatchObject({ amountRefunded: 20000, amountRefundPending: 0 });
  const charge = stack.kbank.charges().find((c) => c.referenceOrder.startsWith(id));
  expect(charge?.refundedAmount).toBe(20000);
  // Closed: a second pass finds nothing of it.
  expect((await stack.sweep(everythingDue)).restarted).toBe(0);
});

it('settles two equal refunds sent just before a crash, one of them applied at KBank: one by the inquiry, one sent again', async () => {
  let paid = await capturedCardPayment();
  const id = paid.id;
  const chargeId = stack.kbank.charges().find((c) => c.referenceOrder.startsWith(id))?.id;
  if (!chargeId) throw new Error('no charge at KBank');

  // Two refunds of 20000 reserved, both marked sent by RefundAtKbank's write-ahead fifteen minutes ago, and
  // only one request reached KBank before the process died. KBank's total says one was applied, not which.
  const sentAt = new Date(Date.now() - 900_000).toISOString();
  const refunds = [];
  for (let i = 0; i < 2; i++) {
    const { change, refund } = reserveRefund(paid, { refundId: `re_${ulid()}`, amount: 20000 }, new Date());
    await stack.repo.commitRefund(change, { next: refund, previousStatus: null, reserve: refund.amount });
    const sending = { ...refund, kbankCalls: 1, sentAt, chargeId, updatedAt: sentAt };
    await stack.repo.updateRefund(sending, refund);
    refunds.push(sending);
    paid = (await payment(id)) ?? paid;
  }
  const kbank = createKbankClient({ baseUrl: stack.kbankUrl, secretKey: KBANK_SECRET, timeoutMs: 8000 });
  await kbank.refundCharge(chargeId, 20000, 'THB', 'the request that got through');

  const report = await stack.sweep(everythingDue);
  expect(report).toMatchObject({ restarted: 2, errors: 0 });
  const [first, second] = [...refunds].sort((a, b) => (a.createdAt + a.id < b.createdAt + b.id ? -1 : 1));
  for (const refund of refunds) {
    const restarts = (await stack.repo.getRefund(id, refund.id))?.reconciliation?.restarts ?? 0;
    const execution = await stack.refundRunner.waitForExecution(executionName(refund.id, restarts), 20_000);
    expect(execution.status).toBe('SUCCEEDED');
  }
  // The first in the fixed order (created, then id) is the one KBank applied; the other was found not
  // applied and sent once more. Neither is left unknown, and nothing was refunded twice.
  expect(await stack.repo.getRefund(id, first!.id)).toMatchObject({ status: 'succeeded', kbankCalls: 1 });
  expect(await stack.repo.getRefund(id, second!.id)).toMatchObject({
    status: 'succeeded',
    kbankCalls: 2,
    notApplied: 1,
  });
  expect(stack.kbank.charges().find((c) => c.id === chargeId)?.refundedAmount).toBe(40000);
  expect(await payment(id)).toMatchObject({ amountRefunded: 40000, amountRefundPending: 0 });
  const types = (await stack.repo.listAudit(id, { limit: 100 })).entries.map((entry) => entry.type);
  expect(types.filter((type) => type === 'refund.not_applied')).toHaveLength(1);
  expect(types.filter((type) => type === 'refund.succeeded')).toHaveLength(2);
});
