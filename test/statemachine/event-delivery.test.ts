/**
 * A bus that refuses events, against the real sagas (the ASL runner, DynamoDB Local, the KBank simulator):
 * the change stays recorded and nothing is compensated; the event is held on the payment, the
 * reconciliation sweep resumes the saga once the bus is back, and the event leaves once, under the id of
 * the change that recorded it.
 */
import { randomUUID } from 'node:crypto';
import type { Payment } from '../../functions/core/payment.js';
import { MAGIC_CARDS } from '../../local/kbank-simulator.js';
import type { LocalStack } from '../../local/stack.js';
import { api, customerWith, paymentBody, startTestStack, tokenize } from '../support/stack.js';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterEach(() => stack.bus.failWhen(null));
afterAll(async () => {
  await stack?.close();
});

const everythingDue = { dueBefore: '9999-12-31' };
const refused = (type: string) => stack.bus.failWhen((entry) => entry.DetailType === type);
const published = (id: string) => stack.bus.events({ paymentId: id });
const charge = (id: string) => stack.kbank.charges().find((c) => c.referenceOrder.startsWith(id));
const auditTypes = async (id: string) =>
  (await stack.repo.listAudit(id, { limit: 100 })).entries.map((entry) => entry.type);
const isDue = async (id: string) =>
  (await stack.repo.listDue('9999-12-31', 1000)).some((item) => item.paymentId === id);

/** The id the event of the change recorded as `type` must carry: its payment and that change's sequence. */
async function eventIdOf(id: string, type: string): Promise<string> {
  const entry = (await stack.repo.listAudit(id, { limit: 100 })).entries.find((e) => e.type === type);
  if (!entry) throw new Error(`payment ${id} has no ${type} entry`);
  return `evt_${id.slice('pay_'.length)}_${entry.seq}`;
}

async function createPayment(overrides: Record<string, unknown> = {}): Promise<string> {
  const token = await tokenize(stack, MAGIC_CARDS.visa.number);
  const created = await api(stack, 'POST', '/v1/payments', {
    body: paymentBody(token, overrides),
    idempotencyKey: randomUUID(),
  });
  expect(created.status).toBe(201);
  return created.body.id as string;
}

