/** Builds each Lambda's bundle as the CDK does (esbuild, metafile on) and measures its size and load time. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import type { Access } from '../functions/catalog.js';
import { percentile, round } from './stats.js';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The bundling options of lib/constructs/payment-function.ts (NodejsFunction `bundling`), in the form the
 * CDK passes them to esbuild (aws-lambda-nodejs `buildEsbuildArgs`): node22, ESM into index.mjs, minified,
 * linked source map without sources, nothing external, the createRequire banner, the credential chain
 * aliased to the environment's (functions/adapters/lambda-credentials.ts) and the SDK's event-stream codec
 * to a stub (functions/adapters/lambda-no-event-streams.ts). The test in
 * test/infra/bundles.test.ts builds one function through the CDK and holds the bytes equal.
 *
 * `sdk: 'runtime'` is the alternative we measured and did not take (docs/deployment.md): the AWS SDK left
 * to the one the nodejs22.x runtime ships (`@aws-sdk/*` external, CDK's default for Node 18+).
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __payments_createRequire } from 'node:module'; const require = __payments_createRequire(import.meta.url);";

export type SdkPlacement = 'bundled' | 'runtime';

export function cdkBundleOptions(entry: string, outdir: string, sdk: SdkPlacement = 'bundled'): BuildOptions {
  const bundled: BuildOptions = {
    entryPoints: [entry],
    bundle: true,
    target: 'node22',
    platform: 'node',
    format: 'esm',
    outfile: path.join(outdir, 'index.mjs'),
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    external: [],
    alias: {
      '@aws-sdk/credential-provider-node': path.join(
        PROJECT_ROOT,
        'functions/adapters/lambda-credentials.ts',
      ),
      '@smithy/core/event-streams': path.join(PROJECT_ROOT, 'functions/adapters/lambda-no-event-streams.ts'),
    },
    tsconfig: path.join(PROJECT_ROOT, 'tsconfig.json'),
    banner: { js: ESM_REQUIRE_BANNER },
    mainFields: ['module', 'main'],
    absWorkingDir: PROJECT_ROOT,
    logLevel: 'warning',
  };
  if (sdk === 'bundled') return bundled;
  const { alias: _credentialChain, ...rest } = bundled;
  return { ...rest, external: ['@aws-sdk/*'] };
}

export interface InputShare {
  /** A package (`zod`, `@aws-sdk/client-sfn`) or a project file (`schemas/api.ts`). */
  input: string;
  /** Bytes this input contributes to the minified output. */
  bytes: number;
}

export interface BundleFigures {
  name: string;
  /** Where the AWS SDK comes from: in the bundle (what we deploy), or the runtime's. */
  sdk: SdkPlacement;
  /** index.mjs as the CDK uploads it (minified, with the source map comment). */
  bytes: number;
  gzipBytes: number;
  /** Every input group, largest first. */
  inputs: InputShare[];
  file: string;
  metafile: Metafile;
}

/** `node_modules/@aws-sdk/client-sfn/dist-es/x.js` → `@aws-sdk/client-sfn`; the innermost node_modules wins. */
export function inputGroup(inputPath: string): string {
  const parts = inputPath.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return inputPath;
  const first = parts[at + 1] ?? inputPath;
  return first.startsWith('@') ? `${first}/${parts[at + 2] ?? ''}` : first;
}

/** The output's bytes by input group, from the metafile (bytes in the output, after tree shaking). */
export function groupInputs(metafile: Metafile, outfile: string): InputShare[] {
  // Output keys are relative to the build's working directory, the project root.
  const key = Object.keys(metafile.outputs).find(
    (candidate) => path.resolve(PROJECT_ROOT, candidate) === path.resolve(outfile),
  );
  const output = key ? metafile.outputs[key] : undefined;
  if (!output) throw new Error(`metafile has no output ${outfile}`);
  const groups = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    if (bytesInOutput === 0) continue;
    const group = inputGroup(input);
    groups.set(group, (groups.get(group) ?? 0) + bytesInOutput);
  }
  return [...groups.entries()]
    .map(([input, bytes]) => ({ input, bytes }))
    .sort((a, b) => b.bytes - a.bytes || a.input.localeCompare(b.input));
}

/**
 * Bundles functions/handlers/<name>.ts into <outRoot>/<name>/index.mjs. With the runtime's SDK, into
 * <outRoot>/runtime-sdk/<name>/, beside a node_modules that resolves to the project's, so that importing
 * the bundle loads the SDK from node_modules as the runtime loads its own.
 */
export async function bundleFunction(
  name: string,
  outRoot: string,
  sdk: SdkPlacement = 'bundled',
): Promise<BundleFigures> {
  const root = sdk === 'bundled' ? outRoot : path.join(outRoot, 'runtime-sdk');
  const outdir = path.join(root, name);
  mkdirSync(outdir, { recursive: true });
  if (sdk === 'runtime' && !existsSync(path.join(root, 'node_modules'))) {
    symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  }
  const entry = path.join(PROJECT_ROOT, 'functions', 'handlers', `${name}.ts`);
  const result = await build({ ...cdkBundleOptions(entry, outdir, sdk), metafile: true });
  const file = path.join(outdir, 'index.mjs');
  const code = readFileSync(file);
  return {
    name,
    sdk,
    bytes: code.length,
    gzipBytes: gzipSync(code).length,
    inputs: groupInputs(result.metafile, file),
    file,
    metafile: result.metafile,
  };
}

