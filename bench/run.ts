/**
 * `npm run bench`: drives N payments through the local stack (a separate process, as a real client
 * would) to their terminal state, then measures DynamoDB Local's raw transactional write rate on the same
 * machine as the storage ceiling. Prints the figures and writes them to bench/results/card-<time>.json.
 *
 * A share of the payments (`--qr-share`, default 0.3) are Thai QR (`qr_promptpay`): each is polled until
 * `requires_action`, "paid" by scanning its QR payload with the KBank simulator (`POST /_sim/qr/scan`, which
 * answers once its notify reached our webhook), and polled until `succeeded` (bench/qr.ts). The rest are
 * card payments, as before.
 *
 * It also reports what a completed payment costs on AWS, counted in the run by the stack itself
 * (`GET /_local/counters`, local/counters.ts): DynamoDB requests and units, Step Functions transitions,
 * Lambda invocations, events, API and queue requests, card and QR apart, priced per 1 million payments at
 * list prices (bench/cost.ts, bench/prices.ts). The counters are reset after the warm-up.
 *
 *   npm run bench                                 starts its own stack on ports 3100-3104
 *   npm run bench -- --payments 3000 --rate 150   more, faster
 *   npm run bench -- --qr-share 0                 cards only
 *   npm run bench -- --stack .local/stack.json    use a stack started with `npm start -- --count-usage`
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CountersSnapshot } from '../local/counters.js';
import { formatPaymentCost, paymentCost } from './cost.js';
import { measureTransactWrites } from './dynamodb-ceiling.js';
import { auditTimings, driveQrPayment, type QrDriveOptions, type QrRun } from './qr.js';
import { percentile, round, sleep, summary } from './stats.js';

const { values } = parseArgs({
  options: {
    payments: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '100' },
    'max-in-flight': { type: 'string', default: '256' },
    'ddb-seconds': { type: 'string', default: '5' },
    stack: { type: 'string' },
    port: { type: 'string', default: '3100' },
    'qr-share': { type: 'string', default: '0.3' },
    'poll-ms': { type: 'string', default: '10' },
    'scan-delay-ms': { type: 'string', default: '0' },
  },
});
const N = Number(values.payments);
const RATE = Number(values.rate);
const MAX_IN_FLIGHT = Number(values['max-in-flight']);
const QR_SHARE = Number(values['qr-share']);
const POLL_MS = Number(values['poll-ms']);
const SCAN_DELAY_MS = Number(values['scan-delay-ms']);
if (!(QR_SHARE >= 0 && QR_SHARE <= 1) || !(POLL_MS > 0) || !(SCAN_DELAY_MS >= 0)) {
  console.error('--qr-share must be in [0, 1], --poll-ms > 0, --scan-delay-ms >= 0');
  process.exit(2);
}
/** Payment i is a QR payment when the running QR count steps up at i: evenly spread over the run. */
const isQr = (i: number) => Math.floor((i + 1) * QR_SHARE) > Math.floor(i * QR_SHARE);

interface StackInfo {
  apiUrl: string;
  kbankUrl: string;
  dynamodbEndpoint: string;
  apiKey: string;
  kbankPublicKey: string;
}

/**
 * Callbacks the processor handed back to the queue because the saga had not stored its task token yet
 * (SagaNotWaitingYet), counted from the stack's log (only when the bench started the stack). Those log
 * lines are counted instead of printed; every other line of the stack's stderr is passed through.
 */
const handedBack = { count: 0, counting: false };