async function until(id: string, done: (payment: Payment | null) => boolean, what: string) {
  for (let i = 0; i < 1500; i++) {
    const payment = await stack.repo.get(id);
    if (done(payment)) return payment;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('a failure to publish an event', () => {
  it('never voids a good authorization: the saga hands over, and the resumed run publishes it once and captures', async () => {
    refused('payment.authorized');
    const id = await createPayment();
    const failed = await stack.runner.waitForExecution(id, 20_000);
    expect(failed).toMatchObject({ status: 'FAILED', error: 'EventDeliveryFailed' });
    expect(failed.enteredStates).not.toContain('VoidAuthorization');
    const held = await stack.repo.get(id);
    expect(held).toMatchObject({ status: 'processing', amountAuthorized: 72500, amountCaptured: 0 });
    expect(held?.undeliveredEvents?.map((event) => event.type)).toEqual(['payment.authorized']);
    expect(charge(id)?.state).toBe('Authorized');
    expect((await auditTypes(id)).slice(-2)).toEqual(['payment.authorized', 'event.undelivered']);
    expect(published(id).map((event) => event.detailType)).toEqual(['payment.created']);
    expect(await isDue(id)).toBe(true);

    stack.bus.failWhen(null);
    // Held, it is due at once: a normal pass resumes it.
    expect(await stack.sweep()).toMatchObject({ restarted: 1, errors: 0 });
    const resumed = await stack.runner.waitForExecution(`${id}-r1`, 20_000);
    expect(resumed.status).toBe('SUCCEEDED');
    // Published again, then on from where the saga stood: no inquiry, no second payment.authorized.
    expect(resumed.enteredStates.slice(0, 8)).toEqual([
      'Entry',
      'Reenter',
      'ReentryRoute',
      'RedeliverEvent',
      'EventRedelivered',
      'ReentryRoute',
      'Capture',
      'Succeeded',
    ]);
    const done = await stack.repo.get(id);
    expect(done).toMatchObject({ status: 'succeeded', amountCaptured: 72500 });
    expect(done?.undeliveredEvents).toBeUndefined();
    expect(published(id).map((event) => event.detailType)).toEqual([
      'payment.created',
      'payment.authorized',
      'payment.captured',
    ]);
    const authorized = published(id).find((event) => event.detailType === 'payment.authorized');
    expect(authorized?.detail).toMatchObject({
      event_id: await eventIdOf(id, 'payment.authorized'),
      payment: { id, status: 'processing', amount_authorized: 72500 },
    });
    expect(stack.kbank.charges().filter((c) => c.referenceOrder.startsWith(id))).toHaveLength(1);
    expect(charge(id)).toMatchObject({ state: 'Settled', settledAmount: 72500 });
    expect(await isDue(id)).toBe(false);
  });

  it('of a payment that ended keeps it due until the event is out, through a bus that stays down a while', async () => {
    refused('payment.captured');
    const id = await createPayment();
    expect(await stack.runner.waitForExecution(id, 20_000)).toMatchObject({
      status: 'FAILED',
      error: 'EventDeliveryFailed',
    });
    expect(await stack.repo.get(id)).toMatchObject({ status: 'succeeded', amountCaptured: 72500 });
    expect(await isDue(id)).toBe(true);

    // Still down when the sweep comes: the resumed run hands over again, and the sweep backs off.
    expect(await stack.sweep()).toMatchObject({ restarted: 1, errors: 0 });
    expect(await stack.runner.waitForExecution(`${id}-r1`, 20_000)).toMatchObject({
      status: 'FAILED',
      error: 'EventDeliveryFailed',
    });
    expect((await stack.repo.get(id))?.undeliveredEvents?.map((event) => event.type)).toEqual([
      'payment.captured',
    ]);
    expect((await stack.sweep()).restarted).toBe(0);

    stack.bus.failWhen(null);
    expect(await stack.sweep(everythingDue)).toMatchObject({ restarted: 1, errors: 0 });
    const resumed = await stack.runner.waitForExecution(`${id}-r2`, 20_000);
    expect(resumed.status).toBe('SUCCEEDED');
    expect(resumed.enteredStates.at(-1)).toBe('Reentered');
    const captured = published(id).filter((event) => event.detailType === 'payment.captured');
    expect(captured).toHaveLength(1);
    expect(captured[0]?.detail).toMatchObject({
      event_id: await eventIdOf(id, 'payment.captured'),
      payment: { status: 'succeeded' },
    });
    expect((await stack.repo.get(id))?.undeliveredEvents).toBeUndefined();
    expect(await isDue(id)).toBe(false);
  });

  it('of payment.created does not fail the payment: it is held, published first on resume, and the payment goes on', async () => {
    refused('payment.created');
    const id = await createPayment();
    const failed = await stack.runner.waitForExecution(id, 20_000);
    expect(failed).toMatchObject({ status: 'FAILED', error: 'EventDeliveryFailed' });
    expect(failed.enteredStates).not.toContain('FailPayment');
    expect(await stack.repo.get(id)).toMatchObject({ status: 'processing', attemptCount: 0 });
    expect(stack.kbank.charges().filter((c) => c.referenceOrder.startsWith(id))).toHaveLength(0);

    stack.bus.failWhen(null);
    expect(await stack.sweep()).toMatchObject({ restarted: 1, errors: 0 });
    expect((await stack.runner.waitForExecution(`${id}-r1`, 20_000)).status).toBe('SUCCEEDED');
    expect(await stack.repo.get(id)).toMatchObject({ status: 'succeeded', amountCaptured: 72500 });
    expect(published(id).map((event) => event.detailType)).toEqual([
      'payment.created',
      'payment.authorized',
      'payment.captured',
    ]);
    expect(published(id)[0]?.detail).toMatchObject({ event_id: await eventIdOf(id, 'payment.created') });
  });

  it('of a capture request does not void the authorization: the resumed run publishes it and captures', async () => {
    const id = await createPayment({ capture: 'manual' });
    await until(id, (p) => p?.status === 'requires_capture' && !!p.captureToken, 'requires_capture');
    refused('payment.capture_requested');
    const requested = await api(stack, 'POST', `/v1/payments/${id}/capture`, {
      body: { amount: 60000 },
      idempotencyKey: randomUUID(),
    });
    expect(requested.status).toBe(202);
    const failed = await stack.runner.waitForExecution(id, 20_000);
    expect(failed).toMatchObject({ status: 'FAILED', error: 'EventDeliveryFailed' });
    expect(failed.enteredStates).not.toContain('VoidAuthorization');
    expect(charge(id)?.state).toBe('Authorized');

    stack.bus.failWhen(null);
    expect(await stack.sweep()).toMatchObject({ restarted: 1, errors: 0 });
    const resumed = await stack.runner.waitForExecution(`${id}-r1`, 20_000);
    expect(resumed.status).toBe('SUCCEEDED');
    expect(resumed.enteredStates).not.toContain('AwaitCapture');
    expect(await stack.repo.get(id)).toMatchObject({ status: 'succeeded', amountCaptured: 60000 });
    expect(charge(id)).toMatchObject({ state: 'Settled', settledAmount: 60000 });
    expect(published(id).map((event) => event.detailType)).toEqual([
      'payment.created',
      'payment.authorized',
      'payment.capture_requested',
      'payment.captured',
    ]);
  });

  it("of a refund's outcome holds it on the payment, whose resumed saga publishes it once", async () => {
    const id = await createPayment();
    expect((await stack.runner.waitForExecution(id, 20_000)).status).toBe('SUCCEEDED');
    refused('refund.succeeded');
    const created = await api(stack, 'POST', `/v1/payments/${id}/refunds`, {
      body: { amount: 20000 },
      idempotencyKey: randomUUID(),
    });
    expect(created.status).toBe(202);
    const refundId: string = created.body.id;
    expect(await stack.refundRunner.waitForExecution(refundId, 20_000)).toMatchObject({
      status: 'FAILED',
      error: 'EventDeliveryFailed',
    });
    const refund = await stack.repo.getRefund(id, refundId);
    expect(refund).toMatchObject({ status: 'succeeded' });
    expect(await stack.repo.get(id)).toMatchObject({ amountRefunded: 20000, amountRefundPending: 0 });
    expect((await stack.repo.get(id))?.undeliveredEvents?.map((event) => event.type)).toEqual([
      'refund.succeeded',
    ]);

    stack.bus.failWhen(null);
    expect(await stack.sweep()).toMatchObject({ restarted: 1, errors: 0 });
    expect((await stack.runner.waitForExecution(`${id}-r1`, 20_000)).status).toBe('SUCCEEDED');
    const refunds = published(id).filter((event) => event.detailType === 'refund.succeeded');
    expect(refunds).toHaveLength(1);
    expect(refunds[0]?.detail).toMatchObject({
      event_id: `evt_${id.slice('pay_'.length)}_${refund?.paymentSeq}`,
      refund: { id: refundId, status: 'succeeded', amount: 20000 },
    });
    expect(await isDue(id)).toBe(false);
    expect(charge(id)?.refundedAmount).toBe(20000);
  });

  describe('of points events', () => {
    /** A split of 72500: 300 points (30000) and the rest by card. */
    const splitPayment = async () =>
      createPayment({ customer: { id: await customerWith(stack, 1000) }, points: { amount: 300 } });
    const pointsTypes = (id: string) =>
      published(id)
        .map((event) => event.detailType)
        .filter((type) => type.startsWith('points.'));

    it('holds the spent points beside the capture, and the resumed run publishes them once', async () => {
      refused('points.committed');
      const id = await splitPayment();
      expect(await stack.runner.waitForExecution(id, 20_000)).toMatchObject({ status: 'FAILED' });
      const held = await stack.repo.get(id);
      expect(held).toMatchObject({ status: 'succeeded', points: { status: 'committed' } });
      // The capture's own event went out in the same PutEvents try that failed: both are held, in order.
      expect(held?.undeliveredEvents?.map((event) => event.type)).toEqual([
        'payment.captured',
        'points.committed',
      ]);

      stack.bus.failWhen(null);
      expect(await stack.sweep()).toMatchObject({ restarted: 1, errors: 0 });
      expect((await stack.runner.waitForExecution(`${id}-r1`, 20_000)).status).toBe('SUCCEEDED');
      expect(pointsTypes(id)).toEqual(['points.reserved', 'points.committed']);
      expect(published(id).filter((event) => event.detailType === 'payment.captured')).toHaveLength(1);
      expect(await isDue(id)).toBe(false);
    });

    it("of a refund's points holds points.refunded, and of the refund's own event holds both", async () => {
      const id = await splitPayment();
      expect((await stack.runner.waitForExecution(id, 20_000)).status).toBe('SUCCEEDED');
      const refundOf = async (amount: number) => {
        const created = await api(stack, 'POST', `/v1/payments/${id}/refunds`, {
          body: { amount },
          idempotencyKey: randomUUID(),
        });
        expect(created.status).toBe(202);
        const run = await stack.refundRunner.waitForExecution(created.body.id, 20_000);
        expect(run).toMatchObject({ status: 'FAILED', error: 'EventDeliveryFailed' });
      };
      // 52500: the card's 42500, then 100 points; the refund's own event is out, its points are not.
      refused('points.refunded');
      await refundOf(52500);
      expect((await stack.repo.get(id))?.undeliveredEvents?.map((event) => event.type)).toEqual([
        'points.refunded',
      ]);
      // Then the rest, 200 points, with the bus refusing the refund's event: its points are held after it.
      refused('refund.succeeded');
      await refundOf(20000);
      expect((await stack.repo.get(id))?.undeliveredEvents?.map((event) => event.type)).toEqual([
        'points.refunded',
        'refund.succeeded',
        'points.refunded',
      ]);

      stack.bus.failWhen(null);
      expect(await stack.sweep()).toMatchObject({ restarted: 1, errors: 0 });
      expect((await stack.runner.waitForExecution(`${id}-r1`, 20_000)).status).toBe('SUCCEEDED');
      const refunded = published(id).filter((event) => event.detailType === 'points.refunded');
      expect(refunded.map((event) => event.detail.movement)).toMatchObject([
        { points: 100 },
        { points: 200 },
      ]);
      expect(new Set(refunded.map((event) => event.detail.event_id)).size).toBe(2);
      expect(await isDue(id)).toBe(false);
    });
  });
});
