/**
 * `npm run merchant` as an operator runs it, against a running local stack: a merchant created with its
 * first key, listed without ever showing a key, rotated with an overlap in which both keys work, revoked
 * so that the key stops at once; refusals name what is wrong, exit 1 and write nothing.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { run as merchantCommand } from '../../bin/merchant.js';
import type { LocalStack } from '../../local/stack.js';
import { api, startTestStack } from '../support/stack.js';

const exec = promisify(execFile);
const CACHE_SECONDS = 1;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
let stack: LocalStack;
let stackFile: string;

beforeAll(async () => {
  // API Gateway's authorizer cache (60 s by default), shortened: the bound on revocation it sets.
  stack = await startTestStack({ authorizerCacheSeconds: CACHE_SECONDS });
  stackFile = join(mkdtempSync(join(tmpdir(), 'merchant-cli-')), 'stack.json');
  writeFileSync(
    stackFile,
    JSON.stringify({ dynamodbEndpoint: stack.dynamodbEndpoint, tableName: stack.tableName }),
  );
});
afterAll(async () => {
  await stack?.close();
});

/** Runs the command; resolves with its exit code and output whatever the code. */
async function merchant(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec('node_modules/.bin/tsx', [
      'bin/merchant.ts',
      ...args,
      '--stack',
      stackFile,
    ]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const status = async (key: string) => (await api(stack, 'GET', '/v1/payments?limit=1', { key })).status;

it('creates, lists, rotates with an overlap and revokes; a key is printed only when it is made', async () => {
  const created = await merchant(
    'create',
    '--name',
    'Baan Suan Shop',
    '--id',
    'merchant_baan_suan',
    '--json',
  );
  expect(created.code).toBe(0);
  const made = JSON.parse(created.stdout);
  expect(made).toMatchObject({
    merchant: { id: 'merchant_baan_suan', name: 'Baan Suan Shop' },
    key: { keyId: expect.stringMatching(/^key_/), mode: 'test', prefix: made.api_key.slice(0, 12) },
  });
  const first: string = made.api_key;
  expect(await status(first)).toBe(200);

  const listed = await merchant('list', '--merchant', 'merchant_baan_suan', '--json');
  expect(JSON.parse(listed.stdout).keys).toEqual([
    expect.objectContaining({ keyId: made.key.keyId, status: 'active' }),
  ]);
  expect(listed.stdout).not.toContain(first);
  expect(listed.stdout).not.toContain(first.slice(12));
  expect((await merchant('list', '--json')).stdout).toContain('merchant_baan_suan');
  // On the default plan until moved; the move is in the directory and in what the authorizer reads.
  expect(made.merchant.plan).toBe('standard');
  const moved = await merchant('plan', '--merchant', 'merchant_baan_suan', '--plan', 'starter');
  expect(moved).toMatchObject({ code: 0, stdout: expect.stringContaining('is on plan starter') });
  expect((await merchant('list')).stdout).toMatch(/merchant_baan_suan\s+starter\s+Baan Suan Shop/);

  // Rotation: the new key works at once, the old one through the overlap and not after it.
  const rotated = JSON.parse(
    (await merchant('rotate', '--merchant', 'merchant_baan_suan', '--overlap', '8s', '--json')).stdout,
  );
  const second: string = rotated.api_key;
  expect(rotated.expiring).toEqual([expect.objectContaining({ keyId: made.key.keyId, status: 'expiring' })]);
  expect(await status(second)).toBe(200);
  expect(await status(first)).toBe(200);
  const overlapEnds = Date.parse(rotated.expiring[0].validUntil);
  expect(Date.now()).toBeLessThan(overlapEnds);
  // Past the overlap, and past the cache of the old key's last Allow.
  await sleep(overlapEnds - Date.now() + CACHE_SECONDS * 1000 + 100);
  expect(await status(first)).toBe(401);
  expect(await status(second)).toBe(200);

  // Revocation: the key stops once its cached Allow ends.
  const revoked = await merchant(
    'revoke',
    '--merchant',
    'merchant_baan_suan',
    '--key',
    rotated.key.keyId,
    '--json',
  );
  expect(revoked.code).toBe(0);
  await sleep(CACHE_SECONDS * 1000 + 100);
  expect(await status(second)).toBe(401);
  const after = JSON.parse((await merchant('list', '--merchant', 'merchant_baan_suan', '--json')).stdout);
  expect(after.keys.map((k: { status: string }) => k.status)).toEqual(['expired', 'revoked']);
  // The demo merchant's key is untouched.
  expect(await status(stack.merchant.apiKey)).toBe(200);
});

it('refuses bad requests with what is wrong, exit 1 (2 for usage), and writes nothing', async () => {
  const before = JSON.parse((await merchant('list', '--json')).stdout).length;
  const cases: [string[], number, RegExp][] = [
    [['create', '--name', ' '], 1, /name: must be 1 to 100 characters/],
    [['create', '--name', 'X', '--id', 'Merchant!'], 1, /id: must be merchant_/],
    [['create', '--name', 'Again', '--id', 'merchant_demo'], 1, /exists already/],
    [['rotate', '--merchant', 'merchant_nobody'], 1, /no merchant merchant_nobody/],
    [['rotate', '--merchant', 'merchant_demo', '--overlap', '30d'], 1, /overlap: must be a whole number/],
    [
      ['rotate', '--merchant', 'merchant_demo', '--overlap', 'soon'],
      2,
      /expected a number with s, m, h or d/,
    ],
    [['revoke', '--merchant', 'merchant_demo', '--key', 'key_nope'], 1, /has no key key_nope/],
    [['revoke', '--merchant', 'merchant_demo'], 2, /revoke needs --key/],
    [['create', '--name', 'Y', '--plan', 'gold'], 1, /plan: must be one of starter, standard, enterprise/],
    [['plan', '--merchant', 'merchant_demo', '--plan', 'gold'], 1, /plan: must be one of/],
    [['plan', '--merchant', 'merchant_nobody', '--plan', 'starter'], 1, /no merchant merchant_nobody/],
    [['plan', '--merchant', 'merchant_demo'], 2, /plan needs --plan/],
    [['list', '--table', 'payments-prod'], 2, /--table needs --stage/],
    [['delete'], 2, /usage: npm run merchant/],
  ];
  // In-process (the same parsing and use cases as the command line), so nine refusals cost no nine starts.
  for (const [args, code, message] of cases) {
    const out = { log: [] as string[], error: [] as string[] };
    const exit = await merchantCommand([...args, '--stack', stackFile], {
      log: (line) => out.log.push(line),
      error: (line) => out.error.push(line),
    });
    expect({ args, exit, printed: out.log }).toEqual({ args, exit: code, printed: [] });
    expect(out.error.join('\n')).toMatch(message);
  }
  expect(JSON.parse((await merchant('list', '--json')).stdout)).toHaveLength(before);
  expect(await stack.repo.getMerchant('merchant_demo')).toMatchObject({ plan: 'enterprise' });
  const demo = JSON.parse((await merchant('list', '--merchant', 'merchant_demo', '--json')).stdout);
  expect(demo.keys).toEqual([expect.objectContaining({ status: 'active' })]);
  expect(await status(stack.merchant.apiKey)).toBe(200);
});

it('makes a restricted key that may call only its scopes, until it expires; refusals write nothing', async () => {
  const made = await merchant(
    'create-key',
    '--merchant',
    'merchant_demo',
    '--scopes',
    'payments:read,refunds:read',
    '--expires-in',
    '6s',
    '--json',
  );
  expect(made.code).toBe(0);
  const { api_key: restricted, key } = JSON.parse(made.stdout);
  expect(key).toMatchObject({ scopes: ['payments:read', 'refunds:read'], validUntil: expect.any(String) });

  const before = (await api(stack, 'GET', '/v1/payments?limit=100')).body.data.length;
  expect(await status(restricted)).toBe(200);
  const refused = await api(stack, 'POST', '/v1/payments', {
    key: restricted,
    idempotencyKey: randomUUID(),
    body: { amount: 72500, currency: 'THB' },
  });
  expect(refused.status).toBe(403);
  expect(refused.body).toMatchObject({
    code: 'insufficient_scope',
    type: '/problems/insufficient_scope',
    detail: 'This key lacks the scope payments:write.',
  });
  const webhooks = await api(stack, 'GET', '/v1/webhook_endpoints', { key: restricted });
  expect(webhooks.body).toMatchObject({
    code: 'insufficient_scope',
    detail: 'This key lacks the scope webhooks:read.',
  });
  expect((await api(stack, 'GET', '/v1/payments?limit=100')).body.data).toHaveLength(before);

  // Listed with its scopes, never with the key; a rotation of the full keys leaves it alone.
  const listed = await merchant('list', '--merchant', 'merchant_demo');
  expect(listed.stdout).toContain(`${key.keyId}`);
  expect(listed.stdout).toContain('scopes payments:read refunds:read');
  expect(listed.stdout).not.toContain(restricted);

  await sleep(Date.parse(key.validUntil) - Date.now() + CACHE_SECONDS * 1000 + 100);
  expect(await status(restricted)).toBe(401);
  expect(await status(stack.merchant.apiKey)).toBe(200);

  for (const [args, message] of [
    [['--scopes', 'payments:delete'], /unknown payments:delete; scopes are payments:read/],
    [['--scopes', 'payments:read', '--expires-in', '400d'], /expires_in: must be a whole number of seconds/],
  ] as const) {
    const bad = await merchantCommand(
      ['create-key', '--merchant', 'merchant_demo', ...args, '--stack', stackFile],
      {
        log: () => undefined,
        error: (line) => expect(line).toMatch(message),
      },
    );
    expect(bad).toBe(1);
  }
});
