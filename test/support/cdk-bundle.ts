/**
 * Run in a child process by test/infra/bundles.test.ts: bundles one handler through the house Lambda
 * construct, as `cdk synth` does, into the given cloud assembly directory, and prints the bundle's path.
 * A child, so that the CDK's and esbuild's own progress output stays out of the test run.
 *   cdk-bundle.ts <handler file relative to the project root> <outdir>
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { PaymentFunction } from '../../lib/constructs/payment-function.js';

const [entry, outdir] = process.argv.slice(2);
if (!entry || !outdir) throw new Error('usage: cdk-bundle.ts <entry> <outdir>');
const stack = new Stack(new App({ outdir }), 'Bundles');
// Local esbuild bundling runs in the construct, during construction.
new PaymentFunction(stack, 'Function', { entry });
const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
if (assets.length !== 1) throw new Error(`expected one asset in ${outdir}, found ${assets.join(', ')}`);
console.log(JSON.stringify({ file: path.join(outdir, assets[0] as string, 'index.mjs') }));
