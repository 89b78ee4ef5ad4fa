/**
 * The real KBank client against the real simulator over HTTP on 127.0.0.1, for the asynchronous methods:
 * Thai QR and WeChat orders, Alipay, 3-D Secure, with a small receiver standing in for our notify webhook
 * and the browser-return URL. Time is injected; nothing sleeps.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createKbankClient,
  type KbankClient,
  parseNotify,
  readNotifyReference,
} from '../../functions/adapters/kbank-client.js';
import { KbankOutcomeUnknown, KbankRejected, KbankUnavailable } from '../../functions/core/errors.js';
import { referenceOrderFor } from '../../functions/core/payment.js';
import type { KbankNotification, KbankQrOrder } from '../../functions/core/ports.js';
import { parseEmvQr } from '../../functions/core/promptpay.js';
import {
  type KbankSimulator,
  MAGIC_CARDS,
  SIMULATOR_DEFAULTS,
  startKbankSimulator,
  tokenizeTestCard,
} from '../../local/kbank-simulator.js';

const SECRET = SIMULATOR_DEFAULTS.secretKey;
const START = Date.parse('2025-06-15T03:00:00.000Z');
const EXPIRY_MS = SIMULATOR_DEFAULTS.qrExpiryMs;
const AMOUNT = 20050;

interface Received {
  path: string;
  contentType: string;
  body: string;
}

let nowMs = START;
let sim: KbankSimulator;
let kbank: KbankClient;
let receiver: http.Server;
let receiverUrl: string;
const received: Received[] = [];
let sequence = 0;

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        contentType: req.headers['content-type'] ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  sim = await startKbankSimulator({
    now: () => new Date(nowMs),
    notifyUrl: `${receiverUrl}/notify`,
    browserReturnUrl: `${receiverUrl}/return`,
  });
  kbank = createKbankClient({ baseUrl: sim.url, secretKey: SECRET });
});

afterAll(async () => {
  await sim.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

beforeEach(() => {
  nowMs = START;
  received.length = 0;
  sim.setFaults({});
});

function nextReference(): string {
  sequence += 1;
  return `att_async_${sequence}`;
}

async function qrOrder(sourceType: 'qr' | 'wechat' = 'qr', amount = AMOUNT): Promise<KbankQrOrder> {
  return kbank.createQrOrder({
    amount,
    currency: 'THB',
    referenceOrder: nextReference(),
    description: 'integration test',
    sourceType,
  });
}

/** A `/_sim/` control call; answers the status and JSON (or text) body. */
async function control(path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    type,
    body: (type.startsWith('application/json') ? JSON.parse(text) : text) as Record<string, unknown> & string,
  };
}

async function alipayCharge(referenceOrder = nextReference()) {
  return kbank.chargeAlipay({
    amount: AMOUNT,
    currency: 'THB',
    referenceOrder,
    description: 'integration test',
  });
}

/** A 3-D Secure card charge waiting for the customer, and the card token it was made with. */
async function preAuthorized(referenceOrder = nextReference()) {
  const token = await tokenizeTestCard(sim.url, MAGIC_CARDS.threeDSecure.number);
  const charge = await kbank.chargeCard({
    token,
    amount: AMOUNT,
    currency: 'THB',
    referenceOrder,
    description: 'integration test',
  });
  expect(charge.state).toBe('Pre-Authorized');
  return { charge, token };
}

/** The charge id of an order, as inquiry names it. */
async function chargeIdOf(order: KbankQrOrder): Promise<string> {
  return (await kbank.inquireQr({ orderId: order.orderId }))?.chargeId ?? '';
}

/** `POST /_sim/qr/scan`: the customer acts with nothing but the payload our API showed them. */
function scan(body: unknown) {
  return control('/_sim/qr/scan', body);
}

function notifies(): Received[] {
  return received.filter((request) => request.path === '/notify');
}

/** The notification, asserting parseNotify accepts it with our stored amount. */
function accepted(request: Received | undefined, amount = AMOUNT): KbankNotification {
  expect(request).toBeDefined();
  expect(request?.contentType).toContain('application/json');
  const result = parseNotify(request?.body, SECRET, { amount, currency: 'THB' });
  if (!result.ok) throw new Error(`notify refused: ${result.reason}`);
  return result.notification;
}

