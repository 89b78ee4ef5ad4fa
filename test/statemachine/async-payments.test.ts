/**
 * Payments the customer completes away from us (Thai QR, WeChat Pay, Alipay, 3-D Secure): the real ASL
 * run by the ASL runner, the real handlers, DynamoDB Local, the KBank simulator delivering its notify and
 * browser return over HTTP to our webhook endpoints, and the callback queue's processor resuming the saga.
 * Two stacks: one with the default windows (the customer acts in time), one whose windows are 2 seconds
 * (expiry paths) — time is short there, never slept in minutes.
 */
import { randomUUID } from 'node:crypto';
import { kbankChecksum } from '../../functions/adapters/kbank-client.js';
import { parseEmvQr } from '../../functions/core/promptpay.js';
import { MAGIC_CARDS } from '../../local/kbank-simulator.js';
import type { LocalStack } from '../../local/stack.js';
import { api, paymentBody, startTestStack, tokenize } from '../support/stack.js';

let stack: LocalStack;
let short: LocalStack;
beforeAll(async () => {
  [stack, short] = await Promise.all([
    startTestStack(),
    startTestStack({ actionWindows: { qrSeconds: 2, redirectSeconds: 2 }, callbackRetryMs: 100 }),
  ]);
});
afterAll(async () => {
  await Promise.all([stack?.close(), short?.close()]);
});
afterEach(() => {
  stack.kbank.setFaults({});
  short.kbank.setFaults({});
});

