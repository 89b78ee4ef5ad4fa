/**
 * What `--persist` costs the KBank simulator per request, as its state grows: for each size (charges
 * already held) it times the same mutating requests (tokenize, charge, settle, refund: every one must be
 * durable before it is answered) against a simulator in memory and one on a state file loaded with that
 * state (and with --baseline, another checkout's simulator on the same file), one request at a time, the
 * simulators in turn. The persistence cost is the difference of the means. Also times the start
 * on that state, and one journal flush with and without fsync (why the journal does not fsync: docs/
 * kbank-simulator.md#state-file). Prints the figures and writes bench/results/simulator-persist-<time>.json.
 *
 *   npx tsx bench/simulator-persist.ts                          sizes 100, 1000, 10000; 100 rounds each
 *   npx tsx bench/simulator-persist.ts --baseline /tmp/before   also measures the simulator of another
 *                                                               checkout (its local/kbank-simulator.ts)
 *   npx tsx bench/simulator-persist.ts --sizes 100,1000 --rounds 50
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { percentile, round, summary } from './stats.js';

type SimulatorModule = typeof import('../local/kbank-simulator.js');
type Simulator = Awaited<ReturnType<SimulatorModule['startKbankSimulator']>>;

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000,10000' },
    rounds: { type: 'string', default: '100' },
    baseline: { type: 'string' },
    'flush-lines': { type: 'string', default: '500' },
  },
});
const SIZES = values.sizes.split(',').map(Number);
const ROUNDS = Number(values.rounds);
const FLUSH_LINES = Number(values['flush-lines']);
const HERE = resolve(fileURLToPath(import.meta.url), '../..');

async function load(checkout: string): Promise<SimulatorModule> {
  return (await import(pathToFileURL(join(checkout, 'local/kbank-simulator.ts')).href)) as SimulatorModule;
}

/**
 * One POST on a fresh connection: a kept-alive one can be closed by the server (idle past its 5 s
 * keep-alive while a slow simulator is being measured) just as the next request goes out on it.
 */