describe('Thai QR order', () => {
  it('creates an order with a PromptPay bill-payment payload for the amount and an expiry', async () => {
    const order = await qrOrder();
    expect(order.orderId).toMatch(/^order_test_/);
    expect(order.expiresAt).toBe(new Date(START + EXPIRY_MS).toISOString());
    const qr = parseEmvQr(order.qrPayload ?? '');
    expect(qr).toMatchObject({
      pointOfInitiation: 'dynamic',
      currency: '764',
      amountMinor: AMOUNT,
      country: 'TH',
      merchantName: SIMULATOR_DEFAULTS.promptPay.merchantName,
      promptPay: { kind: 'billPayment', billerId: SIMULATOR_DEFAULTS.promptPay.billerId },
    });

    const waiting = await kbank.inquireQr({ orderId: order.orderId });
    expect(waiting).toMatchObject({ orderId: order.orderId, state: 'Initialize', amount: AMOUNT });
    expect(waiting?.chargeId).toMatch(/^chrg_test_/);
  });

  it('is paid: the notify carries a checksum parseNotify accepts, and inquiry shows Authorized', async () => {
    const order = await qrOrder();
    const paid = await control(`/_sim/orders/${order.orderId}/pay`);
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ order_id: order.orderId, transaction_state: 'Authorized' });

    expect(notifies()).toHaveLength(1);
    const notification = accepted(notifies()[0]);
    expect(notification).toMatchObject({
      orderId: order.orderId,
      referenceOrder: order.referenceOrder,
      status: 'success',
      state: 'Authorized',
      amount: AMOUNT,
      currency: 'THB',
    });
    expect(notification.approvalCode).toMatch(/^\d{6}$/);

    const byOrder = await kbank.inquireQr({ orderId: order.orderId });
    const byCharge = await kbank.inquireQr({ chargeId: notification.chargeId });
    expect(byOrder).toMatchObject({
      chargeId: notification.chargeId,
      state: 'Authorized',
      status: 'success',
    });
    expect(byCharge).toEqual(byOrder);
  });

  it('serves the separate QR call with the same payload, and refuses a different amount', async () => {
    const order = await qrOrder();
    const qr = await kbank.createQr({
      orderId: order.orderId,
      amount: AMOUNT,
      currency: 'THB',
      description: 'integration test',
      referenceOrder: order.referenceOrder,
    });
    expect(qr).toMatchObject({
      orderId: order.orderId,
      qrPayload: order.qrPayload,
      expiresAt: order.expiresAt,
    });
    expect(qr.chargeId).toMatch(/^chrg_test_/);

    const error = await rejection(
      kbank.createQr({
        orderId: order.orderId,
        amount: AMOUNT + 1,
        currency: 'THB',
        description: 'integration test',
        referenceOrder: order.referenceOrder,
      }),
    );
    expect(error.kbankCode).toBe('amount_mismatch');
  });

  it('is declined: the notify says Declined, with a valid checksum', async () => {
    const order = await qrOrder();
    expect((await control(`/_sim/orders/${order.orderId}/decline`)).status).toBe(200);
    const notification = accepted(notifies()[0]);
    expect(notification).toMatchObject({
      state: 'Declined',
      status: 'fail',
      failureCode: 'payment_declined',
    });
    expect((await kbank.inquireQr({ orderId: order.orderId }))?.state).toBe('Declined');
  });

  it('is abandoned: payable until the expiry, then Expired on inquiry and no longer payable, no notify', async () => {
    const order = await qrOrder();
    nowMs = START + EXPIRY_MS - 1;
    expect((await kbank.inquireQr({ orderId: order.orderId }))?.state).toBe('Initialize');
    nowMs = START + EXPIRY_MS;
    expect(await kbank.inquireQr({ orderId: order.orderId })).toMatchObject({
      state: 'Expired',
      failureCode: 'order_expired',
    });

    const late = await control(`/_sim/orders/${order.orderId}/pay`);
    expect(late.status).toBe(400);
    expect(late.body).toMatchObject({ object: 'error', code: 'order_expired' });
    expect(notifies()).toHaveLength(0);
  });

  it('is abandoned at once through the control endpoint', async () => {
    const order = await qrOrder();
    const abandoned = await control(`/_sim/orders/${order.orderId}/abandon`);
    expect(abandoned.body).toMatchObject({ transaction_state: 'Expired' });
    expect((await kbank.inquireQr({ orderId: order.orderId }))?.state).toBe('Expired');
    expect(notifies()).toHaveLength(0);
  });

  it('is cancelled before payment, by order id or by charge id, and can then not be paid', async () => {
    const byOrder = await qrOrder();
    const voided = await kbank.cancelQr(byOrder.orderId, 'customer chose another method');
    expect(voided).toMatchObject({ orderId: byOrder.orderId, state: 'Voided' });
    expect((await control(`/_sim/orders/${byOrder.orderId}/pay`)).body).toMatchObject({
      code: 'invalid_state',
    });

    const chargeId = await chargeIdOf(await qrOrder());
    expect((await kbank.cancelQr(chargeId)).state).toBe('Voided');
    expect(sim.charges().find((charge) => charge.id === chargeId)?.voidReason).toBeTruthy();
  });

  it('cannot be cancelled once paid', async () => {
    const order = await qrOrder();
    await control(`/_sim/orders/${order.orderId}/pay`);
    const error = await rejection(kbank.cancelQr(order.orderId));
    expect(error).toMatchObject({ kbankCode: 'invalid_state', httpStatus: 400 });
  });

  it('refuses a second order for the same reference_order', async () => {
    const order = await qrOrder();
    const error = await rejection(
      kbank.createQrOrder({
        amount: AMOUNT,
        currency: 'THB',
        referenceOrder: order.referenceOrder,
        description: 'again',
        sourceType: 'qr',
      }),
    );
    expect(error.kbankCode).toBe('duplicate_reference_order');
  });

  it('returns null on inquiry for an order or charge KBank does not have', async () => {
    expect(await kbank.inquireQr({ orderId: 'order_test_missing' })).toBeNull();
    expect(await kbank.inquireQr({ chargeId: 'chrg_test_missing' })).toBeNull();
  });

  it('keeps QR charges off the card endpoints', async () => {
    const order = await qrOrder();
    const chargeId = await chargeIdOf(order);
    expect(await kbank.inquireCharge({ chargeId })).toBeNull();
    expect(await kbank.inquireCharge({ referenceOrder: order.referenceOrder })).toBeNull();
  });

  it('shows the order to a browser as a page with the QR code and the control buttons', async () => {
    const order = await qrOrder();
    const response = await fetch(`${sim.url}/_sim/qr/${order.orderId}`);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    expect(html).toContain('<svg');
    expect(html).toContain(`action="/_sim/orders/${order.orderId}/pay"`);
  });
});