/** Creates a payment and waits until the customer can act (status requires_action, token stored). */
async function start(
  on: LocalStack,
  method: Record<string, unknown>,
  overrides: Record<string, unknown> = {},
) {
  const created = await api(on, 'POST', '/v1/payments', {
    body: paymentBody('unused', { payment_method: method, ...overrides }),
    idempotencyKey: randomUUID(),
  });
  expect(created.status).toBe(201);
  const id: string = created.body.id;
  for (let i = 0; i < 500; i++) {
    const payment = await on.repo.get(id);
    if (payment?.status === 'requires_action' && payment.actionToken) break;
    if (payment && payment.status !== 'processing' && payment.status !== 'requires_action') break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const view = await api(on, 'GET', `/v1/payments/${id}`);
  return { id, view: view.body };
}

async function finish(on: LocalStack, id: string) {
  const execution = await on.runner.waitForExecution(id, 20_000);
  await on.callbacks.idle();
  const payment = await on.repo.get(id);
  const audit = (await on.repo.listAudit(id, { limit: 100 })).entries;
  const events = on.bus.events({ paymentId: id }).map((event) => event.detailType);
  const charges = on.kbank.charges().filter((charge) => charge.referenceOrder.startsWith(id));
  return { execution, payment, audit, types: audit.map((entry) => entry.type), events, charges };
}

async function sim(on: LocalStack, path: string, body: unknown = {}) {
  const response = await fetch(`${on.kbankUrl}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

const scan = (on: LocalStack, payload: string, action: 'pay' | 'decline' = 'pay') =>
  sim(on, '/_sim/qr/scan', { payload, action });

/** The charge id at the end of a simulator page URL (Alipay and 3-D Secure pages). */
const chargeIdIn = (url: string) => decodeURIComponent(url.split('/').pop() ?? '');

describe('Thai QR (PromptPay)', () => {
  it('shows the QR, then the notify resumes the saga: succeeded, captured by KBank at payment', async () => {
    const { id, view } = await start(stack, { type: 'qr_promptpay' });
    expect(view).toMatchObject({
      status: 'requires_action',
      payment_method: { type: 'qr_promptpay', card: null },
      next_action: { type: 'display_qr', qr_image_url: `/v1/payments/${id}/qr` },
    });
    const payload: string = view.next_action.qr_payload;
    expect(parseEmvQr(payload).amountMinor).toBe(72500);

    const qr = await api(stack, 'GET', `/v1/payments/${id}/qr`);
    expect(qr.status).toBe(200);
    expect(qr.body).toMatchObject({ object: 'payment_qr', payment_id: id, payload });
    expect(qr.body.png).toMatch(/^data:image\/png;base64,iVBORw0KGgo/);
    expect(qr.body.svg).toMatch(/^data:image\/svg\+xml;base64,/);

    expect((await scan(stack, payload)).status).toBe(200);
    const run = await finish(stack, id);
    expect(run.execution.status).toBe('SUCCEEDED');
    expect(run.payment).toMatchObject({
      status: 'succeeded',
      amountAuthorized: 72500,
      amountCaptured: 72500,
    });
    expect(run.types).toEqual([
      'payment.created',
      'cost.verified',
      'authorization.requested',
      'payment.requires_action',
      'action.wait_started',
      'notification.received',
      'payment.captured',
    ]);
    expect(run.audit.find((entry) => entry.type === 'notification.received')).toMatchObject({
      actor: 'kbank',
      detail: { source: 'notify', claimedState: 'Authorized', kbankState: 'Authorized' },
    });
    expect(run.events).toEqual(['payment.created', 'payment.requires_action', 'payment.captured']);
    const done = await api(stack, 'GET', `/v1/payments/${id}`);
    expect(done.body.next_action).toBeNull();
    expect((await api(stack, 'GET', `/v1/payments/${id}/qr`)).status).toBe(409);
  });

  it('a paid Thai QR payment is refunded through the QR refund endpoint', async () => {
    const { id, view } = await start(stack, { type: 'qr_promptpay' });
    await scan(stack, view.next_action.qr_payload);
    await finish(stack, id);
    const refund = await api(stack, 'POST', `/v1/payments/${id}/refunds`, {
      body: { amount: 20000 },
      idempotencyKey: randomUUID(),
    });
    expect(refund.status).toBe(202);
    await stack.refundRunner.waitForExecution(refund.body.id, 20_000);
    const listed = await api(stack, 'GET', `/v1/payments/${id}/refunds`);
    expect(listed.body.data[0]).toMatchObject({ status: 'succeeded', amount: 20000 });
    const charge = stack.kbank.charges().find((c) => c.referenceOrder.startsWith(id));
    expect(charge?.refundedAmount).toBe(20000);
  });

  it('a declined QR payment fails', async () => {
    const { id, view } = await start(stack, { type: 'qr_promptpay' });
    await scan(stack, view.next_action.qr_payload, 'decline');
    const run = await finish(stack, id);
    expect(run.payment).toMatchObject({ status: 'failed', failure: { code: 'payment_declined' } });
    expect(run.events).toEqual(['payment.created', 'payment.requires_action', 'payment.failed']);
  });

  it('a duplicate notify is recorded as such and changes nothing else', async () => {
    stack.kbank.setFaults({ duplicateNotify: true });
    const { id, view } = await start(stack, { type: 'qr_promptpay' });
    await scan(stack, view.next_action.qr_payload);
    const run = await finish(stack, id);
    expect(run.payment?.status).toBe('succeeded');
    expect(run.types.filter((type) => type.startsWith('notification.'))).toEqual([
      'notification.received',
      'notification.duplicate',
    ]);
    expect(run.events.filter((type) => type === 'payment.captured')).toHaveLength(1);
  });

  it('refuses a forged or tampered notify (401), records it, and changes nothing', async () => {
    const { id, view } = await start(stack, { type: 'qr_promptpay' });
    const payment = await stack.repo.get(id);
    const attempt = await stack.repo.getAttempt(id, payment?.attemptCount ?? 1);
    const forged = {
      id: attempt?.chargeId ?? 'chrg_test_forged',
      object: 'charge',
      amount: '1.00',
      currency: 'THB',
      status: 'success',
      transaction_state: 'Authorized',
      reference_order: attempt?.referenceOrder,
      // Signed over the body's own (tampered) amount, with a key that is not KBank's.
      checksum: kbankChecksum(
        { id: 'x', amount: 100, currency: 'THB', status: 'success', transactionState: 'Authorized' },
        'skey_guess',
      ),
    };
    const refused = await api(stack, 'POST', '/v1/webhooks/kbank', { body: forged, key: null });
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('invalid_checksum');
    const after = await stack.repo.get(id);
    expect(after).toMatchObject({ status: 'requires_action', actionToken: payment?.actionToken });
    const audit = (await stack.repo.listAudit(id, { limit: 100 })).entries;
    expect(audit.at(-1)).toMatchObject({
      type: 'notification.rejected',
      detail: { reason: 'checksum_mismatch' },
    });
    // The real payment still goes through.
    await scan(stack, view.next_action.qr_payload);
    expect((await finish(stack, id)).payment?.status).toBe('succeeded');
  });

  it('answers 404 for a notify about a charge that is not ours, and 400 for a body that is not a notify', async () => {
    const stranger = {
      id: 'chrg_test_stranger',
      object: 'charge',
      amount: '10.00',
      currency: 'THB',
      status: 'success',
      transaction_state: 'Authorized',
      reference_order: 'order-of-someone-else',
      checksum: 'a'.repeat(64),
    };
    expect((await api(stack, 'POST', '/v1/webhooks/kbank', { body: stranger, key: null })).status).toBe(404);
    expect((await api(stack, 'POST', '/v1/webhooks/kbank', { body: { hello: 1 }, key: null })).status).toBe(
      400,
    );
  });
});

describe('WeChat Pay and Alipay', () => {
  it('WeChat Pay: a weixin QR, paid by scanning', async () => {
    const { id, view } = await start(stack, { type: 'wechat_pay' });
    expect(view.next_action.qr_payload).toMatch(/^weixin:\/\//);
    await scan(stack, view.next_action.qr_payload);
    const run = await finish(stack, id);
    expect(run.payment).toMatchObject({ status: 'succeeded', amountCaptured: 72500 });
    expect(run.charges[0]).toMatchObject({ sourceType: 'wechat', state: 'Authorized' });
  });

  it('Alipay: redirect to KBank, completed there, succeeded', async () => {
    const { id, view } = await start(stack, { type: 'alipay' });
    expect(view.next_action).toMatchObject({
      type: 'redirect_to_url',
      url: expect.stringContaining('/_sim/alipay/'),
    });
    await sim(stack, `/_sim/charges/${chargeIdIn(view.next_action.url)}/complete`);
    const run = await finish(stack, id);
    expect(run.payment).toMatchObject({ status: 'succeeded', amountCaptured: 72500 });
  });

  it('refuses manual capture and non-THB QR payments before anything is written', async () => {
    const manual = await api(stack, 'POST', '/v1/payments', {
      body: paymentBody('unused', { payment_method: { type: 'alipay' }, capture: 'manual' }),
      idempotencyKey: randomUUID(),
    });
    expect(manual.status).toBe(400);
    expect(manual.body.errors).toEqual([expect.objectContaining({ field: 'capture' })]);
    const dollars = await api(stack, 'POST', '/v1/payments', {
      body: paymentBody('unused', { payment_method: { type: 'qr_promptpay' }, currency: 'USD' }),
      idempotencyKey: randomUUID(),
    });
    expect(dollars.status).toBe(400);
    expect(dollars.body.errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'currency' })]),
    );
  });
});

describe('3-D Secure', () => {
  it('redirects to the challenge; the browser return and the notify resume it; then captured', async () => {
    const token = await tokenize(stack, MAGIC_CARDS.threeDSecure.number);
    const { id, view } = await start(stack, { type: 'card', token });
    expect(view).toMatchObject({
      status: 'requires_action',
      next_action: { type: 'redirect_to_url', url: expect.stringContaining('/_sim/3ds/') },
    });
    await sim(stack, `/_sim/charges/${chargeIdIn(view.next_action.url)}/complete`);
    const run = await finish(stack, id);
    expect(run.payment).toMatchObject({ status: 'succeeded', amountCaptured: 72500 });
    expect(run.events).toEqual([
      'payment.created',
      'payment.requires_action',
      'payment.authorized',
      'payment.captured',
    ]);
    const sources = run.audit
      .filter((entry) => entry.type.startsWith('notification.'))
      .map((entry) => entry.detail.source)
      .sort();
    expect(sources).toEqual(['browser_return', 'notify']);
  });

  it('a failed challenge fails the payment', async () => {
    const token = await tokenize(stack, MAGIC_CARDS.threeDSecure.number);
    const { id, view } = await start(stack, { type: 'card', token });
    await sim(stack, `/_sim/charges/${chargeIdIn(view.next_action.url)}/fail`);
    const run = await finish(stack, id);
    expect(run.payment).toMatchObject({ status: 'failed', failure: { code: 'authentication_failed' } });
  });

  it('the browser return alone resumes the saga when the notify is lost', async () => {
    stack.kbank.setFaults({ lostNotify: true });
    const token = await tokenize(stack, MAGIC_CARDS.threeDSecure.number);
    const { id, view } = await start(stack, { type: 'card', token });
    await sim(stack, `/_sim/charges/${chargeIdIn(view.next_action.url)}/complete`);
    const run = await finish(stack, id);
    expect(run.payment?.status).toBe('succeeded');
    expect(run.audit.filter((entry) => entry.type === 'notification.received')).toEqual([
      expect.objectContaining({ detail: expect.objectContaining({ source: 'browser_return' }) }),
    ]);
  });
});

describe('when the customer does not finish in time', () => {
  it('expires: canceled at KBank, payment.expired', async () => {
    const { id } = await start(short, { type: 'qr_promptpay' });
    const run = await finish(short, id);
    expect(run.execution.status).toBe('SUCCEEDED');
    expect(run.payment).toMatchObject({ status: 'expired', failure: { code: 'action_expired' } });
    expect(run.charges[0]?.state).toBe('Voided');
    expect(run.events).toEqual(['payment.created', 'payment.requires_action', 'payment.expired']);
    expect(run.types.slice(-1)).toEqual(['payment.expired']);
  });

  it('paid, but the notify never came: the timeout inquiry finds it paid and continues', async () => {
    short.kbank.setFaults({ lostNotify: true });
    const { id, view } = await start(short, { type: 'qr_promptpay' });
    await scan(short, view.next_action.qr_payload);
    const run = await finish(short, id);
    expect(run.payment).toMatchObject({ status: 'succeeded', amountCaptured: 72500 });
    expect(run.types).not.toContain('notification.received');
  });

  it('a notify held until after the saga ended is recorded, and changes nothing', async () => {
    short.kbank.setFaults({ lateNotifyMs: 60_000 });
    const { id, view } = await start(short, { type: 'wechat_pay' });
    await scan(short, view.next_action.qr_payload, 'decline');
    const run = await finish(short, id);
    expect(run.payment?.status).toBe('failed');
    await short.kbank.flushNotifies();
    await short.callbacks.idle();
    const audit = (await short.repo.listAudit(id, { limit: 100 })).entries;
    expect(audit.at(-1)).toMatchObject({
      type: 'notification.received',
      fromStatus: 'failed',
      toStatus: 'failed',
    });
  });

  it('an abandoned 3-D Secure challenge expires and the charge is voided', async () => {
    const token = await tokenize(short, MAGIC_CARDS.threeDSecure.number);
    const { id } = await start(short, { type: 'card', token });
    const run = await finish(short, id);
    expect(run.payment?.status).toBe('expired');
    expect(run.charges[0]?.state).toBe('Voided');
  });
});
