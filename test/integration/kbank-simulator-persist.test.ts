/**
 * The KBank simulator with a state file: SIGKILLed in a child process and restarted, it still knows every
 * charge, order, refund and token, and the real client keeps working against it over HTTP.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createKbankClient, parseNotify } from '../../functions/adapters/kbank-client.js';
import { KbankOutcomeUnknown, KbankRejected } from '../../functions/core/errors.js';
import {
  MAGIC_CARDS,
  SIMULATOR_DEFAULTS,
  startKbankSimulator,
  tokenizeTestCard,
} from '../../local/kbank-simulator.js';
import {
  freePort,
  killCrashChildren,
  type StartedChild,
  sigkill,
  startCrashChild,
} from '../support/processes.js';

jest.setTimeout(120_000);

const SECRET = SIMULATOR_DEFAULTS.secretKey;
const folders: string[] = [];
const notifies: Record<string, unknown>[] = [];
let receiver: http.Server;
let notifyUrl: string;

function tempFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'kbank-persist-'));
  folders.push(folder);
  return folder;
}

beforeAll(async () => {
  // The merchant's notify endpoint: records each notify body, answers 200.
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      notifies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  notifyUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/notify`;
});

afterAll(async () => {
  await killCrashChildren();
  await new Promise((resolve) => receiver.close(resolve));
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** `YYYY-MM-DD` of a 17-digit KBank timestamp (Bangkok time). */
const dayOf = (created: string | undefined) =>
  `${created?.slice(0, 4)}-${created?.slice(4, 6)}-${created?.slice(6, 8)}`;

async function post(url: string): Promise<number> {
  const response = await fetch(url, { method: 'POST' });
  await response.arrayBuffer();
  return response.status;
}

