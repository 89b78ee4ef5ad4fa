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

    const byCharge = await qrOrder();
    const chargeId = (await kbank.inquireQr({ orderId: byCharge.orderId }))?.chargeId ?? '';
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
    const chargeId = (await kbank.inquireQr({ orderId: order.orderId }))?.chargeId ?? '';
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
  async function alipay() {
    return kbank.chargeAlipay({
      amount: AMOUNT,
      currency: 'THB',
      referenceOrder: nextReference(),
      description: 'integration test',
    });
  }

  it('redirects, completes, notifies, and inquiry shows Authorized', async () => {
    const charge = await alipay();
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
    const charge = await alipay();
    await control(`/_sim/charges/${charge.chargeId}/fail`);
    expect(accepted(notifies()[0])).toMatchObject({ state: 'Declined', failureCode: 'payment_declined' });
    expect((await kbank.inquireCharge({ referenceOrder: charge.referenceOrder }))?.state).toBe('Declined');
  });

  it('cannot be completed twice', async () => {
    const charge = await alipay();
    await control(`/_sim/charges/${charge.chargeId}/complete`);
    const again = await control(`/_sim/charges/${charge.chargeId}/complete`);
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ code: 'invalid_state' });
    expect(notifies()).toHaveLength(1);
  });
});

describe('3-D Secure', () => {
  async function preAuthorized() {
    const token = await tokenizeTestCard(sim.url, MAGIC_CARDS.threeDSecure.number);
    const charge = await kbank.chargeCard({
      token,
      amount: AMOUNT,
      currency: 'THB',
      referenceOrder: nextReference(),
      description: 'integration test',
    });
    expect(charge.state).toBe('Pre-Authorized');
    return { charge, token };
  }

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
      expect(await missing.client.inquireQr({ orderId: 'order_mine' })).toBeNull();
      // Cancelling something KBank does not have is a refusal, not "nothing".
      await expect(missing.client.cancelQr('order_mine')).rejects.toBeInstanceOf(KbankRejected);
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
