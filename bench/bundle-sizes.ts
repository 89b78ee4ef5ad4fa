/** Builds each Lambda's bundle as the CDK does (esbuild, metafile on) and measures its size and load time. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { percentile, round } from './stats.js';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The bundling options of lib/constructs/payment-function.ts (NodejsFunction `bundling`), in the form the
 * CDK passes them to esbuild (aws-lambda-nodejs `buildEsbuildArgs`): node22, ESM into index.mjs, minified,
 * linked source map without sources, nothing external, the createRequire banner, the credential chain
 * aliased to the environment's (functions/adapters/lambda-credentials.ts). The test in
 * test/unit/bundle-sizes.test.ts builds one function through the CDK and holds the bytes equal.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __payments_createRequire } from 'node:module'; const require = __payments_createRequire(import.meta.url);";

export function cdkBundleOptions(entry: string, outdir: string): BuildOptions {
  return {
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
    },
    tsconfig: path.join(PROJECT_ROOT, 'tsconfig.json'),
    banner: { js: ESM_REQUIRE_BANNER },
    mainFields: ['module', 'main'],
    absWorkingDir: PROJECT_ROOT,
    logLevel: 'warning',
  };
}

export interface InputShare {
  /** A package (`zod`, `@aws-sdk/client-sfn`) or a project file (`schemas/api.ts`). */
  input: string;
  /** Bytes this input contributes to the minified output. */
  bytes: number;
}

export interface BundleFigures {
  name: string;
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

/** Bundles functions/handlers/<name>.ts into <outRoot>/<name>/index.mjs. */
export async function bundleFunction(name: string, outRoot: string): Promise<BundleFigures> {
  const outdir = path.join(outRoot, name);
  mkdirSync(outdir, { recursive: true });
  const entry = path.join(PROJECT_ROOT, 'functions', 'handlers', `${name}.ts`);
  const result = await build({ ...cdkBundleOptions(entry, outdir), metafile: true });
  const file = path.join(outdir, 'index.mjs');
  const code = readFileSync(file);
  return {
    name,
    bytes: code.length,
    gzipBytes: gzipSync(code).length,
    inputs: groupInputs(result.metafile, file),
    file,
    metafile: result.metafile,
  };
}

export interface InitFigures {
  name: string;
  bytes: number;
  runs: number;
  /** The node that ran the imports (process.version). */
  node: string;
  /** With the functions' NODE_OPTIONS (`--enable-source-maps`, lib/constructs/payment-function.ts). */
  medianMs: number;
  samplesMs: number[];
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
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(bundle.file).href)}); process.stdout.write(JSON.stringify({ ms: performance.now() - t, node: process.version }));`;
  const samples: number[] = [];
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
    const parsed = JSON.parse(child.stdout) as { ms: number; node: string };
    node = parsed.node;
    samples.push(round(parsed.ms));
    onRun(run, parsed.ms);
  }
  return {
    name: bundle.name,
    bytes: bundle.bytes,
    runs,
    node,
    medianMs: round(percentile(samples, 50)),
    samplesMs: samples,
  };
}

export const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

/** One line per function: name, minified, gzip, its five largest inputs. */
export function sizeTable(bundles: BundleFigures[]): string {
  const width = Math.max(8, ...bundles.map((b) => b.name.length));
  const header = `${'function'.padEnd(width)}  ${'minified'.padStart(10)}  ${'gzip'.padStart(9)}  top 5 inputs (bytes in the bundle)`;
  const lines = bundles.map((b) => {
    const top = b.inputs
      .slice(0, 5)
      .map((share) => `${share.input} ${kb(share.bytes)}`)
      .join(', ');
    return `${b.name.padEnd(width)}  ${kb(b.bytes).padStart(10)}  ${kb(b.gzipBytes).padStart(9)}  ${top}`;
  });
  return [header, '-'.repeat(header.length), ...lines].join('\n');
}
