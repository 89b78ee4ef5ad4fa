/**
 * The merchant cancels a payment waiting for the customer (Thai QR, WeChat Pay, Alipay, 3-D Secure): the
 * real ASL run by the ASL runner, the real handlers, DynamoDB Local and the KBank simulator over HTTP. The
 * cancel API records the cancel and fails AwaitAction's task token with PaymentCanceled; CancelAction cancels
 * the order or voids the charge at KBank. A customer paying in the race is given the money back: the
 * simulator's records must agree with ours on what KBank keeps.
 */
import { randomUUID } from 'node:crypto';
import { MAGIC_CARDS, type SimCharge } from '../../local/kbank-simulator.js';
import type { LocalStack } from '../../local/stack.js';
import { api, paymentBody, startTestStack, tokenize } from '../support/stack.js';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});
afterEach(() => {
  stack.kbank.setFaults({});
});

/** Creates a payment and waits until the saga is parked in AwaitAction (requires_action, token stored). */
async function waitingPayment(method: Record<string, unknown>) {
  const created = await api(stack, 'POST', '/v1/payments', {
    body: paymentBody('unused', { payment_method: method }),
    idempotencyKey: randomUUID(),
  });
  expect(created.status).toBe(201);
  const id: string = created.body.id;
  for (let i = 0; i < 500; i++) {
    const payment = await stack.repo.get(id);
    if (payment?.status === 'requires_action' && payment.actionToken) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const view = await api(stack, 'GET', `/v1/payments/${id}`);
  expect(view.body.status).toBe('requires_action');
  return { id, view: view.body };
}

const cancel = (id: string, key: string = randomUUID()) =>
  api(stack, 'POST', `/v1/payments/${id}/cancel`, { idempotencyKey: key });

async function finish(id: string) {
  const execution = await stack.runner.waitForExecution(id, 20_000);
  await stack.callbacks.idle();
  const payment = await stack.repo.get(id);
  const audit = (await stack.repo.listAudit(id, { limit: 100 })).entries;
  const events = stack.bus.events({ paymentId: id }).map((event) => event.detailType);
  const charge = stack.kbank.charges().find((c) => c.referenceOrder.startsWith(id));
  return { execution, payment, audit, types: audit.map((entry) => entry.type), events, charge };
}

async function sim(path: string, body: unknown = {}) {
  const response = await fetch(`${stack.kbankUrl}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

const scan = (payload: string) => sim('/_sim/qr/scan', { payload, action: 'pay' });
const completePage = (url: string) =>
  sim(`/_sim/charges/${decodeURIComponent(url.split('/').pop() ?? '')}/complete`);

/** What KBank keeps of the charge's money: nothing once voided, the amount less refunds once paid. */
function keptAtKbank(charge: SimCharge | undefined): number {
  if (!charge) return 0;
  if (charge.state === 'Authorized' || charge.state === 'Settled' || charge.state === 'Refund Sent') {
    return charge.amount - charge.refundedAmount;
  }
  return 0;
}

describe('cancel of a payment waiting for the customer', () => {
  it.each([
    ['qr_promptpay', 'qr'],
    ['wechat_pay', 'wechat'],
  ])('%s: the QR order is canceled at KBank and the payment ends canceled', async (type, sourceType) => {
    const { id, view } = await waitingPayment({ type });
    const res = await cancel(id);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      id,
      status: 'processing',
      cancellation_reason: 'requested_by_merchant',
      next_action: null,
    });

    const run = await finish(id);
    expect(run.execution.status).toBe('SUCCEEDED');
    // AwaitAction's PaymentCanceled catch leads to the cancel branch, not to the expiry.
    expect(run.execution.enteredStates.slice(-4)).toEqual([
      'AwaitAction',
      'CancelAction',
      'ActionOutcome',
      'Canceled',
    ]);
    expect(run.payment).toMatchObject({
      status: 'canceled',
      cancellationReason: 'requested_by_merchant',
      amountCaptured: 0,
    });
    expect(run.payment?.actionToken).toBeUndefined();
    expect(run.charge).toMatchObject({ sourceType, state: 'Voided', voidReason: 'requested_by_merchant' });
    expect(run.events).toEqual(['payment.created', 'payment.requires_action', 'payment.canceled']);
    expect(run.types.slice(-3)).toEqual([
      'action.wait_started',
      'payment.cancel_requested',
      'payment.canceled',
    ]);
    expect(run.audit.at(-1)).toMatchObject({
      actor: 'saga',
      fromStatus: 'processing',
      toStatus: 'canceled',
      detail: { reason: 'requested_by_merchant', kbankState: 'Voided' },
    });
    const published = stack.bus.events({ paymentId: id }).at(-1)?.detail as Record<string, any>;
    expect(published.payment).toMatchObject({
      status: 'canceled',
      cancellation_reason: 'requested_by_merchant',
    });

    // The canceled QR can no longer be paid, and the payment shows no QR any more.
    expect((await scan(view.next_action.qr_payload)).status).toBe(400);
    expect((await api(stack, 'GET', `/v1/payments/${id}/qr`)).status).toBe(409);
    expect((await stack.repo.get(id))?.status).toBe('canceled');
  });

  it('Alipay: the charge is voided at KBank; finishing the page afterwards is refused', async () => {
    const { id, view } = await waitingPayment({ type: 'alipay' });
    expect((await cancel(id)).status).toBe(202);
    const run = await finish(id);
    expect(run.payment?.status).toBe('canceled');
    expect(run.charge).toMatchObject({ sourceType: 'alipay', state: 'Voided' });
    expect(run.events.at(-1)).toBe('payment.canceled');
    expect((await completePage(view.next_action.url)).status).toBe(400);
    expect(stack.kbank.charges().find((c) => c.id === run.charge?.id)?.state).toBe('Voided');
  });

  it('3-D Secure card: the pending charge is voided at KBank; the challenge can no longer be passed', async () => {
    const token = await tokenize(stack, MAGIC_CARDS.threeDSecure.number);
    const { id, view } = await waitingPayment({ type: 'card', token });
    expect(view.next_action.type).toBe('redirect_to_url');
    expect((await cancel(id)).status).toBe(202);
    const run = await finish(id);
    expect(run.payment).toMatchObject({ status: 'canceled', amountAuthorized: 0, amountCaptured: 0 });
    expect(run.charge?.state).toBe('Voided');
    expect(run.events).toEqual(['payment.created', 'payment.requires_action', 'payment.canceled']);
    expect((await completePage(view.next_action.url)).status).toBe(400);
  });
});

describe('a customer paying in the race with the cancel', () => {
  it('QR paid just before the cancel reached KBank (its notify not processed): refunded, canceled', async () => {
    stack.kbank.setFaults({ lostNotify: true });
    const { id, view } = await waitingPayment({ type: 'qr_promptpay' });
    expect((await scan(view.next_action.qr_payload)).body.transaction_state).toBe('Authorized');
    expect((await stack.repo.get(id))?.status).toBe('requires_action');

    expect((await cancel(id)).status).toBe(202);
    const run = await finish(id);
    expect(run.payment).toMatchObject({ status: 'canceled', amountCaptured: 0 });
    expect(run.charge).toMatchObject({ state: 'Refund Sent', refundedAmount: 72500 });
    expect(keptAtKbank(run.charge)).toBe(run.payment?.amountCaptured);
    expect(run.types.slice(-3)).toEqual([
      'payment.cancel_requested',
      'late_payment.detected',
      'payment.canceled',
    ]);
    expect(run.audit.at(-1)?.detail).toMatchObject({
      kbankState: 'Refund Sent',
      reversed: { via: 'refund', amount: 72500 },
    });
    expect(run.events).toEqual(['payment.created', 'payment.requires_action', 'payment.canceled']);
  });

  it('Alipay paid just before the cancel: the authorized charge is voided, canceled', async () => {
    stack.kbank.setFaults({ lostNotify: true });
    const { id, view } = await waitingPayment({ type: 'alipay' });
    expect((await completePage(view.next_action.url)).body.transaction_state).toBe('Authorized');
    expect((await cancel(id)).status).toBe(202);
    const run = await finish(id);
    expect(run.payment?.status).toBe('canceled');
    expect(run.charge?.state).toBe('Voided');
    expect(run.audit.at(-1)?.detail).toMatchObject({ reversed: { via: 'void' } });
  });

  it('scan and cancel at the same moment: exactly one wins, and KBank keeps exactly what we recorded', async () => {
    const outcomes: string[] = [];
    for (let round = 0; round < 3; round++) {
      const { id, view } = await waitingPayment({ type: 'qr_promptpay' });
      const [paid, canceled] = await Promise.all([scan(view.next_action.qr_payload), cancel(id)]);
      const run = await finish(id);
      expect(run.execution.status).toBe('SUCCEEDED');
      if (canceled.status === 202) {
        expect(run.payment?.status).toBe('canceled');
        expect(run.events).not.toContain('payment.captured');
        // Either the cancel reached KBank first (the scan was refused) or the money was given back.
        expect(run.charge?.state).toBe(paid.status === 400 ? 'Voided' : 'Refund Sent');
      } else {
        expect(canceled.status).toBe(409);
        expect(paid.status).toBe(200);
        expect(['payment_not_cancelable', 'payment_cancel_in_progress']).toContain(canceled.body.code);
        expect(run.payment).toMatchObject({ status: 'succeeded', amountCaptured: 72500 });
        expect(run.events).not.toContain('payment.canceled');
      }
      expect(
        run.events.filter((type) => type === 'payment.canceled' || type === 'payment.captured'),
      ).toHaveLength(1);
      expect(keptAtKbank(run.charge)).toBe(run.payment?.amountCaptured);
      outcomes.push(run.payment?.status ?? 'none');
    }
    expect(outcomes).toHaveLength(3);
  });
});

describe('cancel requests', () => {
  it('answers 409 payment_not_cancelable for a payment that can no longer be canceled, writing nothing', async () => {
    const { id, view } = await waitingPayment({ type: 'qr_promptpay' });
    await scan(view.next_action.qr_payload);
    const paid = await finish(id);
    expect(paid.payment?.status).toBe('succeeded');
    const before = await stack.repo.get(id);

    const key = randomUUID();
    const res = await cancel(id, key);
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body).toMatchObject({
      code: 'payment_not_cancelable',
      detail: expect.stringContaining('succeeded'),
    });
    expect(await stack.repo.get(id)).toEqual(before);
    expect((await stack.repo.listAudit(id, { limit: 100 })).entries).toHaveLength(paid.audit.length);
    expect(stack.kbank.charges().find((c) => c.referenceOrder.startsWith(id))?.state).toBe('Authorized');

    const again = await cancel(id, key);
    expect(again.status).toBe(409);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('replays a cancel retried with the same key; another key gets a 409; one cancel happens', async () => {
    const { id } = await waitingPayment({ type: 'qr_promptpay' });
    const key = randomUUID();
    const first = await cancel(id, key);
    expect(first.status).toBe(202);
    const retried = await cancel(id, key);
    expect(retried.status).toBe(202);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(retried.body).toEqual(first.body);
    // Another key: already being canceled, or canceled already if the saga was quicker.
    const other = await cancel(id);
    expect(other.status).toBe(409);
    expect(['payment_cancel_in_progress', 'payment_not_cancelable']).toContain(other.body.code);

    const run = await finish(id);
    expect(run.payment?.status).toBe('canceled');
    expect(run.types.filter((type) => type === 'payment.cancel_requested')).toHaveLength(1);
    expect(run.types.filter((type) => type === 'payment.canceled')).toHaveLength(1);
    expect(run.charge?.state).toBe('Voided');
  });

  it('two cancels with different keys at once: exactly one is recorded, the other gets a 409', async () => {
    const { id } = await waitingPayment({ type: 'wechat_pay' });
    const results = await Promise.all([cancel(id), cancel(id)]);
    expect(results.map((r) => r.status).sort()).toEqual([202, 409]);
    const loser = results.find((r) => r.status === 409);
    expect(['payment_cancel_in_progress', 'payment_not_cancelable']).toContain(loser?.body.code);
    const run = await finish(id);
    expect(run.payment?.status).toBe('canceled');
    expect(run.types.filter((type) => type === 'payment.cancel_requested')).toHaveLength(1);
  });
});
