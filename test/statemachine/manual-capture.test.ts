/**
 * Manual capture through the real saga: the execution parks on a task token in `requires_capture` and
 * is resumed by the capture or cancel endpoint, or voids by itself when the authorization window ends.
 */
import { randomUUID } from 'node:crypto';
import { hashApiKey } from '../../functions/core/api-keys.js';
import { MAGIC_CARDS } from '../../local/kbank-simulator.js';
import { type LocalStack, randomApiKey, startLocalStack } from '../../local/stack.js';
import { api, paymentBody, startTestStack, tokenize } from '../support/stack.js';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

async function waitForStatus(s: LocalStack, id: string, status: string) {
  for (let i = 0; i < 500; i++) {
    const payment = await s.repo.get(id);
    if (payment?.status === status) return payment;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`payment ${id} never reached ${status}; it is ${(await s.repo.get(id))?.status}`);
}

async function authorizeManual(s: LocalStack = stack) {
  const token = await tokenize(s, MAGIC_CARDS.visa.number);
  const created = await api(s, 'POST', '/v1/payments', {
    body: paymentBody(token, { capture: 'manual' }),
    idempotencyKey: randomUUID(),
  });
  expect(created.status).toBe(201);
  expect(created.body.capture).toBe('manual');
  const id: string = created.body.id;
  await waitForStatus(s, id, 'requires_capture');
  return id;
}

const charge = (s: LocalStack, id: string) => s.kbank.charges().find((c) => c.referenceOrder.startsWith(id));
const eventTypes = (s: LocalStack, id: string) => s.bus.events({ paymentId: id }).map((e) => e.detailType);

