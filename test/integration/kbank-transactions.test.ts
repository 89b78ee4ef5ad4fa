/**
 * KBank's daily transaction list [ours, ?]: the real client against the real simulator over HTTP, with the
 * orphan and "missing" controls the reconciliation tests need.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createKbankClient, type KbankClient } from '../../functions/adapters/kbank-client.js';
import { KbankOutcomeUnknown, KbankRejected, KbankUnavailable } from '../../functions/core/errors.js';
import {
  type KbankSimulator,
  MAGIC_CARDS,
  SIMULATOR_DEFAULTS,
  startKbankSimulator,
  tokenizeTestCard,
} from '../../local/kbank-simulator.js';
import { freePort } from '../support/processes.js';

const SECRET = SIMULATOR_DEFAULTS.secretKey;
/** 10:00 in Bangkok on 15 June 2025. */
const MORNING = Date.parse('2025-06-15T03:00:00.000Z');

let nowMs = MORNING;
let sim: KbankSimulator;
let kbank: KbankClient;

beforeAll(async () => {
  sim = await startKbankSimulator({ now: () => new Date(nowMs) });
  kbank = createKbankClient({ baseUrl: sim.url, secretKey: SECRET });
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.reset();
  nowMs = MORNING;
});

/** One second later: entries of a day are listed oldest first. */
function tick(): void {
  nowMs += 1000;
}

async function cardCharge(referenceOrder: string, amount: number, card: string = MAGIC_CARDS.visa.number) {
  tick();
  return kbank.chargeCard({
    token: await tokenizeTestCard(sim.url, card),
    amount,
    currency: 'THB',
    referenceOrder,
    description: 'transactions test',
  });
}

