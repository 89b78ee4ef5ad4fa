/**
 * `npm start -- --persist` killed with SIGKILL and started again: the real launcher (bin/local.ts) in a
 * child process, its own folder as cwd. Nothing is left running, and the payment and KBank's charge are
 * both still there.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { MAGIC_CARDS, SIMULATOR_DEFAULTS, tokenizeTestCard } from '../../local/kbank-simulator.js';
import type { LocalStack } from '../../local/stack.js';
import { freePort, goneWithin, sigkill } from '../support/processes.js';
import { api, paymentBody } from '../support/stack.js';

jest.setTimeout(240_000);

const LAUNCHER = join(process.cwd(), 'bin/local.ts');
const TSX_LOADER = join(process.cwd(), 'node_modules/tsx/dist/loader.mjs');
const folder = mkdtempSync(join(tmpdir(), 'stack-crash-'));
const launched: ChildProcess[] = [];

afterAll(async () => {
  await Promise.all(launched.map((child) => sigkill(child)));
  rmSync(folder, { recursive: true, force: true });
});

interface StackInfo {
  apiUrl: string;
  kbankUrl: string;
  apiKey: string;
  kbankPublicKey: string;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

/** The launcher takes five consecutive ports from --port. */
async function freePortRun(): Promise<number> {
  for (;;) {
    const first = await freePort();
    const all = await Promise.all([0, 1, 2, 3, 4].map((offset) => portFree(first + offset)));
    if (first + 4 < 65536 && all.every(Boolean)) return first;
  }
}

/** Runs `npm start -- --persist --port <port>` (as tsx bin/local.ts) and resolves once it says it is ready. */
async function launch(port: number): Promise<{ child: ChildProcess; info: StackInfo }> {
  const child = spawn(
    process.execPath,
    ['--import', TSX_LOADER, LAUNCHER, '--persist', '--port', String(port)],
    {
      cwd: folder,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  launched.push(child);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const collect = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('Local stack ready')) resolve();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('exit', (code, signal) =>
      reject(new Error(`launcher exited (${signal ?? code}):\n${output}`)),
    );
  });
  const info = JSON.parse(readFileSync(join(folder, '.local/stack.json'), 'utf8')) as StackInfo;
  return { child, info };
}

function asStack(info: StackInfo): LocalStack {
  return { apiUrl: info.apiUrl, merchant: { apiKey: info.apiKey } } as LocalStack;
}

async function succeeded(stack: LocalStack, id: string): Promise<Record<string, any>> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { body } = await api(stack, 'GET', `/v1/payments/${id}`);
    if (body.status === 'succeeded' || Date.now() > deadline) return body;
    // The saga runs in the launcher's process: nothing here to wait on but its answer.
    await new Promise((wake) => setTimeout(wake, 200));
  }
}

async function kbankChargeByReference(kbankUrl: string, referenceOrder: string) {
  const response = await fetch(
    `${kbankUrl}/card/v2/charge?reference_order=${encodeURIComponent(referenceOrder)}`,
    {
      headers: { 'x-api-key': SIMULATOR_DEFAULTS.secretKey },
    },
  );
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

describe('the local stack after a SIGKILL, with --persist', () => {
  it('leaves nothing running, and a restart on the same ports finds the payment and its KBank charge', async () => {
    const port = await freePortRun();
    const first = await launch(port);
    const stack = asStack(first.info);
    const token = await tokenizeTestCard(first.info.kbankUrl, MAGIC_CARDS.visa.number, {
      publicKey: first.info.kbankPublicKey,
    });
    const created = await api(stack, 'POST', '/v1/payments', {
      body: paymentBody(token),
      idempotencyKey: randomUUID(),
    });
    expect(created.status).toBe(201);
    expect((await succeeded(stack, created.body.id)).status).toBe('succeeded');
    const javaPid = (
      JSON.parse(readFileSync(join(folder, '.local/dynamodb-local.pid'), 'utf8')) as { pid: number }
    ).pid;
    const reference = `${created.body.id}-1`;
    expect((await kbankChargeByReference(first.info.kbankUrl, reference)).body.transaction_state).toBe(
      'Settled',
    );

    await sigkill(first.child);
    expect(await goneWithin(javaPid, 15_000)).toBe(true);

    const second = await launch(port);
    expect(second.info.apiUrl).toBe(first.info.apiUrl);
    const again = await api(asStack(second.info), 'GET', `/v1/payments/${created.body.id}`);
    expect(again.body).toMatchObject({ id: created.body.id, status: 'succeeded', amount: 72500 });
    const charge = await kbankChargeByReference(second.info.kbankUrl, reference);
    expect(charge).toMatchObject({ status: 200, body: { transaction_state: 'Settled', amount: '725.00' } });
    expect(existsSync(join(folder, '.local/kbank-simulator.json'))).toBe(true);

    // Ctrl-C (SIGTERM here) stops cleanly: no pidfile is left for the next start to act on.
    const exited = new Promise((resolve) => second.child.once('exit', resolve));
    second.child.kill('SIGTERM');
    await exited;
    expect(existsSync(join(folder, '.local/dynamodb-local.pid'))).toBe(false);
  });

  it('heals what was in flight at the crash: a parked manual capture still captures, a waiting QR still gets paid', async () => {
    const port = await freePortRun();
    const first = await launch(port);
    const stack = asStack(first.info);
    const token = await tokenizeTestCard(first.info.kbankUrl, MAGIC_CARDS.visa.number, {
      publicKey: first.info.kbankPublicKey,
    });
    const manual = await api(stack, 'POST', '/v1/payments', {
      body: paymentBody(token, { capture: 'manual' }),
      idempotencyKey: randomUUID(),
    });
    const qr = await api(stack, 'POST', '/v1/payments', {
      body: paymentBody('unused', { payment_method: { type: 'qr_promptpay' } }),
      idempotencyKey: randomUUID(),
    });
    const reached = async (id: string, status: string) => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const { body } = await api(stack, 'GET', `/v1/payments/${id}`);
        if (body.status === status || Date.now() > deadline) return body;
        await new Promise((wake) => setTimeout(wake, 100));
      }
    };
    expect((await reached(manual.body.id, 'requires_capture')).status).toBe('requires_capture');
    const waiting = await reached(qr.body.id, 'requires_action');
    expect(waiting.status).toBe('requires_action');

    await sigkill(first.child);
    const second = await launch(port);
    const healed = asStack(second.info);

    const captured = await api(healed, 'POST', `/v1/payments/${manual.body.id}/capture`, {
      body: { amount: 50000 },
      idempotencyKey: randomUUID(),
    });
    expect(captured.status).toBe(202);
    const scanned = await fetch(`${second.info.kbankUrl}/_sim/qr/scan`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ payload: waiting.next_action.qr_payload, action: 'pay' }),
    });
    expect(scanned.status).toBe(200);
    expect(await succeeded(healed, manual.body.id)).toMatchObject({
      status: 'succeeded',
      amount_captured: 50000,
    });
    expect(await succeeded(healed, qr.body.id)).toMatchObject({
      status: 'succeeded',
      amount_captured: 72500,
    });
    const charge = await kbankChargeByReference(second.info.kbankUrl, `${manual.body.id}-1`);
    expect(charge.body.transaction_state).toBe('Settled');
  });
});