describe('WeChat Pay order', () => {
  it('is THB only', async () => {
    const error = await rejection(
      kbank.createQrOrder({
        amount: AMOUNT,
        currency: 'USD',
        referenceOrder: nextReference(),
        description: 'usd',
        sourceType: 'wechat',
      }),
    );
    expect(error).toMatchObject({ kbankCode: 'invalid_currency', httpStatus: 400 });
  });

  it('carries a wallet payload and is paid like a Thai QR order', async () => {
    const order = await qrOrder('wechat');
    expect(order.qrPayload).toMatch(/^weixin:\/\//);
    await control(`/_sim/orders/${order.orderId}/pay`);
    expect(accepted(notifies()[0])).toMatchObject({ orderId: order.orderId, state: 'Authorized' });
    expect(sim.charges().find((charge) => charge.orderId === order.orderId)).toMatchObject({
      sourceType: 'wechat',
      brand: 'WeChat Pay',
      state: 'Authorized',
    });
  });
});

describe('notify checksum', () => {
  async function paidNotifyBody(): Promise<Record<string, unknown>> {
    const order = await qrOrder();
    await control(`/_sim/orders/${order.orderId}/pay`);
    return JSON.parse(notifies()[0]?.body ?? '{}') as Record<string, unknown>;
  }

  it('is refused when the simulator sends a wrong checksum (fault knob per order)', async () => {
    const order = await qrOrder();
    await control('/_sim/faults', { orderId: order.orderId, wrongChecksum: true });
    await control(`/_sim/orders/${order.orderId}/pay`);
    const result = parseNotify(notifies()[0]?.body, SECRET, { amount: AMOUNT, currency: 'THB' });
    expect(result).toEqual({ ok: false, reason: 'checksum_mismatch' });
  });

  it('is refused when a character of the checksum is changed', async () => {
    const body = await paidNotifyBody();
    const checksum = String(body.checksum);
    const tampered = { ...body, checksum: `${checksum.slice(0, -1)}${checksum.endsWith('0') ? '1' : '0'}` };
    expect(parseNotify(tampered, SECRET, { amount: AMOUNT, currency: 'THB' })).toEqual({
      ok: false,
      reason: 'checksum_mismatch',
    });
  });

  it('is verified against our stored amount: an edited body amount changes nothing, another expected amount fails', async () => {
    const body = await paidNotifyBody();
    const edited = parseNotify({ ...body, amount: '1.00' }, SECRET, { amount: AMOUNT, currency: 'THB' });
    expect(edited.ok && edited.notification.amount).toBe(AMOUNT);
    expect(parseNotify(body, SECRET, { amount: 100, currency: 'THB' })).toEqual({
      ok: false,
      reason: 'checksum_mismatch',
    });
    expect(parseNotify(body, 'skey_test_other', { amount: AMOUNT, currency: 'THB' })).toEqual({
      ok: false,
      reason: 'checksum_mismatch',
    });
  });

  it('calls a body that is not a notify malformed, and names the ids of one that is', async () => {
    const body = await paidNotifyBody();
    const expected = { amount: AMOUNT, currency: 'THB' } as const;
    expect(parseNotify('not json', SECRET, expected)).toEqual({ ok: false, reason: 'malformed' });
    const { checksum: _dropped, ...withoutChecksum } = body;
    expect(parseNotify(withoutChecksum, SECRET, expected)).toEqual({ ok: false, reason: 'malformed' });
    expect(parseNotify({ ...body, transaction_state: 'Auhtorized' }, SECRET, expected)).toEqual({
      ok: false,
      reason: 'malformed',
    });
    expect(parseNotify(Buffer.from(JSON.stringify(body)), SECRET, expected).ok).toBe(true);
    expect(readNotifyReference(JSON.stringify(body))).toEqual({
      chargeId: body.id,
      orderId: body.order_id,
      referenceOrder: body.reference_order,
    });
    expect(readNotifyReference('{}')).toBeNull();
  });
});

describe('notify faults', () => {
  it('delivers a duplicate notify twice, identical, both valid', async () => {
    const order = await qrOrder();
    sim.setFaults({ duplicateNotify: true }, { orderId: order.orderId });
    await control(`/_sim/orders/${order.orderId}/pay`);
    const [first, second] = notifies();
    expect(notifies()).toHaveLength(2);
    expect(second?.body).toBe(first?.body);
    const [a, b] = [accepted(first), accepted(second)];
    // What the webhook must deduplicate on.
    expect([b.chargeId, b.state]).toEqual([a.chargeId, a.state]);
    expect(sim.deliveries().filter((delivery) => delivery.orderId === order.orderId)).toMatchObject([
      { kind: 'notify', copy: 1, outcome: 'delivered', httpStatus: 204 },
      { kind: 'notify', copy: 2, outcome: 'delivered', httpStatus: 204 },
    ]);
  });

  it('loses a notify: nothing arrives, but inquiry shows the payment', async () => {
    await control('/_sim/faults', { lostNotify: true });
    const order = await qrOrder();
    await control(`/_sim/orders/${order.orderId}/pay`);
    expect(notifies()).toHaveLength(0);
    expect(sim.deliveries().find((delivery) => delivery.orderId === order.orderId)?.outcome).toBe('lost');
    expect((await kbank.inquireQr({ orderId: order.orderId }))?.state).toBe('Authorized');
  });

  it('delivers a late notify after the order would have expired; it is still valid and the order stays paid', async () => {
    const order = await qrOrder();
    await control('/_sim/faults', { orderId: order.orderId, lateNotifyMs: 60_000 });
    nowMs = START + EXPIRY_MS - 60_000;
    await control(`/_sim/orders/${order.orderId}/pay`);
    expect(notifies()).toHaveLength(0);
    expect(sim.deliveries().find((delivery) => delivery.orderId === order.orderId)?.outcome).toBe('held');

    nowMs = START + EXPIRY_MS + 60_000;
    expect((await kbank.inquireQr({ orderId: order.orderId }))?.state).toBe('Authorized');
    await sim.flushNotifies();
    expect(accepted(notifies()[0])).toMatchObject({ orderId: order.orderId, state: 'Authorized' });
    expect(sim.deliveries().find((delivery) => delivery.orderId === order.orderId)?.outcome).toBe(
      'delivered',
    );
  });

  it('lets a per-order setting override the global one, and {} clear a scope', async () => {
    await control('/_sim/faults', { lostNotify: true });
    const order = await qrOrder();
    const answer = await control('/_sim/faults', { orderId: order.orderId, lostNotify: false });
    expect(answer.body).toEqual({ scope: { orderId: order.orderId }, faults: { lostNotify: false } });
    await control(`/_sim/orders/${order.orderId}/pay`);
    expect(notifies()).toHaveLength(1);

    await control('/_sim/faults', {});
    const other = await qrOrder();
    await control(`/_sim/orders/${other.orderId}/pay`);
    expect(notifies()).toHaveLength(2);
  });

  it('refuses an unknown fault knob', async () => {
    const answer = await control('/_sim/faults', { dropEverything: true });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 'invalid_request' });
  });

  it('records a notify it had nowhere to send', async () => {
    const quiet = await startKbankSimulator({ now: () => new Date(nowMs) });
    try {
      const client = createKbankClient({ baseUrl: quiet.url, secretKey: SECRET });
      const order = await client.createQrOrder({
        amount: 100,
        currency: 'THB',
        referenceOrder: 'att_quiet',
        description: 'q',
        sourceType: 'qr',
      });
      await fetch(`${quiet.url}/_sim/orders/${order.orderId}/pay`, { method: 'POST' });
      expect(quiet.deliveries()).toMatchObject([{ kind: 'notify', outcome: 'no_url' }]);
      quiet.setNotifyUrl(`${receiverUrl}/notify`);
      const second = await client.createQrOrder({
        amount: 100,
        currency: 'THB',
        referenceOrder: 'att_quiet_2',
        description: 'q',
        sourceType: 'qr',
      });
      await fetch(`${quiet.url}/_sim/orders/${second.orderId}/pay`, { method: 'POST' });
      expect(accepted(notifies()[0], 100).orderId).toBe(second.orderId);
    } finally {
      await quiet.close();
    }
  });
});