async function control(path: string, body?: unknown) {
  const response = await fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** A throwaway HTTP server answering every request with `status` and `body`, for malformed answers. */
async function answering(status: number, body: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('KBank daily transaction list', () => {
  it('lists every charge and order of the day with amounts in minor units, and refunds as their own entries', async () => {
    const settled = await cardCharge('pay_a-1', 20050);
    await kbank.settleCharge(settled.chargeId, 20050, 'THB', 'full');
    tick();
    await kbank.refundCharge(settled.chargeId, 5025, 'THB', 'one item back');
    const declined = await cardCharge('pay_b-1', 1000, MAGIC_CARDS.declined.number);
    tick();
    const order = await kbank.createQrOrder({
      amount: 7500,
      currency: 'THB',
      description: 'qr',
      sourceType: 'qr',
      referenceOrder: 'pay_c-1',
    });
    await control(`/_sim/orders/${order.orderId}/pay`);
    tick();
    const wechat = await kbank.createQrOrder({
      amount: 300,
      currency: 'THB',
      description: 'wechat',
      sourceType: 'wechat',
      referenceOrder: 'pay_d-1',
    });
    tick();
    const alipay = await kbank.chargeAlipay({
      amount: 4200,
      currency: 'THB',
      description: 'alipay',
      referenceOrder: 'pay_e-1',
    });

    const listed = await kbank.listTransactions('2025-06-15');

    const qrCharge = await kbank.inquireQr({ orderId: order.orderId });
    expect(listed).toEqual([
      expect.objectContaining({
        kind: 'charge',
        id: settled.chargeId,
        chargeId: settled.chargeId,
        referenceOrder: 'pay_a-1',
        sourceType: 'card',
        amount: 20050,
        currency: 'THB',
        state: 'Refund Sent',
        refundedAmount: 5025,
        created: settled.created,
      }),
      expect.objectContaining({
        kind: 'refund',
        id: expect.stringMatching(/^rfnd_test_/),
        chargeId: settled.chargeId,
        referenceOrder: 'pay_a-1',
        amount: 5025,
        state: 'Refund Sent',
      }),
      expect.objectContaining({ id: declined.chargeId, state: 'Declined', amount: 1000, refundedAmount: 0 }),
      expect.objectContaining({
        id: qrCharge?.chargeId,
        orderId: order.orderId,
        sourceType: 'qr',
        state: 'Authorized',
        amount: 7500,
      }),
      expect.objectContaining({
        orderId: wechat.orderId,
        sourceType: 'wechat',
        state: 'Initialize',
        amount: 300,
      }),
      expect.objectContaining({
        id: alipay.chargeId,
        sourceType: 'alipay',
        state: 'Initialize',
        amount: 4200,
      }),
    ]);
    expect(listed.find((entry) => entry.kind === 'refund')?.created).toMatch(/^20250615\d{9}$/);
  });

  it('cuts the business day at midnight in Bangkok, and lists a refund on the day it was made', async () => {
    // cardCharge moves the clock one second on first.
    nowMs = Date.parse('2025-06-15T16:59:58.999Z'); // charged at 23:59:59.999 in Bangkok
    const lateEvening = await cardCharge('late-1', 1000);
    await kbank.settleCharge(lateEvening.chargeId, 1000, 'THB', 'full');
    nowMs = Date.parse('2025-06-15T16:59:59.000Z'); // charged at 00:00 on the 16th in Bangkok
    const nextDay = await cardCharge('next-1', 2000);
    await kbank.refundCharge(lateEvening.chargeId, 400, 'THB', 'next day');

    const fifteenth = await kbank.listTransactions('2025-06-15');
    const sixteenth = await kbank.listTransactions('2025-06-16');

    expect(fifteenth.map((entry) => [entry.kind, entry.referenceOrder, entry.refundedAmount])).toEqual([
      ['charge', 'late-1', 400],
    ]);
    expect(sixteenth.map((entry) => [entry.kind, entry.chargeId, entry.amount])).toEqual([
      ['charge', nextDay.chargeId, 2000],
      ['refund', lateEvening.chargeId, 400],
    ]);
    expect(await kbank.listTransactions('2025-06-14')).toEqual([]);
  });

  it('reads every page of a long day, each entry once', async () => {
    for (let index = 0; index < 230; index++) {
      sim.createOrphan({ referenceOrder: `bulk-${index}`, amount: 100 + index });
    }
    const page = await fetch(`${sim.url}/v2/transactions?date=2025-06-15&page=3&page_size=100`, {
      headers: { 'x-api-key': SECRET },
    });
    expect(await page.json()).toMatchObject({
      page: 3,
      total: 230,
      has_more: false,
      data: expect.any(Array),
    });

    const listed = await kbank.listTransactions('2025-06-15');

    expect(listed).toHaveLength(230);
    expect(new Set(listed.map((entry) => entry.id)).size).toBe(230);
    expect(listed.reduce((sum, entry) => sum + entry.amount, 0)).toBe(230 * 100 + (229 * 230) / 2);
  });

  it('holds an orphan: a paid charge under a reference order we never recorded, inquirable and refundable', async () => {
    const created = await control('/_sim/orphans', {
      reference_order: 'pay_lost-1',
      amount: '150.25',
      state: 'Settled',
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ object: 'charge', transaction_state: 'Settled', amount: '150.25' });
    tick();
    const qr = await control('/_sim/orphans', {
      reference_order: 'pay_lost-2',
      amount: 99,
      source_type: 'qr',
    });
    expect(qr.body).toMatchObject({
      transaction_state: 'Authorized',
      order_id: expect.stringMatching(/^order_test_/),
    });

    const listed = await kbank.listTransactions('2025-06-15');
    expect(
      listed.map((entry) => [entry.referenceOrder, entry.sourceType, entry.amount, entry.state]),
    ).toEqual([
      ['pay_lost-1', 'card', 15025, 'Settled'],
      ['pay_lost-2', 'qr', 9900, 'Authorized'],
    ]);
    expect(sim.charges().map((charge) => charge.orphan)).toEqual([true, true]);
    // Orphan handling gives the money back.
    const found = await kbank.inquireCharge({ referenceOrder: 'pay_lost-1' });
    expect(found).toMatchObject({ chargeId: created.body.id, state: 'Settled', amount: 15025 });
    expect(await kbank.refundCharge(created.body.id, 15025, 'THB', 'orphan')).toMatchObject({
      refundedAmount: 15025,
    });
    expect(await kbank.refundQr(qr.body.id, 9900, 'THB', 'orphan')).toMatchObject({ refundedAmount: 9900 });
  });

  it('refuses an orphan on a reference order KBank already holds, or one a QR cannot be', async () => {
    await cardCharge('taken-1', 1000);

    expect(await control('/_sim/orphans', { reference_order: 'taken-1', amount: '1.00' })).toMatchObject({
      status: 400,
      body: { code: 'duplicate_reference_order' },
    });
    expect(
      await control('/_sim/orphans', {
        reference_order: 'x-1',
        amount: '1.00',
        source_type: 'qr',
        state: 'Settled',
      }),
    ).toMatchObject({ status: 400, body: { code: 'invalid_state' } });
    expect(
      await control('/_sim/orphans', { reference_order: 'x-2', amount: '1.00', extra: true }),
    ).toMatchObject({
      status: 400,
      body: { code: 'invalid_request' },
    });
  });

  it('leaves an unlisted charge off the list while inquiry still finds it, and forgets a charge entirely', async () => {
    const kept = await cardCharge('kept-1', 1000);
    const unlisted = await cardCharge('unlisted-1', 2000);
    await kbank.settleCharge(unlisted.chargeId, 2000, 'THB', 'full');
    await kbank.refundCharge(unlisted.chargeId, 500, 'THB', 'partly');
    const forgotten = await cardCharge('forgotten-1', 3000);

    expect(await control(`/_sim/charges/${unlisted.chargeId}/unlist`)).toMatchObject({
      status: 200,
      body: { id: unlisted.chargeId, unlisted: true },
    });
    expect(await control(`/_sim/charges/${forgotten.chargeId}/forget`)).toMatchObject({
      status: 200,
      body: { forgotten: true },
    });
    expect(await control('/_sim/charges/chrg_test_nope/unlist')).toMatchObject({
      status: 404,
      body: { code: 'charge_not_found' },
    });

    const listed = await kbank.listTransactions('2025-06-15');
    expect(listed.map((entry) => entry.id)).toEqual([kept.chargeId]);
    expect(await kbank.inquireCharge({ chargeId: unlisted.chargeId })).toMatchObject({ refundedAmount: 500 });
    expect(await kbank.inquireCharge({ chargeId: forgotten.chargeId })).toBeNull();
    expect(await kbank.inquireCharge({ referenceOrder: 'forgotten-1' })).toBeNull();
  });

  it('fails with the same typed errors as every other call', async () => {
    const wrongKey = createKbankClient({ baseUrl: sim.url, secretKey: 'skey_test_wrong' });
    const unauthorized = await wrongKey.listTransactions('2025-06-15').catch((error: unknown) => error);
    expect(unauthorized).toBeInstanceOf(KbankRejected);
    expect(unauthorized).toMatchObject({ kbankCode: 'unauthorized', httpStatus: 401 });
    expect((unauthorized as Error).message).not.toContain('skey_test_wrong');

    const badDate = await kbank.listTransactions('2025-02-30').catch((error: unknown) => error);
    expect(badDate).toMatchObject({ kbankCode: 'invalid_request', httpStatus: 400 });

    const nobody = createKbankClient({ baseUrl: `http://127.0.0.1:${await freePort()}`, secretKey: SECRET });
    await expect(nobody.listTransactions('2025-06-15')).rejects.toBeInstanceOf(KbankUnavailable);

    for (const [status, body] of [
      [503, '{"object":"error","code":"service_unavailable"}'],
      [
        200,
        '{"object":"list","date":"2025-06-15","page":1,"page_size":100,"has_more":false,"data":[{"id":1}]}',
      ],
      [200, '{"object":"list","date":"2025-06-14","page":1,"page_size":100,"has_more":false,"data":[]}'],
    ] as const) {
      const server = await answering(status, body);
      try {
        const odd = createKbankClient({ baseUrl: server.url, secretKey: SECRET });
        await expect(odd.listTransactions('2025-06-15')).rejects.toBeInstanceOf(KbankOutcomeUnknown);
      } finally {
        await server.close();
      }
    }
  });
});
