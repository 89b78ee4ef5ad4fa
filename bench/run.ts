/**
 * `npm run bench`: drives N card payments through the local stack (a separate process, as a real client
 * would) to their terminal state, then measures DynamoDB Local's raw transactional write rate on the same
 * machine as the storage ceiling. Prints the figures and writes them to bench/results/<time>.json.
 *
 *   npm run bench                                 starts its own stack on ports 3100-3104
 *   npm run bench -- --payments 3000 --rate 150   more, faster
 *   npm run bench -- --stack .local/stack.json    use a stack started with `npm start`
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { measureTransactWrites } from './dynamodb-ceiling.js';
import { percentile, sleep } from './stats.js';

const { values } = parseArgs({
  options: {
    payments: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '100' },
    'max-in-flight': { type: 'string', default: '256' },
    'ddb-seconds': { type: 'string', default: '5' },
    stack: { type: 'string' },
    port: { type: 'string', default: '3100' },
  },
});
const N = Number(values.payments);
const RATE = Number(values.rate);
const MAX_IN_FLIGHT = Number(values['max-in-flight']);

interface StackInfo {
  apiUrl: string;
  kbankUrl: string;
  dynamodbEndpoint: string;
  apiKey: string;
  kbankPublicKey: string;
}

async function startStack(): Promise<{ info: StackInfo; child: ChildProcess | null }> {
  if (values.stack) return { info: JSON.parse(readFileSync(values.stack, 'utf8')) as StackInfo, child: null };
  const port = Number(values.port);
  const stateFile = resolve('.local/stack.json');
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts', '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
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

const body = (token: string) =>
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
    payment_method: { type: 'card', token },
  });

async function main() {
  const { info, child } = await startStack();
  try {
    console.log(
      `stack: ${info.apiUrl}; ${N} payments at ${RATE}/s (open loop, ≤ ${MAX_IN_FLIGHT} in flight)`,
    );
    const tokens: string[] = [];
    for (let i = 0; i < N; i += 50) {
      tokens.push(...(await Promise.all(Array.from({ length: Math.min(50, N - i) }, () => tokenize(info)))));
    }
    const headers = { Authorization: `Bearer ${info.apiKey}`, 'Content-Type': 'application/json' };

    // Warm-up: JIT, connections and DynamoDB Local's first transactions are not what we measure.
    for (let i = 0; i < 20; i++) {
      await fetch(`${info.apiUrl}/v1/payments`, {
        method: 'POST',
        headers: { ...headers, 'Idempotency-Key': randomUUID() },
        body: body(await tokenize(info)),
      });
    }
    await sleep(2000);

    const latencies: number[] = [];
    const ids: string[] = [];
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
      const token = tokens[i] as string;
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
            if (res.status === 201 && json.id) ids.push(json.id);
            else errors[String(res.status)] = (errors[String(res.status)] ?? 0) + 1;
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

    const terminal = new Set(['succeeded', 'failed', 'canceled', 'rejected', 'expired']);
    const done = new Map<string, { status: string; createdAt: number; updatedAt: number }>();
    const waitDeadline = Date.now() + 300_000;
    while (done.size < ids.length && Date.now() < waitDeadline) {
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
      if (done.size < ids.length) {
        process.stdout.write(`  terminal ${done.size}/${ids.length}\n`);
        await sleep(1000);
      }
    }
    const records = [...done.values()];
    const firstCreated = Math.min(...records.map((r) => r.createdAt));
    const lastDone = Math.max(...records.map((r) => r.updatedAt));
    const completedPerSecond = records.length / ((lastDone - firstCreated) / 1000);
    const e2e = records.map((r) => r.updatedAt - r.createdAt);
    const statuses: Record<string, number> = {};
    for (const r of records) statuses[r.status] = (statuses[r.status] ?? 0) + 1;

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
      target: { payments: N, ratePerSecond: RATE },
      payments: {
        created: ids.length,
        terminal: records.length,
        statuses,
        errors,
        lateSends: late,
        completedPerSecond: round(completedPerSecond),
        endToEndMs: {
          p50: round(percentile(e2e, 50)),
          p99: round(percentile(e2e, 99)),
          max: Math.max(...e2e),
        },
      },
      postLatencyMs: {
        p50: round(percentile(latencies, 50)),
        p90: round(percentile(latencies, 90)),
        p99: round(percentile(latencies, 99)),
        max: round(Math.max(...latencies)),
      },
      dynamodbLocal: ceiling,
      ratio: {
        /** Completed payments/s over raw TransactWriteItems/s, both measured here. */
        paymentsPerTransactWrite:
          Math.round((completedPerSecond / ceiling.transactWritesPerSecond) * 1000) / 1000,
        /** How many raw transactions' worth of storage capacity one completed payment costs. */
        transactWritesWorthPerPayment: round(ceiling.transactWritesPerSecond / completedPerSecond),
      },
    };
    const dir = resolve('bench/results');
    mkdirSync(dir, { recursive: true });
    const file = resolve(dir, `card-${result.when.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

    console.log(`
Card payments: ${records.length}/${ids.length} terminal (${JSON.stringify(statuses)}), errors ${JSON.stringify(errors)}
  completed payments/s (sustained)   ${result.payments.completedPerSecond}   (target ≥ 100)
  POST /v1/payments latency ms       p50 ${result.postLatencyMs.p50}   p99 ${result.postLatencyMs.p99}   (target p99 < 150)
  create → terminal ms               p50 ${result.payments.endToEndMs.p50}   p99 ${result.payments.endToEndMs.p99}
DynamoDB Local (same machine, same run)
  TransactWriteItems/s (2 items)     ${ceiling.transactWritesPerSecond}   p50 ${ceiling.latencyMs.p50} ms, p99 ${ceiling.latencyMs.p99} ms
  payments/s ÷ raw tx/s              ${result.ratio.paymentsPerTransactWrite}   (one payment costs ≈ ${result.ratio.transactWritesWorthPerPayment} raw transactions of capacity)
Written to ${file}`);
  } finally {
    child?.kill('SIGINT');
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

if (!existsSync('statemachines/payment.asl.json')) {
  console.error('run from the project root');
  process.exit(2);
}
await main();