describe('Alipay', () => {
  it('redirects, completes, notifies, and inquiry shows Authorized', async () => {
    const charge = await alipayCharge();
    expect(charge).toMatchObject({ state: 'Initialize', status: 'success', amount: AMOUNT });
    expect(charge.redirectUrl).toBe(`${sim.url}/_sim/alipay/${charge.chargeId}`);

    const page = await (await fetch(charge.redirectUrl ?? '')).text();
    expect(page).toContain(`action="/_sim/charges/${charge.chargeId}/complete"`);

    expect((await control(`/_sim/charges/${charge.chargeId}/complete`)).status).toBe(200);
    const notification = accepted(notifies()[0]);
    expect(notification).toMatchObject({ chargeId: charge.chargeId, state: 'Authorized' });
    expect(notification.orderId).toBeUndefined();
    expect((await kbank.inquireCharge({ chargeId: charge.chargeId }))?.state).toBe('Authorized');
    expect(sim.charges().find((c) => c.id === charge.chargeId)?.sourceType).toBe('alipay');
  });

  it('fails: Declined on the notify and on inquiry', async () => {
    const charge = await alipayCharge();
    await control(`/_sim/charges/${charge.chargeId}/fail`);
    expect(accepted(notifies()[0])).toMatchObject({ state: 'Declined', failureCode: 'payment_declined' });
    expect((await kbank.inquireCharge({ referenceOrder: charge.referenceOrder }))?.state).toBe('Declined');
  });

  it('cannot be completed twice', async () => {
    const charge = await alipayCharge();
    await control(`/_sim/charges/${charge.chargeId}/complete`);
    const again = await control(`/_sim/charges/${charge.chargeId}/complete`);
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ code: 'invalid_state' });
    expect(notifies()).toHaveLength(1);
  });
});

