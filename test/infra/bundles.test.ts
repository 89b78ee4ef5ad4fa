/** Infra: `npm run bundles` builds what the CDK deploys, and the bundles stay within what they are known to weigh. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { Metafile } from 'esbuild';
import { bundleFunction, groupInputs, inputGroup, PROJECT_ROOT } from '../../bench/bundle-sizes.js';

const CDK_BUNDLE = path.join(PROJECT_ROOT, 'test/support/cdk-bundle.ts');
const scratch = mkdtempSync(path.join(tmpdir(), 'bundles-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The zod locales a bundle carries (what tree shaking left in the output). */
function zodLocalesIn(metafile: Metafile): string[] {
  const output = Object.values(metafile.outputs).find((candidate) => candidate.entryPoint);
  return Object.entries(output?.inputs ?? {})
    .filter(([input, { bytesInOutput }]) => input.includes('zod/v4/locales/') && bytesInOutput > 0)
    .map(([input]) => path.basename(input));
}

describe('npm run bundles', () => {
  it('builds a function with an AWS client byte for byte as the CDK bundles it for deployment', async () => {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', CDK_BUNDLE, 'functions/handlers/api-get-payment.ts', path.join(scratch, 'cdk.out')],
      { cwd: PROJECT_ROOT, encoding: 'utf8' },
    );
    if (child.status !== 0) throw new Error(`cdk-bundle failed:\n${child.stderr}`);
    const deployed = readFileSync((JSON.parse(child.stdout) as { file: string }).file);

    const ours = await bundleFunction('api-get-payment', path.join(scratch, 'ours'));

    expect(ours.bytes).toBe(deployed.length);
    expect(readFileSync(ours.file).equals(deployed)).toBe(true);
  }, 60_000);

  it('takes credentials from the environment only, as Lambda provides them, without the SDK’s full chain', async () => {
    const bundle = await bundleFunction('api-get-payment', path.join(scratch, 'credentials'));
    const inputs = bundle.inputs.map((share) => share.input);
    expect(inputs).toContain('@aws-sdk/client-dynamodb');
    expect(inputs).toContain('functions/adapters/lambda-credentials.ts');
    for (const provider of ['@aws-sdk/credential-provider-node', '@aws-sdk/credential-provider-sso']) {
      expect(inputs).not.toContain(provider);
    }
    expect(inputs).not.toContain('@aws-sdk/nested-clients');
  }, 60_000);

  it('keeps api-health within 50 KB: no zod and no AWS client in a function that reads nothing', async () => {
    const health = await bundleFunction('api-health', path.join(scratch, 'health'));
    expect(health.bytes).toBeLessThanOrEqual(50 * 1024);
    const inputs = health.inputs.map((share) => share.input);
    expect(inputs).not.toContain('zod');
    expect(inputs.filter((input) => input.startsWith('@aws-sdk/') || input.startsWith('@smithy/'))).toEqual(
      [],
    );
  }, 60_000);

  it("bundles zod's English messages, and none of its other locales", async () => {
    const bundle = await bundleFunction('api-list-refunds', path.join(scratch, 'list'));
    expect(zodLocalesIn(bundle.metafile)).toEqual(['en.js']);

    // The bundle itself, run as Lambda runs it, refuses a bad query with the messages the API documents.
    const script = `const { handler } = await import(${JSON.stringify(pathToFileURL(bundle.file).href)});
const answer = await handler({ httpMethod: 'GET', path: '/v1/payments/x/refunds', headers: {},
  queryStringParameters: { limit: '0', nope: '1' }, pathParameters: { id: 'x' },
  requestContext: { authorizer: { merchantId: 'm1' } }, body: null }, {});
process.stdout.write(answer.body);`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, AWS_REGION: 'ap-southeast-1', LOG_LEVEL: 'ERROR' },
    });
    if (child.status !== 0) throw new Error(child.stderr);
    expect(JSON.parse(child.stdout)).toMatchObject({
      status: 400,
      errors: [
        { field: 'limit', message: 'Too small: expected number to be >=1' },
        { field: '', message: 'Unrecognized key: "nope"' },
      ],
    });
  }, 60_000);

  it("bundles no zod locale into a saga task either (its input schemas hold the events' schemas)", async () => {
    const bundle = await bundleFunction('saga-reenter', path.join(scratch, 'reenter'));
    expect(zodLocalesIn(bundle.metafile)).toEqual(['en.js']);
  }, 60_000);
});

describe('input groups', () => {
  it('groups files by package, scoped packages by scope and name, the innermost node_modules winning', () => {
    expect(inputGroup('node_modules/zod/v4/core/schemas.js')).toBe('zod');
    expect(inputGroup('../main/node_modules/@aws-sdk/client-sfn/dist-es/SFNClient.js')).toBe(
      '@aws-sdk/client-sfn',
    );
    expect(inputGroup('node_modules/a/node_modules/@smithy/core/dist-es/index.js')).toBe('@smithy/core');
    expect(inputGroup('functions/handlers/http.ts')).toBe('functions/handlers/http.ts');
  });

  it('sums the bytes each group puts in the output, largest first, leaving out what was shaken away', () => {
    const metafile: Metafile = {
      inputs: {},
      outputs: {
        'out/index.mjs': {
          bytes: 0,
          imports: [],
          exports: [],
          entryPoint: 'functions/handlers/x.ts',
          inputs: {
            'node_modules/zod/a.js': { bytesInOutput: 300 },
            'node_modules/zod/b.js': { bytesInOutput: 200 },
            'functions/handlers/x.ts': { bytesInOutput: 400 },
            'node_modules/unused/index.js': { bytesInOutput: 0 },
          },
        },
      },
    };
    expect(groupInputs(metafile, path.join(PROJECT_ROOT, 'out/index.mjs'))).toEqual([
      { input: 'zod', bytes: 500 },
      { input: 'functions/handlers/x.ts', bytes: 400 },
    ]);
  });
});