async function startStack(): Promise<{ info: StackInfo; child: ChildProcess | null }> {
  if (values.stack) return { info: JSON.parse(readFileSync(values.stack, 'utf8')) as StackInfo, child: null };
  const port = Number(values.port);
  const stateFile = resolve('.local/stack.json');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bin/local.ts', '--port', String(port), '--count-usage'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  handedBack.counting = true;
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  let partial = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.includes('"code":"saga_not_waiting_yet"')) handedBack.count += 1;
      else process.stderr.write(`${line}\n`);
    }
  });
  const deadline = Date.now() + 60_000;
  while (!output.includes('Local stack ready')) {
    if (child.exitCode !== null) throw new Error(`local stack exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`local stack did not start in 60 s:\n${output}`);
    await sleep(100);
  }
  return { info: JSON.parse(readFileSync(stateFile, 'utf8')) as StackInfo, child };
}

async function tokenize(info: StackInfo): Promise<string> {
  const res = await fetch(`${info.kbankUrl}/card/v2/tokens`, {
    method: 'POST',
    headers: { 'x-api-key': info.kbankPublicKey, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      card: {
        number: '4111111111111111',
        expiration_month: 12,
        expiration_year: 2099,
        security_code: '123',
        name: 'BENCH',
      },
    }),
  });
  return ((await res.json()) as { id: string }).id;
}

const body = (token: string | null) =>
  JSON.stringify({
    amount: 72500,
    currency: 'THB',
    order: {
      id: `bench-${randomUUID().slice(0, 12)}`,
      lines: [
        { sku: 'SKU-TSHIRT', quantity: 2, unit_amount: 35000 },
        { sku: 'SKU-STICKER', quantity: 1, unit_amount: 2500 },
      ],
    },
    customer: { id: 'bench' },
    payment_method: token === null ? { type: 'qr_promptpay' } : { type: 'card', token },
  });

async function main() {
  const { info, child } = await startStack();
  try {
    const qrCount = Array.from({ length: N }, (_, i) => isQr(i)).filter(Boolean).length;
    console.log(
      `stack: ${info.apiUrl}; ${N} payments at ${RATE}/s (open loop, ≤ ${MAX_IN_FLIGHT} in flight), ` +
        `${N - qrCount} card + ${qrCount} Thai QR (share ${QR_SHARE}, polled every ${POLL_MS} ms)`,
    );
    const tokens: (string | null)[] = [];
    for (let i = 0; i < N; i += 50) {
      tokens.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(50, N - i) }, (_, j) => (isQr(i + j) ? null : tokenize(info))),
        )),
      );
    }
    const headers = { Authorization: `Bearer ${info.apiKey}`, 'Content-Type': 'application/json' };
    const qrOptions: QrDriveOptions = {
      apiUrl: info.apiUrl,
      kbankUrl: info.kbankUrl,
      headers: { Authorization: headers.Authorization },
      pollMs: POLL_MS,
      timeoutMs: 120_000,
      scanDelayMs: SCAN_DELAY_MS,
    };

    // Warm-up: JIT, connections and DynamoDB Local's first transactions are not what we measure.
    for (let i = 0; i < 20; i++) {
      await fetch(`${info.apiUrl}/v1/payments`, {
        method: 'POST',
        headers: { ...headers, 'Idempotency-Key': randomUUID() },
        body: body(await tokenize(info)),
      });
    }
    if (qrCount > 0) {
      // The QR path too: the webhook, the callback queue and the resumed saga.
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const res = await fetch(`${info.apiUrl}/v1/payments`, {
          method: 'POST',
          headers: { ...headers, 'Idempotency-Key': randomUUID() },
          body: body(null),
        });
        const json = (await res.json()) as { id?: string };
        if (json.id) {
          const warm = await driveQrPayment(qrOptions, json.id, t0);
          if (warm.error) console.log(`  warm-up QR payment ${json.id} did not succeed: ${warm.error}`);
        } else console.log(`  warm-up QR payment refused: HTTP ${res.status}`);
      }
    }
    await sleep(2000);
    const handedBackInWarmUp = handedBack.count;
    // What the measured payments cost is counted from here on (the warm-up's is dropped).
    const reset = await fetch(`${info.apiUrl}/_local/counters/reset`, { method: 'POST' });
    if (!reset.ok) {
      throw new Error(`the stack does not count usage (HTTP ${reset.status}): start it with --count-usage`);
    }

    const latencies: number[] = [];
    const ids: string[] = [];
    const qrRuns: Promise<QrRun>[] = [];
    let qrCreated = 0;
    const errors: Record<string, number> = {};
    let inFlight = 0;
    let late = 0;
    const start = performance.now();
    const posts: Promise<void>[] = [];
    for (let i = 0; i < N; i++) {
      const due = start + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      else if (wait < -50) late += 1;
      while (inFlight >= MAX_IN_FLIGHT) await sleep(1);
      inFlight += 1;
      const token = tokens[i] ?? null;
      posts.push(
        (async () => {
          const t0 = performance.now();
          try {
            const res = await fetch(`${info.apiUrl}/v1/payments`, {
              method: 'POST',
              headers: { ...headers, 'Idempotency-Key': randomUUID() },
              body: body(token),
            });
            const json = (await res.json()) as { id?: string };
            latencies.push(performance.now() - t0);
            if (res.status === 201 && json.id) {
              if (token === null) {
                qrCreated += 1;
                qrRuns.push(driveQrPayment(qrOptions, json.id, t0));
              } else ids.push(json.id);
            } else errors[String(res.status)] = (errors[String(res.status)] ?? 0) + 1;
          } catch (error) {
            errors[(error as Error).name] = (errors[(error as Error).name] ?? 0) + 1;
          } finally {
            inFlight -= 1;
          }
        })(),
      );
      if ((i + 1) % Math.max(1, Math.round(RATE * 2)) === 0) {
        process.stdout.write(`  sent ${i + 1}/${N}, in flight ${inFlight}\n`);
      }
    }
    await Promise.all(posts);
    const sendSeconds = (performance.now() - start) / 1000;
    console.log(`  all POSTs answered after ${sendSeconds.toFixed(1)} s; waiting for terminal states …`);

    let qrSettled = 0;
    let qrEnded = start;
    const qrAll = Promise.all(
      qrRuns.map((run) =>
        run.then((r) => {
          qrSettled += 1;
          qrEnded = performance.now();
          return r;
        }),
      ),
    );
    const terminal = new Set(['succeeded', 'failed', 'canceled', 'rejected', 'expired']);
    const done = new Map<string, { status: string; createdAt: number; updatedAt: number }>();
    const waitDeadline = Date.now() + 300_000;
    while ((done.size < ids.length || qrSettled < qrRuns.length) && Date.now() < waitDeadline) {
      const pending = ids.filter((id) => !done.has(id));
      for (let i = 0; i < pending.length; i += 32) {
        await Promise.all(
          pending.slice(i, i + 32).map(async (id) => {
            const res = await fetch(`${info.apiUrl}/v1/payments/${id}`, { headers });
            const p = (await res.json()) as { status: string; created_at: string; updated_at: string };
            if (terminal.has(p.status)) {
              done.set(id, {
                status: p.status,
                createdAt: Date.parse(p.created_at),
                updatedAt: Date.parse(p.updated_at),
              });
            }
          }),
        );
      }
      if (done.size < ids.length || qrSettled < qrRuns.length) {
        process.stdout.write(
          `  card terminal ${done.size}/${ids.length}` +
            (qrRuns.length > 0 ? `, QR finished ${qrSettled}/${qrRuns.length}` : '') +
            '\n',
        );
        await sleep(1000);
      }
    }
    // Each QR run ends by itself (succeeded, another status, or its own 120 s per-phase timeout).
    const qr = await qrAll;
    // Before the audit trails are read below: those reads are the bench's, not the payments'.
    const counters = (await (await fetch(`${info.apiUrl}/_local/counters`)).json()) as CountersSnapshot;
    const cardCost = paymentCost(counters, [...done.keys()]);
    const qrCost = paymentCost(
      counters,
      qr.filter((r) => terminal.has(r.status)).map((r) => r.id),
    );

    const records = [...done.values()];
    const firstCreated = Math.min(...records.map((r) => r.createdAt));
    const lastDone = Math.max(...records.map((r) => r.updatedAt));
    const completedPerSecond = records.length / ((lastDone - firstCreated) / 1000);
    const e2e = records.map((r) => r.updatedAt - r.createdAt);
    const statuses: Record<string, number> = {};
    for (const r of records) statuses[r.status] = (statuses[r.status] ?? 0) + 1;

    const qrStatuses: Record<string, number> = {};
    const qrErrors: Record<string, number> = {};
    for (const r of qr) {
      qrStatuses[r.status] = (qrStatuses[r.status] ?? 0) + 1;
      if (r.error) qrErrors[r.error] = (qrErrors[r.error] ?? 0) + 1;
    }
    const qrSucceeded = qr.filter((r) => r.status === 'succeeded' && r.callbackToSucceededMs !== undefined);
    // Every payment that ended (card or QR), on the server's clock: the whole mix's sustained rate.
    const ended = [
      ...records,
      ...qr.filter((r) => terminal.has(r.status) && r.createdAt !== undefined && r.updatedAt !== undefined),
    ] as { createdAt: number; updatedAt: number }[];
    const allCompletedPerSecond =
      ended.length /
      ((Math.max(...ended.map((r) => r.updatedAt)) - Math.min(...ended.map((r) => r.createdAt))) / 1000);

    // From the first POST to the last QR run's end: the window the polls were spread over.
    const qrSeconds = (qrEnded - start) / 1000;
    if (qrSucceeded.length > 0) console.log(`  reading ${qrSucceeded.length} QR audit trails …`);
    const audit = await auditTimings(
      info.apiUrl,
      qrOptions.headers,
      qrSucceeded.map((r) => r.id),
    );

    console.log(`  measuring DynamoDB Local's transactional write ceiling for ${values['ddb-seconds']} s …`);
    const ceiling = await measureTransactWrites(info.dynamodbEndpoint, Number(values['ddb-seconds']) * 1000);

    const result = {
      when: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model,
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
      },
      target: {
        payments: N,
        ratePerSecond: RATE,
        qrShare: QR_SHARE,
        pollMs: POLL_MS,
        scanDelayMs: SCAN_DELAY_MS,
      },
      /** Card payments (the QR ones are under `qr`). */
      payments: {
        created: ids.length,
        terminal: records.length,
        statuses,
        /** POST refusals and network errors, card and QR. */
        errors,
        lateSends: late,
        completedPerSecond: round(completedPerSecond),
        endToEndMs: {
          p50: round(percentile(e2e, 50)),
          p99: round(percentile(e2e, 99)),
          max: Math.max(...e2e),
        },
      },
      /** Thai QR payments; client-side timings (bench/qr.ts). */
      qr: {
        offered: qrCount,
        created: qrCreated,
        succeeded: qrSucceeded.length,
        statuses: qrStatuses,
        errors: qrErrors,
        /** POST sent → first poll that saw requires_action. */
        createToRequiresActionMs: summary(qr.flatMap((r) => r.toRequiresActionMs ?? [])),
        /** The simulator's scan call (pay, notify delivered to our webhook, queued, 200). */
        scanCallMs: summary(qr.flatMap((r) => r.scanMs ?? [])),
        /** Scan call answered → first poll that saw succeeded. */
        callbackToSucceededMs: summary(qrSucceeded.flatMap((r) => r.callbackToSucceededMs ?? [])),
        /** From the audit trail: webhook accepted the notify → processor recorded it. */
        notifyQueuedToRecordedMs: summary(audit.queuedToRecordedMs),
        /** From the audit trail: payment.requires_action → action.wait_started (the saga's task token stored). */
        tokenStoredAfterRequiresActionMs: summary(audit.tokenStoredAfterMs),
        /**
         * Callbacks the processor handed back because the saga had not stored its task token yet
         * (SagaNotWaitingYet, from the stack's log; null with --stack): processed again only after the
         * queue's visibility timeout (1 s locally, 180 s on AWS).
         */
        callbacksHandedBack: handedBack.counting ? handedBack.count - handedBackInWarmUp : null,
        notifyDuplicates: audit.duplicates,
        /** The bench's own status polls (GET /v1/payments/{id}, one GetItem each): load it adds. */
        polls: qr.reduce((sum, r) => sum + r.polls, 0),
        pollsPerSecond: qrSeconds > 0 ? round(qr.reduce((sum, r) => sum + r.polls, 0) / qrSeconds) : 0,
        notifyNotRecorded: audit.missing,
      },
      /** Every POST /v1/payments (card and QR). */
      postLatencyMs: {
        p50: round(percentile(latencies, 50)),
        p90: round(percentile(latencies, 90)),
        p99: round(percentile(latencies, 99)),
        max: round(Math.max(...latencies)),
      },
      /** Card and QR payments that ended, first created → last ended (server timestamps). */
      allCompletedPerSecond: round(allCompletedPerSecond),
      /**
       * Per completed payment, counted by the stack (local/counters.ts) from the reset after the warm-up
       * until every payment ended; priced per 1M payments at bench/prices.ts. Status reads apart.
       */
      cost: {
        card: cardCost,
        qr: qrCost,
        /** Work no payment is charged with (the periodic sweep's index queries), over the whole run. */
        unattributed: counters.unattributed,
        countedSince: counters.since,
      },
      dynamodbLocal: ceiling,
      ratio: {
        /** Completed payments/s (card and QR) over raw TransactWriteItems/s, both measured here. */
        paymentsPerTransactWrite:
          Math.round((allCompletedPerSecond / ceiling.transactWritesPerSecond) * 1000) / 1000,
        /** How many raw transactions' worth of storage capacity one completed payment costs. */
        transactWritesWorthPerPayment: round(ceiling.transactWritesPerSecond / allCompletedPerSecond),
      },
    };
    const dir = resolve('bench/results');
    mkdirSync(dir, { recursive: true });
    const file = resolve(dir, `card-${result.when.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

    const ms = (s: { p50: number | null; p99: number | null }) => `p50 ${s.p50}   p99 ${s.p99}`;
    const q = result.qr;
    const qrReport =
      q.offered === 0
        ? 'Thai QR payments: none (--qr-share 0)'
        : `Thai QR payments: ${q.succeeded}/${q.created} succeeded of ${q.offered} offered (${JSON.stringify(qrStatuses)}), errors ${JSON.stringify(qrErrors)}
  create → requires_action ms        ${ms(q.createToRequiresActionMs)}
  scan call (pay + notify) ms        ${ms(q.scanCallMs)}
  callback → succeeded ms            ${ms(q.callbackToSucceededMs)}   (polled every ${POLL_MS} ms: ${q.pollsPerSecond} GET/s)
  notify queued → recorded ms        ${ms(q.notifyQueuedToRecordedMs)}   (audit trail; duplicates ${q.notifyDuplicates}, not recorded ${q.notifyNotRecorded})
  requires_action → token stored ms  ${ms(q.tokenStoredAfterRequiresActionMs)}   (callbacks handed back before it: ${q.callbacksHandedBack ?? 'not counted'})`;
    console.log(`
Card payments: ${records.length}/${ids.length} terminal (${JSON.stringify(statuses)}), errors ${JSON.stringify(errors)}
  completed card payments/s          ${result.payments.completedPerSecond}
  POST /v1/payments latency ms       p50 ${result.postLatencyMs.p50}   p99 ${result.postLatencyMs.p99}   (card and QR; target p99 < 150)
  create → terminal ms               p50 ${result.payments.endToEndMs.p50}   p99 ${result.payments.endToEndMs.p99}
${qrReport}
${formatPaymentCost('Cost of a card payment', cardCost)}
${formatPaymentCost('Cost of a Thai QR payment', qrCost)}
All payments
  completed payments/s (sustained)   ${result.allCompletedPerSecond}   (target ≥ 100)
DynamoDB Local (same machine, same run)
  TransactWriteItems/s (2 items)     ${ceiling.transactWritesPerSecond}   p50 ${ceiling.latencyMs.p50} ms, p99 ${ceiling.latencyMs.p99} ms
  payments/s ÷ raw tx/s              ${result.ratio.paymentsPerTransactWrite}   (one payment costs ≈ ${result.ratio.transactWritesWorthPerPayment} raw transactions of capacity)
Written to ${file}`);
  } finally {
    child?.kill('SIGINT');
  }
}

if (!existsSync('statemachines/payment.asl.json')) {
  console.error('run from the project root');
  process.exit(2);
}
await main();