describe('back to the shop and the card form [ours]', () => {
  it('a page opened with return_to sends the browser back there once the button is done', async () => {
    const charge = await alipayCharge();
    const back = 'http://127.0.0.1:3008/return?payment=pay_01JD3Q4V7M0000000000000000';
    const page = await (await fetch(`${charge.redirectUrl}?return_to=${encodeURIComponent(back)}`)).text();
    const action = `/_sim/charges/${charge.chargeId}/complete?return_to=${encodeURIComponent(back)}`;
    expect(page).toContain(`action="${action}"`);

    const pressed = await fetch(`${sim.url}${action}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: '',
      redirect: 'manual',
    });
    expect([pressed.status, pressed.headers.get('location')]).toEqual([303, back]);
    expect(accepted(notifies()[0])).toMatchObject({ chargeId: charge.chargeId, state: 'Authorized' });
  });

  it('refuses a return_to that is not an absolute http(s) URL, and changes nothing', async () => {
    const charge = await alipayCharge();
    for (const returnTo of ['javascript:alert(1)', '/relative']) {
      const page = await fetch(`${charge.redirectUrl}?return_to=${encodeURIComponent(returnTo)}`);
      expect(page.status).toBe(400);
    }
    expect((await kbank.inquireCharge({ chargeId: charge.chargeId }))?.state).toBe('Initialize');
  });

  it('serves the card form for a public key and the embedding origin only', async () => {
    const form = await fetch(
      `${sim.url}/_sim/card-form?key=pkey_test_local&origin=${encodeURIComponent('http://127.0.0.1:3008')}`,
    );
    expect(form.status).toBe(200);
    const html = await form.text();
    expect(html).toContain('"origin":"http://127.0.0.1:3008"');
    expect(html).toContain("fetch('/card/v2/tokens'");
    const withSecret = await fetch(
      `${sim.url}/_sim/card-form?key=${SECRET}&origin=http%3A%2F%2F127.0.0.1%3A3008`,
    );
    expect(withSecret.status).toBe(400);
    expect(html).not.toContain(SECRET);
    const badOrigin = await fetch(
      `${sim.url}/_sim/card-form?key=pkey_test_local&origin=${encodeURIComponent('"><script>')}`,
    );
    expect(badOrigin.status).toBe(400);
  });
});

describe('3-D Secure', () => {
  function browserReturns(): URLSearchParams[] {
    return received
      .filter((request) => request.path === '/return')
      .map((request) => {
        expect(request.contentType).toBe('application/x-www-form-urlencoded');
        return new URLSearchParams(request.body);
      });
  }

  it('shows a page with Pay and Fail, completes to Authorized, posts the browser form and notifies', async () => {
    const { charge, token } = await preAuthorized();
    const page = await fetch(charge.redirectUrl ?? '');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain(`action="/_sim/charges/${charge.chargeId}/complete"`);
    expect(html).toContain(`action="/_sim/charges/${charge.chargeId}/fail"`);

    // As the page's Pay button would: a form post, answered with a page.
    const done = await control(`/_sim/charges/${charge.chargeId}/complete`, undefined, {
      'Content-Type': 'application/x-www-form-urlencoded',
    });
    expect(done.type).toContain('text/html');
    expect(done.body).toContain('Authorized');

    expect(browserReturns().map((form) => Object.fromEntries(form))).toEqual([
      { objectId: charge.chargeId, token, status: 'true' },
    ]);
    expect((await kbank.inquireCharge({ chargeId: charge.chargeId }))?.state).toBe('Authorized');
    expect(accepted(notifies()[0])).toMatchObject({ chargeId: charge.chargeId, state: 'Authorized' });
  });

  it('fails authentication: status "false" on the browser form, Declined on inquiry', async () => {
    const { charge } = await preAuthorized();
    await control(`/_sim/charges/${charge.chargeId}/fail`);
    expect(browserReturns()[0]?.get('status')).toBe('false');
    expect(await kbank.inquireCharge({ chargeId: charge.chargeId })).toMatchObject({
      state: 'Declined',
      failureCode: 'authentication_failed',
    });
  });

  it('does not let an ordinary card charge be completed by the control endpoint', async () => {
    const token = await tokenizeTestCard(sim.url, MAGIC_CARDS.visa.number);
    const charge = await kbank.chargeCard({
      token,
      amount: AMOUNT,
      currency: 'THB',
      referenceOrder: nextReference(),
      description: 'plain',
    });
    expect((await control(`/_sim/charges/${charge.chargeId}/fail`)).body).toMatchObject({
      code: 'invalid_state',
    });
    expect((await fetch(`${sim.url}/_sim/3ds/${charge.chargeId}`)).status).toBe(404);
  });
});

describe('QR refund [ours]', () => {
  async function paidOrder(sourceType: 'qr' | 'wechat' = 'qr') {
    const order = await qrOrder(sourceType);
    await control(`/_sim/orders/${order.orderId}/pay`);
    return { order, chargeId: await chargeIdOf(order) };
  }

  it('gives back a paid order in parts up to the paid amount, and no more', async () => {
    const { order, chargeId } = await paidOrder();
    const first = await kbank.refundQr(chargeId, 5000, 'THB', 'paid after the payment expired');
    expect(first).toMatchObject({
      chargeId,
      orderId: order.orderId,
      state: 'Refund Sent',
      amount: AMOUNT,
      refundedAmount: 5000,
    });

    const tooMuch = await rejection(kbank.refundQr(chargeId, AMOUNT - 5000 + 1, 'THB', 'more'));
    expect(tooMuch).toMatchObject({ kbankCode: 'amount_exceeds_refundable', httpStatus: 400 });
    expect((await kbank.refundQr(chargeId, AMOUNT - 5000, 'THB', 'the rest')).refundedAmount).toBe(AMOUNT);

    expect(await kbank.inquireQr({ orderId: order.orderId })).toMatchObject({
      state: 'Refund Sent',
      refundedAmount: AMOUNT,
    });
    expect(sim.charges().find((charge) => charge.id === chargeId)?.refundedAmount).toBe(AMOUNT);
    // Like the card refund and the cancel: no notify.
    expect(notifies()).toHaveLength(1);
  });

  it('gives back a paid WeChat order whole', async () => {
    const { chargeId } = await paidOrder('wechat');
    const refunded = await kbank.refundQr(chargeId, AMOUNT, 'THB', 'order cancelled');
    expect(refunded).toMatchObject({ state: 'Refund Sent', refundedAmount: AMOUNT });
  });

  it('refuses an order that was never paid: waiting, declined, cancelled or expired', async () => {
    const waiting = await qrOrder();
    const declined = await qrOrder();
    await control(`/_sim/orders/${declined.orderId}/decline`);
    const cancelled = await qrOrder();
    await kbank.cancelQr(cancelled.orderId);
    const expired = await qrOrder();
    await control(`/_sim/orders/${expired.orderId}/abandon`);

    for (const order of [waiting, declined, cancelled, expired]) {
      const chargeId = await chargeIdOf(order);
      const error = await rejection(kbank.refundQr(chargeId, 100, 'THB', 'r'));
      expect(error).toMatchObject({ kbankCode: 'invalid_state', httpStatus: 400 });
      expect(sim.charges().find((charge) => charge.id === chargeId)?.refundedAmount).toBe(0);
    }
  });

  it('takes a QR charge id only: an order id, a card charge or an unknown id is charge_not_found', async () => {
    const { order } = await paidOrder();
    const token = await tokenizeTestCard(sim.url, MAGIC_CARDS.visa.number);
    const card = await kbank.chargeCard({
      token,
      amount: AMOUNT,
      currency: 'THB',
      referenceOrder: nextReference(),
      description: 'card',
    });
    // A path-encoded id stays one path segment: this reaches the refund route, not another one.
    for (const id of [order.orderId, card.chargeId, 'chrg_test_missing', 'chrg/../x']) {
      const error = await rejection(kbank.refundQr(id, 100, 'THB', 'r'));
      expect(error).toMatchObject({ kbankCode: 'charge_not_found', httpStatus: 404 });
    }
  });

  it('refuses an amount of zero', async () => {
    const { chargeId } = await paidOrder();
    expect((await rejection(kbank.refundQr(chargeId, 0, 'THB', 'r'))).kbankCode).toBe('invalid_amount');
  });
});

describe('void before the customer finishes', () => {
  it('voids a 3-D Secure charge still Pre-Authorized; completing or failing it is then refused', async () => {
    const { charge } = await preAuthorized();
    const voided = await kbank.voidCharge(charge.chargeId, 'payment expired');
    expect(voided).toMatchObject({ chargeId: charge.chargeId, state: 'Voided' });

    for (const action of ['complete', 'fail']) {
      const late = await control(`/_sim/charges/${charge.chargeId}/${action}`);
      expect(late.status).toBe(400);
      expect(late.body).toMatchObject({ object: 'error', code: 'invalid_state' });
    }
    expect(received).toHaveLength(0);
    expect((await kbank.inquireCharge({ chargeId: charge.chargeId }))?.state).toBe('Voided');
    expect(sim.charges().find((c) => c.id === charge.chargeId)?.voidReason).toBe('payment expired');
  });

  it('voids an Alipay charge still Initialize; completing or failing it is then refused', async () => {
    const charge = await alipayCharge();
    expect((await kbank.voidCharge(charge.chargeId, 'payment cancelled')).state).toBe('Voided');

    for (const action of ['complete', 'fail']) {
      expect((await control(`/_sim/charges/${charge.chargeId}/${action}`)).body).toMatchObject({
        code: 'invalid_state',
      });
    }
    expect(notifies()).toHaveLength(0);
    const page = await (await fetch(charge.redirectUrl ?? '')).text();
    expect(page).toContain('Voided');
    expect(page).not.toContain('<form');
  });

  it('still refuses to void a charge the customer declined', async () => {
    const charge = await alipayCharge();
    await control(`/_sim/charges/${charge.chargeId}/fail`);
    expect((await rejection(kbank.voidCharge(charge.chargeId, 'too late'))).kbankCode).toBe('invalid_state');
  });
});

describe('scanning a QR', () => {
  it('pays the open order whose payload was scanned (action "pay" by default), notifying as /pay does', async () => {
    const other = await qrOrder();
    const order = await qrOrder();
    // Surrounding whitespace, as a scanner or a paste may add, is ignored.
    const paid = await scan({ payload: `${order.qrPayload}\n` });
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({
      object: 'charge',
      order_id: order.orderId,
      reference_order: order.referenceOrder,
      transaction_state: 'Authorized',
    });

    expect(notifies()).toHaveLength(1);
    expect(accepted(notifies()[0])).toMatchObject({ orderId: order.orderId, state: 'Authorized' });
    expect((await kbank.inquireQr({ orderId: order.orderId }))?.state).toBe('Authorized');
    expect((await kbank.inquireQr({ orderId: other.orderId }))?.state).toBe('Initialize');
  });

  it('declines a WeChat order by its weixin:// payload', async () => {
    const order = await qrOrder('wechat');
    const declined = await scan({ payload: order.qrPayload, action: 'decline' });
    expect(declined.body).toMatchObject({ order_id: order.orderId, transaction_state: 'Declined' });
    expect(accepted(notifies()[0])).toMatchObject({ state: 'Declined', failureCode: 'payment_declined' });
  });

  it("applies the order's notify faults", async () => {
    const order = await qrOrder();
    sim.setFaults({ duplicateNotify: true }, { orderId: order.orderId });
    await scan({ payload: order.qrPayload });
    expect(notifies()).toHaveLength(2);
    expect(notifies()[1]?.body).toBe(notifies()[0]?.body);
  });

  it('refuses an order that is not open: paid, cancelled or expired', async () => {
    const paid = await qrOrder();
    await scan({ payload: paid.qrPayload });
    expect((await scan({ payload: paid.qrPayload })).body).toMatchObject({ code: 'invalid_state' });

    const cancelled = await qrOrder();
    await kbank.cancelQr(cancelled.orderId);
    expect((await scan({ payload: cancelled.qrPayload })).body).toMatchObject({ code: 'invalid_state' });

    const expired = await qrOrder();
    nowMs = START + EXPIRY_MS;
    const late = await scan({ payload: expired.qrPayload });
    expect(late).toMatchObject({ status: 400, body: { object: 'error', code: 'order_expired' } });
    expect(notifies()).toHaveLength(1);
  });

  it('answers 404 order_not_found for a payload no order has, 400 for a malformed body, 405 for GET', async () => {
    const unknown = await scan({
      payload: '00020101021229370016A000000677010111011300669999999995802TH53037646304ABCD',
    });
    expect(unknown).toMatchObject({ status: 404, body: { object: 'error', code: 'order_not_found' } });
    for (const body of [
      {},
      { payload: ' ' },
      { payload: 'x', action: 'refund' },
      { payload: 'x', extra: 1 },
    ]) {
      expect(await scan(body)).toMatchObject({ status: 400, body: { code: 'invalid_request' } });
    }
    expect((await fetch(`${sim.url}/_sim/qr/scan`)).status).toBe(405);
  });
});

describe('notify reference_order', () => {
  // A real payment id, so the reference is the one our receiver looks the payment up by.
  const PAYMENT_ID = 'pay_01J9Z3K4M5N6P7Q8R9S0T1V2W3';

  it("names the charge's reference_order (<paymentId>-<attemptNo>) on every notify, of every kind", async () => {
    const reference = (attempt: number) => referenceOrderFor(PAYMENT_ID, attempt);
    const qrOrderFor = (attempt: number, sourceType: 'qr' | 'wechat') =>
      kbank.createQrOrder({
        amount: AMOUNT,
        currency: 'THB',
        referenceOrder: reference(attempt),
        description: 'n',
        sourceType,
      });

    const paid = await qrOrderFor(1, 'qr');
    sim.setFaults({ duplicateNotify: true }, { orderId: paid.orderId });
    await control(`/_sim/orders/${paid.orderId}/pay`);
    await scan({ payload: (await qrOrderFor(2, 'wechat')).qrPayload });
    await control(`/_sim/charges/${(await alipayCharge(reference(3))).chargeId}/complete`);
    await control(`/_sim/charges/${(await preAuthorized(reference(4))).charge.chargeId}/complete`);
    await control(`/_sim/orders/${(await qrOrderFor(5, 'qr')).orderId}/decline`);

    const expected = [1, 1, 2, 3, 4, 5].map(reference);
    const bodies = notifies().map((request) => JSON.parse(request.body) as Record<string, unknown>);
    expect(bodies.map((body) => body.reference_order)).toEqual(expected);
    // What the receiver reads to find the payment.
    expect(notifies().map((request) => readNotifyReference(request.body)?.referenceOrder)).toEqual(expected);
  });
});

describe('simulator state', () => {
  it('lists every kind of charge in charges(), and forgets them, faults and deliveries on reset', async () => {
    const other = await startKbankSimulator({ now: () => new Date(nowMs) });
    try {
      const client = createKbankClient({ baseUrl: other.url, secretKey: SECRET });
      const order = await client.createQrOrder({
        amount: 100,
        currency: 'THB',
        referenceOrder: 'att_state_1',
        description: 's',
        sourceType: 'qr',
      });
      await client.chargeAlipay({
        amount: 100,
        currency: 'THB',
        referenceOrder: 'att_state_2',
        description: 's',
      });
      expect(other.charges().map((charge) => charge.sourceType)).toEqual(['qr', 'alipay']);
      expect(other.charges()[0]).toMatchObject({ orderId: order.orderId, qrPayload: order.qrPayload });

      nowMs = START + EXPIRY_MS;
      expect(other.charges()[0]?.state).toBe('Expired');

      other.setFaults({ lostNotify: true });
      other.reset();
      expect(other.charges()).toEqual([]);
      expect(other.deliveries()).toEqual([]);
      expect(await client.inquireQr({ orderId: order.orderId })).toBeNull();
    } finally {
      await other.close();
    }
  });
});

describe('error mapping of the asynchronous methods', () => {
  /** A stand-in KBank that answers every request with `answer`. */
  async function misbehaving(answer: { status: number; body: string }) {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () =>
        res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(answer.body),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = createKbankClient({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      secretKey: SECRET,
    });
    return { client, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  const orderRequest = {
    amount: AMOUNT,
    currency: 'THB',
    referenceOrder: 'att_map',
    description: 'm',
    sourceType: 'qr',
  } as const;

  it.each([
    ['a 503', { status: 503, body: '{"object":"error","code":"service_unavailable"}' }],
    ['a 200 that is not an order', { status: 200, body: '{"object":"order"}' }],
    [
      'an order for another reference_order',
      { status: 200, body: '{"id":"order_x","reference_order":"att_other"}' },
    ],
    ['a 404 that is not KBank error object', { status: 404, body: '<html>not found</html>' }],
  ])('creating an order: %s is an unknown outcome', async (_label, answer) => {
    const { client, close } = await misbehaving(answer);
    try {
      await expect(client.createQrOrder(orderRequest)).rejects.toBeInstanceOf(KbankOutcomeUnknown);
    } finally {
      await close();
    }
  });

  it('inquiry: an answer for another order is an unknown outcome; a KBank 404 is null', async () => {
    const other = await misbehaving({
      status: 200,
      body: JSON.stringify({
        id: 'chrg_x',
        object: 'charge',
        amount: '200.50',
        currency: 'THB',
        status: 'success',
        transaction_state: 'Authorized',
        order_id: 'order_other',
      }),
    });
    const missing = await misbehaving({ status: 404, body: '{"object":"error","code":"not_found"}' });
    try {
      await expect(other.client.inquireQr({ orderId: 'order_mine' })).rejects.toBeInstanceOf(
        KbankOutcomeUnknown,
      );
      await expect(other.client.cancelQr('order_mine')).rejects.toBeInstanceOf(KbankOutcomeUnknown);
      await expect(other.client.refundQr('chrg_mine', 100, 'THB', 'r')).rejects.toBeInstanceOf(
        KbankOutcomeUnknown,
      );
      expect(await missing.client.inquireQr({ orderId: 'order_mine' })).toBeNull();
      // Cancelling something KBank does not have is a refusal, not "nothing".
      await expect(missing.client.cancelQr('order_mine')).rejects.toBeInstanceOf(KbankRejected);
      await expect(missing.client.refundQr('chrg_mine', 100, 'THB', 'r')).rejects.toBeInstanceOf(
        KbankRejected,
      );
    } finally {
      await other.close();
      await missing.close();
    }
  });

  it('a closed port is KbankUnavailable for every asynchronous call', async () => {
    const { client, close } = await misbehaving({ status: 200, body: '{}' });
    await close();
    await expect(client.createQrOrder(orderRequest)).rejects.toBeInstanceOf(KbankUnavailable);
    await expect(
      client.chargeAlipay({ amount: 1, currency: 'THB', referenceOrder: 'a', description: 'd' }),
    ).rejects.toBeInstanceOf(KbankUnavailable);
    await expect(client.inquireQr({ chargeId: 'chrg_x' })).rejects.toBeInstanceOf(KbankUnavailable);
    await expect(client.cancelQr('order_x')).rejects.toBeInstanceOf(KbankUnavailable);
    await expect(client.refundQr('chrg_x', 1, 'THB', 'r')).rejects.toBeInstanceOf(KbankUnavailable);
  });
});

function rejection(promise: Promise<unknown>): Promise<KbankRejected> {
  return promise.then(
    () => {
      throw new Error('expected KbankRejected');
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(KbankRejected);
      return error as KbankRejected;
    },
  );
}