describe('KBank simulator with a state file', () => {
  it('answers for everything it held before a SIGKILL, after a restart on the same file', async () => {
    const statePath = join(tempFolder(), 'kbank-simulator.json');
    const port = await freePort();
    const options = { port, statePath, notifyUrl, hangMs: 60_000 };
    let started: StartedChild<{ url: string }> = await startCrashChild('kbank', options);
    const url = started.info.url;
    const kbank = createKbankClient({ baseUrl: url, secretKey: SECRET, timeoutMs: 5000 });
    const charge = async (referenceOrder: string, card: string = MAGIC_CARDS.visa.number) =>
      kbank.chargeCard({
        token: await tokenizeTestCard(url, card),
        amount: 20050,
        currency: 'THB',
        referenceOrder,
        description: 'crash test',
      });

    const toSettle = await charge('crash-settle');
    const toVoid = await charge('crash-void');
    const toRefund = await charge('crash-refund');
    await kbank.settleCharge(toRefund.chargeId, 20050, 'THB', 'full');
    const threeDs = await charge('crash-3ds', MAGIC_CARDS.threeDSecure.number);
    const order = {
      amount: 7500,
      currency: 'THB' as const,
      description: 'crash test',
      sourceType: 'qr' as const,
    };
    const toPay = await kbank.createQrOrder({ ...order, referenceOrder: 'crash-qr-pay' });
    const toCancel = await kbank.createQrOrder({ ...order, referenceOrder: 'crash-qr-cancel' });
    const spareToken = await tokenizeTestCard(url, MAGIC_CARDS.visa.number);
    // KBank keeps the charge but its answer never comes: the client gives up, then the process dies.
    const impatient = createKbankClient({ baseUrl: url, secretKey: SECRET, timeoutMs: 300 });
    await expect(
      impatient.chargeCard({
        token: await tokenizeTestCard(url, MAGIC_CARDS.timeoutAfterSuccess.number),
        amount: 12000,
        currency: 'THB',
        referenceOrder: 'crash-lost-answer',
        description: 'crash test',
      }),
    ).rejects.toBeInstanceOf(KbankOutcomeUnknown);

    await sigkill(started.child);
    started = await startCrashChild('kbank', options);
    expect(started.info.url).toBe(url);

    // Inquiries, by charge id and by reference order, card and QR.
    expect(await kbank.inquireCharge({ chargeId: toSettle.chargeId })).toMatchObject({
      state: 'Authorized',
      amount: 20050,
      referenceOrder: 'crash-settle',
    });
    expect(await kbank.inquireCharge({ referenceOrder: 'crash-lost-answer' })).toMatchObject({
      state: 'Authorized',
      amount: 12000,
    });
    expect(await kbank.inquireQr({ orderId: toPay.orderId })).toMatchObject({
      state: 'Initialize',
      referenceOrder: 'crash-qr-pay',
    });
    // Settle, void, refund, cancel.
    expect((await kbank.settleCharge(toSettle.chargeId, 20050, 'THB', 'full')).state).toBe('Settled');
    expect((await kbank.voidCharge(toVoid.chargeId, 'crash test')).state).toBe('Voided');
    expect(await kbank.refundCharge(toRefund.chargeId, 5000, 'THB', 'crash test')).toMatchObject({
      state: 'Refund Sent',
      refundedAmount: 5000,
    });
    expect((await kbank.cancelQr(toCancel.orderId)).state).toBe('Voided');
    // Customers finish what they started before the crash; the notifies carry a valid checksum.
    expect(await post(`${url}/_sim/orders/${toPay.orderId}/pay`)).toBe(200);
    expect(await post(`${url}/_sim/charges/${threeDs.chargeId}/complete`)).toBe(200);
    const paid = notifies.find((body) => body.order_id === toPay.orderId);
    expect(parseNotify(paid, SECRET, { amount: 7500, currency: 'THB' })).toMatchObject({
      ok: true,
      notification: { state: 'Authorized', referenceOrder: 'crash-qr-pay' },
    });
    const completed = notifies.find((body) => body.id === threeDs.chargeId);
    expect(parseNotify(completed, SECRET, { amount: 20050, currency: 'THB' })).toMatchObject({
      ok: true,
      notification: { state: 'Authorized' },
    });
    // A token issued before the crash still works once; a reference order already used is still used.
    expect(
      (
        await kbank.chargeCard({
          token: spareToken,
          amount: 100,
          currency: 'THB',
          referenceOrder: 'crash-after',
          description: 'crash test',
        })
      ).state,
    ).toBe('Authorized');
    const again = await charge('crash-settle').catch((error: unknown) => error);
    expect(again).toBeInstanceOf(KbankRejected);
    expect((again as KbankRejected).kbankCode).toBe('duplicate_reference_order');
    // The daily list has every charge and the refund.
    const days = new Set([dayOf(toSettle.created), dayOf(threeDs.created)]);
    const listed = (await Promise.all([...days].map((day) => kbank.listTransactions(day)))).flat();
    expect(listed.filter((entry) => entry.kind === 'charge').map((entry) => entry.referenceOrder)).toEqual(
      expect.arrayContaining([
        'crash-settle',
        'crash-void',
        'crash-refund',
        'crash-3ds',
        'crash-qr-pay',
        'crash-qr-cancel',
        'crash-lost-answer',
        'crash-after',
      ]),
    );
    expect(listed.filter((entry) => entry.kind === 'refund')).toEqual([
      expect.objectContaining({ chargeId: toRefund.chargeId, amount: 5000, state: 'Refund Sent' }),
    ]);

    await sigkill(started.child);
  });

  it('keeps faults and test controls across a restart', async () => {
    const statePath = join(tempFolder(), 'kbank-simulator.json');
    const first = await startKbankSimulator({ statePath });
    const orphan = first.createOrphan({ referenceOrder: 'orphan-kept', amount: 5000 });
    const hidden = first.createOrphan({ referenceOrder: 'hidden-kept', amount: 6000 });
    first.unlistCharge(hidden.id);
    first.setFaults({ lostNotify: true });
    await first.close();

    const second = await startKbankSimulator({ statePath });
    try {
      const kbank = createKbankClient({ baseUrl: second.url, secretKey: SECRET });
      const listed = await kbank.listTransactions(dayOf(orphan.created));
      expect(listed.map((entry) => entry.referenceOrder)).toEqual(['orphan-kept']);
      expect(await kbank.inquireCharge({ referenceOrder: 'hidden-kept' })).toMatchObject({ amount: 6000 });
      const order = await kbank.createQrOrder({
        amount: 100,
        currency: 'THB',
        description: 'fault kept',
        sourceType: 'qr',
        referenceOrder: 'fault-kept',
      });
      await post(`${second.url}/_sim/orders/${order.orderId}/pay`);
      expect(second.deliveries().map((delivery) => delivery.outcome)).toEqual(['lost']);
    } finally {
      await second.close();
    }
  });

  it('refuses to start on a file that is not its state, rather than dropping it', async () => {
    const statePath = join(tempFolder(), 'kbank-simulator.json');
    writeFileSync(statePath, '{"something": "else"}');
    await expect(startKbankSimulator({ statePath })).rejects.toThrow('is not a KBank simulator state file');
    writeFileSync(statePath, '{"charges": [');
    await expect(startKbankSimulator({ statePath })).rejects.toThrow('is not valid JSON');
  });
});
