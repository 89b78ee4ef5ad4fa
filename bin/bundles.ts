/**
 * `npm run bundles [-- --runs N --no-init]`: every Lambda bundled as the CDK bundles it, its minified
 * and gzip size, largest inputs and AWS clients (and any client its catalog access gives it no use of),
 * and the module initialisation time (wall and CPU) of the largest bundle and of api-health, and of the
 * largest once more with the AWS SDK left to the runtime (the alternative docs/deployment.md weighs);
 * written to bench/results/bundles-<time>.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  type BundleFigures,
  bundleFunction,
  clientsBeyondAccess,
  clientsIn,
  type InitFigures,
  kb,
  measureInit,
  PROJECT_ROOT,
  sizeTable,
} from '../bench/bundle-sizes.js';
import { CATALOG, type FunctionName } from '../functions/catalog.js';
import { HANDLERS } from '../lib/stateless-stack.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '11' },
    'no-init': { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1)
  throw new Error(`--runs must be a positive integer, got ${values.runs}`);

/** The figures the issue sets: every function and the health function, minified. */
const BUDGET_BYTES = 250 * 1024;
const HEALTH_BUDGET_BYTES = 50 * 1024;

/** A progress line that rewrites itself on a terminal and is one line each otherwise (CI logs). */
function progress(text: string): void {
  process.stderr.write(process.stderr.isTTY ? `\r\x1b[K${text}` : `${text}\n`);
}
const endProgress = () => {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
};

const outRoot = mkdtempSync(path.join(tmpdir(), 'payments-bundles-'));
try {
  const names = Object.keys(HANDLERS).sort();
  const bundles: BundleFigures[] = [];
  for (const name of names) {
    progress(`bundling ${bundles.length + 1}/${names.length} ${name}`);
    bundles.push(await bundleFunction(name, outRoot));
  }
  endProgress();
  console.log(sizeTable(bundles));

  const total = bundles.reduce((sum, b) => sum + b.bytes, 0);
  const largest = bundles.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const health = bundles.find((b) => b.name === 'api-health');
  const over = bundles.filter((b) => b.bytes > BUDGET_BYTES).map((b) => b.name);
  const sorted = bundles.map((b) => b.bytes).sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
  const unusedClients = bundles.flatMap((b) => {
    const spec = CATALOG[b.name as FunctionName];
    const extra = spec ? clientsBeyondAccess(b, spec.access) : [];
    return extra.length ? [{ name: b.name, clients: extra }] : [];
  });
  console.log(
    `\n${bundles.length} functions, ${kb(total)} in all, median ${kb(median)}; largest ${largest.name} ${kb(largest.bytes)}; ` +
      `over ${kb(BUDGET_BYTES)}: ${over.length ? over.join(', ') : 'none'}; ` +
      `api-health ${health ? kb(health.bytes) : 'missing'} (budget ${kb(HEALTH_BUDGET_BYTES)})`,
  );
  console.log(
    `AWS clients a function's catalog access gives it no use of: ${
      unusedClients.length
        ? unusedClients.map((u) => `${u.name} (${u.clients.join(', ')})`).join('; ')
        : 'none'
    }`,
  );

  const init: InitFigures[] = [];
  if (!values['no-init']) {
    // The largest once more with the runtime's SDK: what leaving the SDK out would save, and cost.
    const runtimeSdk = await bundleFunction(largest.name, outRoot, 'runtime');
    const measured = [largest, ...(health && health !== largest ? [health] : []), runtimeSdk];
    // Other work on the machine slows every import alike: the load average says how busy it was.
    const load = loadavg()[0]?.toFixed(1);
    console.log(
      `\nModule initialisation on Node ${process.versions.node} (import in a fresh process, ${runs} runs, load ${load})`,
    );
    if (!process.versions.node.startsWith('22.')) {
      console.log(
        `  (not Node 22, the Lambda runtime: run it as \`npm run bundles\`, which runs the project's Node 22)`,
      );
    }
    for (const bundle of measured) {
      const label = bundle.sdk === 'runtime' ? `${bundle.name} (runtime's SDK)` : bundle.name;
      const figures = measureInit(bundle, runs, (run, ms) =>
        progress(`  ${label}: run ${run}/${runs} ${ms.toFixed(1)} ms`),
      );
      endProgress();
      console.log(
        `  ${label.padEnd(40)} ${kb(bundle.bytes).padStart(10)}   median ${figures.medianMs} ms ` +
          `(min ${Math.min(...figures.samplesMs)}, max ${Math.max(...figures.samplesMs)}), ` +
          `CPU median ${figures.medianCpuMs} ms (min ${Math.min(...figures.samplesCpuMs)})`,
      );
      init.push(figures);
    }
  }

  const when = new Date().toISOString();
  const dir = path.join(PROJECT_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `bundles-${when.replace(/[:.]/g, '-')}.json`);
  const result = {
    when,
    node: process.version,
    /** One-minute load average when the run ended. */
    loadAverage: Math.round((loadavg()[0] ?? 0) * 10) / 10,
    budgets: { bytes: BUDGET_BYTES, healthBytes: HEALTH_BUDGET_BYTES },
    totalBytes: total,
    medianBytes: median,
    largest: { name: largest.name, bytes: largest.bytes },
    health: health ? { name: health.name, bytes: health.bytes } : null,
    overBudget: over,
    unusedClients,
    functions: bundles.map(({ file: _file, metafile: _metafile, inputs, ...figures }) => ({
      ...figures,
      clients: clientsIn({ inputs }),
      topInputs: inputs.slice(0, 10),
    })),
    init,
  };
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nWritten to ${path.relative(process.cwd(), file)}`);
} finally {
  rmSync(outRoot, { recursive: true, force: true });
}