describe('manual capture', () => {
  it('waits in requires_capture with what may be captured and until when', async () => {
    const id = await authorizeManual();
    const { body } = await api(stack, 'GET', `/v1/payments/${id}`);
    expect(body).toMatchObject({ status: 'requires_capture', amount_capturable: 72500, amount_captured: 0 });
    expect(Date.parse(body.capture_before)).toBeGreaterThan(Date.now() + 6 * 24 * 3600 * 1000);
    expect(JSON.stringify(body)).not.toMatch(/token/i);
    expect(charge(stack, id)?.state).toBe('Authorized');
  });

  it('captures part of the authorization and releases the rest', async () => {
    const id = await authorizeManual();
    const res = await api(stack, 'POST', `/v1/payments/${id}/capture`, {
      body: { amount: 50000 },
      idempotencyKey: randomUUID(),
    });
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('processing');
    const execution = await stack.runner.waitForExecution(id, 20_000);
    expect(execution.status).toBe('SUCCEEDED');
    expect(await stack.repo.get(id)).toMatchObject({ status: 'succeeded', amountCaptured: 50000 });
    expect(charge(stack, id)).toMatchObject({ state: 'Settled', settledAmount: 50000 });
    expect(eventTypes(stack, id)).toEqual([
      'payment.created',
      'payment.authorized',
      'payment.capture_requested',
      'payment.captured',
    ]);
  });

  it('refuses to capture more than is capturable, changing nothing', async () => {
    const id = await authorizeManual();
    const res = await api(stack, 'POST', `/v1/payments/${id}/capture`, {
      body: { amount: 72501 },
      idempotencyKey: randomUUID(),
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('amount');
    expect((await stack.repo.get(id))?.status).toBe('requires_capture');
  });

  it('lets exactly one of two concurrent captures through', async () => {
    const id = await authorizeManual();
    const amounts = [30000, 40000];
    const results = await Promise.all(
      amounts.map((amount) =>
        api(stack, 'POST', `/v1/payments/${id}/capture`, { body: { amount }, idempotencyKey: randomUUID() }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([202, 409]);
    const loser = results.find((r) => r.status === 409);
    expect(['payment_not_capturable', 'payment_not_cancelable', 'payment_cancel_in_progress']).toContain(
      loser?.body.code,
    );
    const captured = amounts[results.findIndex((r) => r.status === 202)];
    await stack.runner.waitForExecution(id, 20_000);
    expect(await stack.repo.get(id)).toMatchObject({ status: 'succeeded', amountCaptured: captured });
    expect(charge(stack, id)?.settledAmount).toBe(captured);
  });

  it('lets exactly one of a racing capture and cancel win; the loser gets 409', async () => {
    const id = await authorizeManual();
    const [captured, canceled] = await Promise.all([
      api(stack, 'POST', `/v1/payments/${id}/capture`, { idempotencyKey: randomUUID() }),
      api(stack, 'POST', `/v1/payments/${id}/cancel`, { idempotencyKey: randomUUID() }),
    ]);
    expect([captured.status, canceled.status].sort()).toEqual([202, 409]);
    await stack.runner.waitForExecution(id, 20_000);
    const payment = await stack.repo.get(id);
    expect(payment?.status).toBe(captured.status === 202 ? 'succeeded' : 'canceled');
    expect(charge(stack, id)?.state).toBe(captured.status === 202 ? 'Settled' : 'Voided');
  });

  it('replays a capture retried with the same key and does not capture twice', async () => {
    const id = await authorizeManual();
    const key = randomUUID();
    const first = await api(stack, 'POST', `/v1/payments/${id}/capture`, { idempotencyKey: key });
    const second = await api(stack, 'POST', `/v1/payments/${id}/capture`, { idempotencyKey: key });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    await stack.runner.waitForExecution(id, 20_000);
    expect(charge(stack, id)?.settledAmount).toBe(72500);
  });

  it('refuses to capture an automatic payment (409) and replays that refusal for the same key', async () => {
    const token = await tokenize(stack, MAGIC_CARDS.visa.number);
    const created = await api(stack, 'POST', '/v1/payments', {
      body: paymentBody(token),
      idempotencyKey: randomUUID(),
    });
    await stack.runner.waitForExecution(created.body.id, 20_000);
    const key = randomUUID();
    const res = await api(stack, 'POST', `/v1/payments/${created.body.id}/capture`, { idempotencyKey: key });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('payment_not_capturable');
    const again = await api(stack, 'POST', `/v1/payments/${created.body.id}/capture`, {
      idempotencyKey: key,
    });
    expect(again.status).toBe(409);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });
});

describe('cancel', () => {
  it('voids the authorization at KBank and records canceled by the merchant', async () => {
    const id = await authorizeManual();
    const res = await api(stack, 'POST', `/v1/payments/${id}/cancel`, { idempotencyKey: randomUUID() });
    expect(res.status).toBe(202);
    const execution = await stack.runner.waitForExecution(id, 20_000);
    expect(execution.status).toBe('SUCCEEDED');
    expect(await stack.repo.get(id)).toMatchObject({
      status: 'canceled',
      cancellationReason: 'requested_by_merchant',
    });
    expect(charge(stack, id)?.state).toBe('Voided');
    expect(eventTypes(stack, id)).toEqual(['payment.created', 'payment.authorized', 'payment.canceled']);
  });

  it('answers 409 with a clear problem once the payment can no longer be canceled', async () => {
    const id = await authorizeManual();
    await api(stack, 'POST', `/v1/payments/${id}/capture`, { idempotencyKey: randomUUID() });
    await stack.runner.waitForExecution(id, 20_000);
    const res = await api(stack, 'POST', `/v1/payments/${id}/cancel`, { idempotencyKey: randomUUID() });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      code: 'payment_not_cancelable',
      detail: expect.stringContaining('succeeded'),
    });
  });

  it("treats another merchant's payment as not found, changing nothing", async () => {
    const id = await authorizeManual();
    const otherKey = randomApiKey();
    await stack.repo.putApiKey(hashApiKey(otherKey), { id: 'merchant_other', name: 'Other' });
    for (const action of ['cancel', 'capture']) {
      const res = await api(stack, 'POST', `/v1/payments/${id}/${action}`, {
        idempotencyKey: randomUUID(),
        key: otherKey,
      });
      expect(res.status).toBe(404);
    }
    expect((await stack.repo.get(id))?.status).toBe('requires_capture');
  });
});

describe('amount change before capture', () => {
  const smallerOrder = {
    amount: 37500,
    currency: 'THB',
    order: {
      id: 'order-smaller',
      lines: [
        { sku: 'SKU-TSHIRT', quantity: 1, unit_amount: 35000 },
        { sku: 'SKU-STICKER', quantity: 1, unit_amount: 2500 },
      ],
    },
  };

  it('re-prices a smaller order, makes it the capturable amount, publishes it, and captures it', async () => {
    const id = await authorizeManual();
    const before = await stack.repo.get(id);
    const res = await api(stack, 'PATCH', `/v1/payments/${id}`, {
      body: smallerOrder,
      idempotencyKey: randomUUID(),
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'requires_capture', amount: 37500, amount_capturable: 37500 });
    expect(res.body.capture_before).toBe(before?.captureBefore);
    await stack.bus.waitFor(
      (e) => e.detailType === 'payment.amount_changed' && (e.detail as any).payment.id === id,
      5000,
    );
    // The saga parks again with a new token before the capture resumes it.
    await waitForAudit(id, 'capture.wait_renewed');

    const captured = await api(stack, 'POST', `/v1/payments/${id}/capture`, { idempotencyKey: randomUUID() });
    expect(captured.status).toBe(202);
    await stack.runner.waitForExecution(id, 20_000);
    expect(await stack.repo.get(id)).toMatchObject({ status: 'succeeded', amountCaptured: 37500 });
    expect(charge(stack, id)?.settledAmount).toBe(37500);
  });

  it('refuses an increase with a clear problem and changes nothing', async () => {
    const id = await authorizeManual();
    const res = await api(stack, 'PATCH', `/v1/payments/${id}`, {
      body: {
        amount: 73500,
        currency: 'THB',
        order: { id: 'o-big', lines: [{ sku: 'SKU-STICKER', quantity: 1, unit_amount: 73500 }] },
      },
      idempotencyKey: randomUUID(),
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('reauthorization_required');
    expect(await stack.repo.get(id)).toMatchObject({ status: 'requires_capture', amount: 72500 });
  });

  it('refuses an order the cost service prices differently (422 cost_mismatch)', async () => {
    const id = await authorizeManual();
    const res = await api(stack, 'PATCH', `/v1/payments/${id}`, {
      body: {
        amount: 1000,
        currency: 'THB',
        order: { id: 'o-cheap', lines: [{ sku: 'SKU-TSHIRT', quantity: 1, unit_amount: 1000 }] },
      },
      idempotencyKey: randomUUID(),
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('cost_mismatch');
    expect((await stack.repo.get(id))?.amount).toBe(72500);
  });

  it('refuses to change a payment that is not awaiting capture', async () => {
    const id = await authorizeManual();
    await api(stack, 'POST', `/v1/payments/${id}/cancel`, { idempotencyKey: randomUUID() });
    await stack.runner.waitForExecution(id, 20_000);
    const res = await api(stack, 'PATCH', `/v1/payments/${id}`, {
      body: smallerOrder,
      idempotencyKey: randomUUID(),
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('amount_not_changeable');
  });
});

async function waitForAudit(id: string, type: string) {
  for (let i = 0; i < 500; i++) {
    const { entries } = await stack.repo.listAudit(id, { limit: 100 });
    if (entries.some((entry) => entry.type === type)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no ${type} in ${id}'s audit trail`);
}

describe('authorization window', () => {
  it('voids by itself when nobody captures in time, recording authorization_expired', async () => {
    const short = await startLocalStack({
      dynamodbEndpoint: process.env.DYNAMODB_ENDPOINT as string,
      tableName: `payments-${randomUUID().slice(0, 8)}`,
      waitScale: 0,
      captureWindowSeconds: 1,
    });
    try {
      const id = await authorizeManual(short);
      const execution = await short.runner.waitForExecution(id, 20_000);
      expect(execution.status).toBe('SUCCEEDED');
      expect(await short.repo.get(id)).toMatchObject({
        status: 'canceled',
        cancellationReason: 'authorization_expired',
      });
      expect(charge(short, id)?.state).toBe('Voided');
      expect(eventTypes(short, id).at(-1)).toBe('payment.canceled');
    } finally {
      await short.close();
    }
  });
});