function call(url: string, key: string, body: unknown): Promise<Record<string, unknown>> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: {
          'x-api-key': key,
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(text),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          if (res.statusCode === 200) resolve(json);
          else reject(new Error(`${url}: ${res.statusCode} ${JSON.stringify(json)}`));
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** One card payment's life at KBank: 4 requests that each change the state. Latencies in ms, in order. */
async function payment(sim: SimulatorModule, url: string, reference: string): Promise<number[]> {
  const { secretKey, publicKey } = sim.SIMULATOR_DEFAULTS;
  const timings: number[] = [];
  const timed = async (path: string, key: string, body: unknown) => {
    const started = performance.now();
    const json = await call(`${url}${path}`, key, body);
    timings.push(performance.now() - started);
    return json;
  };
  const card = {
    number: sim.MAGIC_CARDS.visa.number,
    expiration_month: 12,
    expiration_year: 2099,
    security_code: '123',
    name: 'BENCH',
  };
  const token = await timed('/card/v2/tokens', publicKey, { card });
  const charge = await timed('/card/v2/charge', secretKey, {
    amount: '725.00',
    currency: 'THB',
    description: 'Order for the persistence benchmark',
    source_type: 'card',
    mode: 'token',
    token: token.id,
    reference_order: reference,
    metadata: { order_id: reference, merchant: 'bench' },
  });
  await timed(`/card/v2/charge/${String(charge.id)}/settle`, secretKey, { amount: '725.00', type: 'full' });
  await timed(`/card/v2/charge/${String(charge.id)}/refund`, secretKey, { amount: '25.00', reason: 'bench' });
  return timings;
}

/** Grows the in-memory simulator to `size` charges, a few payments at a time. */
async function grow(sim: SimulatorModule, memory: Simulator, size: number): Promise<void> {
  let held = memory.charges().length;
  while (held < size) {
    const batch = Math.min(16, size - held);
    await Promise.all(
      Array.from({ length: batch }, (_, index) => payment(sim, memory.url, `grow-${held + index}`)),
    );
    held += batch;
  }
}

/**
 * The state file an earlier run would have left with these charges (the version-1 snapshot, which both
 * the old and the new simulator read), with the used token each charge was made from.
 */
function writeState(path: string, charges: ReturnType<Simulator['charges']>): void {
  const tokens = charges.map((charge) => ({
    id: `tokn_test_${randomBytes(12).toString('hex')}`,
    behaviour: 'approve',
    brand: charge.brand,
    cardMasking: charge.cardMasking,
    createdAtMs: Date.now(),
    used: true,
  }));
  const state = {
    version: 1,
    charges,
    tokens,
    unavailableAnswered: [],
    faults: { global: {}, byTarget: [] },
    unlisted: [],
  };
  writeFileSync(path, `${JSON.stringify(state)}\n`);
}

interface Target {
  name: string;
  sim: SimulatorModule;
  url: string;
  latencies: number[];
}

const WARM_UP_ROUNDS = 10;

/**
 * Rounds on every target in turn (memory, then each persisted one), so that whatever else the machine is
 * doing weighs on all of them alike; the first rounds warm the code up and are not counted.
 */
async function measure(targets: Target[], label: string): Promise<void> {
  for (let round_ = 0; round_ < WARM_UP_ROUNDS + ROUNDS; round_++) {
    for (const target of targets) {
      const timings = await payment(target.sim, target.url, `${label}-${target.name}-${round_}`);
      if (round_ >= WARM_UP_ROUNDS) target.latencies.push(...timings);
    }
  }
}

const mean = (values: number[]) => round3(values.reduce((sum, ms) => sum + ms, 0) / values.length);

const round3 = (n: number) => Math.round(n * 1000) / 1000;

function fileBytes(path: string): number | null {
  try {
    return statSync(path).size;
  } catch {
    return null;
  }
}

/** Mean µs to append one line the size of a charge record, with writeSync alone and with fsync after it. */
function journalFlush(folder: string): { lineBytes: number; writeSyncUs: number; writeSyncFsyncUs: number } {
  const line = `${JSON.stringify({ seq: 1, charges: [{ id: 'x'.repeat(24), padding: 'y'.repeat(800) }] })}\n`;
  const time = (fsync: boolean) => {
    const path = join(folder, `flush-${fsync ? 'fsync' : 'write'}.journal`);
    const fd = openSync(path, 'a', 0o600);
    const started = performance.now();
    for (let index = 0; index < FLUSH_LINES; index++) {
      writeSync(fd, line);
      if (fsync) fsyncSync(fd);
    }
    const us = ((performance.now() - started) * 1000) / FLUSH_LINES;
    closeSync(fd);
    return Math.round(us * 10) / 10;
  };
  return { lineBytes: Buffer.byteLength(line), writeSyncUs: time(false), writeSyncFsyncUs: time(true) };
}

const folder = mkdtempSync(join(os.tmpdir(), 'simulator-persist-'));
try {
  const current = await load(HERE);
  const implementations: [string, SimulatorModule][] = [['current', current]];
  if (values.baseline) implementations.unshift(['baseline', await load(resolve(values.baseline))]);

  const memory = await current.startKbankSimulator();
  const sizes: Record<string, unknown>[] = [];
  for (const size of SIZES) {
    console.log(`growing the state to ${size} charges …`);
    await grow(current, memory, size);
    const charges = memory.charges();
    const targets: Target[] = [{ name: 'inMemory', sim: current, url: memory.url, latencies: [] }];
    const persisted: {
      name: string;
      statePath: string;
      startMs: number;
      stateBytes: number | null;
      sim: Simulator;
    }[] = [];
    for (const [name, sim] of implementations) {
      const statePath = join(folder, `${name}-${size}`, 'kbank-simulator.json');
      mkdirSync(join(folder, `${name}-${size}`));
      writeState(statePath, charges);
      const started = performance.now();
      const running = await sim.startKbankSimulator({ statePath });
      const startMs = round(performance.now() - started);
      persisted.push({ name, statePath, startMs, stateBytes: fileBytes(statePath), sim: running });
      targets.push({ name, sim, url: running.url, latencies: [] });
    }
    await measure(targets, `size-${size}`);
    const [inMemory, ...others] = targets as [Target, ...Target[]];
    const row: Record<string, unknown> = {
      charges: charges.length,
      inMemory: { meanMs: mean(inMemory.latencies), latencyMs: summary(inMemory.latencies) },
    };
    for (const [index, target] of others.entries()) {
      const kept = persisted[index] as (typeof persisted)[number];
      const journalBytes = fileBytes(`${kept.statePath}.journal`);
      await kept.sim.close();
      const cost = round3(mean(target.latencies) - mean(inMemory.latencies));
      const medianCost = round3(percentile(target.latencies, 50) - percentile(inMemory.latencies, 50));
      row[target.name] = {
        startMs: kept.startMs,
        stateBytes: kept.stateBytes,
        meanMs: mean(target.latencies),
        latencyMs: summary(target.latencies),
        /** Mean latency over the in-memory simulator's, measured in the same rounds: what keeping the state costs one request. */
        persistenceCostMs: cost,
        /** The same from the medians: less swayed by whatever else the machine did. */
        persistenceCostMedianMs: medianCost,
        ...(journalBytes === null ? {} : { journalBytesAfter: journalBytes }),
      };
      console.log(
        `  ${target.name.padEnd(8)} ${String(charges.length).padStart(6)} charges: ` +
          `${mean(target.latencies).toFixed(3)} ms/request (in memory ${mean(inMemory.latencies).toFixed(3)}), ` +
          `persistence ${cost.toFixed(3)} ms (medians: ${medianCost.toFixed(3)} ms), start ${kept.startMs} ms`,
      );
    }
    sizes.push(row);
  }
  await memory.close();

  const flush = journalFlush(folder);
  console.log(
    `journal flush of a ${flush.lineBytes}-byte line: writeSync ${flush.writeSyncUs} µs, ` +
      `writeSync + fsync ${flush.writeSyncFsyncUs} µs`,
  );
  const result = {
    when: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
    /** Each round is one card payment: tokenize, charge, settle, refund (4 requests, one at a time). */
    roundsPerSize: ROUNDS,
    baseline: values.baseline ?? null,
    sizes,
    journalFlush: flush,
  };
  const dir = resolve(HERE, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `simulator-persist-${result.when.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written to ${file}`);
} finally {
  rmSync(folder, { recursive: true, force: true });
}