export interface InitFigures {
  name: string;
  sdk: SdkPlacement;
  bytes: number;
  runs: number;
  /** The node that ran the imports (process.version). */
  node: string;
  /** Wall time, with the functions' NODE_OPTIONS (`--enable-source-maps`, lib/constructs/payment-function.ts). */
  medianMs: number;
  samplesMs: number[];
  /**
   * CPU time (user + system) of the same imports: what a cold start pays for parsing and evaluating,
   * and much less disturbed than the wall time by other work on a shared machine.
   */
  medianCpuMs: number;
  samplesCpuMs: number[];
}

/**
 * Module initialisation: the time `import()` of the bundle takes in a fresh process (parse, link,
 * evaluate its top level), measured inside the child so that process start-up is left out.
 */
export function measureInit(
  bundle: BundleFigures,
  runs: number,
  onRun: (run: number, ms: number) => void = () => {},
): InitFigures {
  const script = `const t = performance.now(); const c = process.cpuUsage(); await import(${JSON.stringify(pathToFileURL(bundle.file).href)}); const u = process.cpuUsage(c); process.stdout.write(JSON.stringify({ ms: performance.now() - t, cpuMs: (u.user + u.system) / 1000, node: process.version }));`;
  const samples: number[] = [];
  const cpuSamples: number[] = [];
  let node = '';
  for (let run = 1; run <= runs; run++) {
    const child = spawnSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      // What a function sees before its first request: a region and its service name, no table or secrets.
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'ap-southeast-1',
        POWERTOOLS_SERVICE_NAME: 'payments',
        LOG_LEVEL: 'INFO',
      },
    });
    if (child.status !== 0) {
      throw new Error(
        `importing ${bundle.name} failed (exit ${child.status}): ${child.stderr.slice(0, 2000)}`,
      );
    }
    const parsed = JSON.parse(child.stdout) as { ms: number; cpuMs: number; node: string };
    node = parsed.node;
    samples.push(round(parsed.ms));
    cpuSamples.push(round(parsed.cpuMs));
    onRun(run, parsed.ms);
  }
  return {
    name: bundle.name,
    sdk: bundle.sdk,
    bytes: bundle.bytes,
    runs,
    node,
    medianMs: round(percentile(samples, 50)),
    samplesMs: samples,
    medianCpuMs: round(percentile(cpuSamples, 50)),
    samplesCpuMs: cpuSamples,
  };
}

/**
 * The AWS clients a function's catalog access lets it call (the grants lib/stateless/functions.ts turns
 * into IAM, and local/grants.ts into edges): a bundle holding any other carries a client it can never use.
 */
const CLIENT_GRANTED_BY: Record<string, (access: Access) => boolean> = {
  '@aws-sdk/client-dynamodb': (access) => access.table !== undefined || access.queriesIndex !== undefined,
  '@aws-sdk/client-secrets-manager': (access) => access.kbank === true || access.cost === true,
  '@aws-sdk/client-eventbridge': (access) => access.publishesEvents === true,
  '@aws-sdk/client-sfn': (access) =>
    access.startsSaga === true ||
    access.startsRefundSaga === true ||
    access.resumesSaga === true ||
    access.sweeps === true,
  '@aws-sdk/client-sqs': (access) => access.sendsNotifications === true,
};

/** The AWS clients in a bundle (`@aws-sdk/client-*` inputs with bytes in the output). */
export function clientsIn(bundle: Pick<BundleFigures, 'inputs'>): string[] {
  return bundle.inputs.map((share) => share.input).filter((input) => input.startsWith('@aws-sdk/client-'));
}

/** The clients a bundle carries that its access grants no use of (an unknown client counts as not granted). */
export function clientsBeyondAccess(bundle: Pick<BundleFigures, 'inputs'>, access: Access): string[] {
  return clientsIn(bundle).filter((client) => !CLIENT_GRANTED_BY[client]?.(access));
}

export const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

/** One line per function: name, minified, gzip, its five largest inputs, its AWS clients. */
export function sizeTable(bundles: BundleFigures[]): string {
  const width = Math.max(8, ...bundles.map((b) => b.name.length));
  const header = `${'function'.padEnd(width)}  ${'minified'.padStart(10)}  ${'gzip'.padStart(9)}  top 5 inputs (bytes in the bundle); AWS clients`;
  const lines = bundles.map((b) => {
    const top = b.inputs
      .slice(0, 5)
      .map((share) => `${share.input} ${kb(share.bytes)}`)
      .join(', ');
    const clients = clientsIn(b).map((client) => client.slice('@aws-sdk/client-'.length));
    return `${b.name.padEnd(width)}  ${kb(b.bytes).padStart(10)}  ${kb(b.gzipBytes).padStart(9)}  ${top}; clients: ${clients.join(', ') || 'none'}`;
  });
  return [header, '-'.repeat(header.length), ...lines].join('\n');
}
