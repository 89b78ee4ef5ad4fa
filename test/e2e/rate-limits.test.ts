/**
 * Merchant plans on the local stack, as a merchant's client meets them: a burst above the plan's bucket
 * gets 429 `rate_limited` with Retry-After, as application/problem+json, and writes nothing (the same
 * Idempotency-Key goes through once the wait is over); the day's quota ends in `quota_exceeded` until
 * 00:00 UTC; one merchant's burst does not touch another's allowance; `npm run merchant -- plan` moves a
 * merchant to a larger plan. The plan figures are shrunk so the test needs no thousands of requests.
 */
import { randomUUID } from 'node:crypto';
import { PLANS } from '../../functions/core/plans.js';
import { systemClock } from '../../functions/core/ports.js';
import {
  changePlan,
  createMerchant,
  type MerchantKeyDeps,
} from '../../functions/core/use-cases/operations/merchant-keys.js';
import { MAGIC_CARDS } from '../../local/kbank-simulator.js';
import type { LocalStack } from '../../local/stack.js';
import { api, paymentBody, startTestStack, tokenize } from '../support/stack.js';

// One token every 5 s and a bucket of 3: a burst of 4 is refused at its 4th, however slow the machine.
const STARTER = { rateLimit: 0.2, burstLimit: 3, dailyQuota: 4 };
let stack: LocalStack;
let deps: MerchantKeyDeps;
beforeAll(async () => {
  // No authorizer cache: a plan change applies to the next request (AWS: within the cache TTL).
  stack = await startTestStack({ plans: { ...PLANS, starter: STARTER }, authorizerCacheSeconds: 0 });
  deps = { merchants: stack.repo, clock: systemClock };
});
afterAll(async () => {
  await stack?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A merchant on the starter plan, as `npm run merchant -- create --plan starter` makes it. */
async function starterMerchant(): Promise<{ id: string; key: string }> {
  const id = `merchant_small_${randomUUID().slice(0, 8)}`;
  const made = await createMerchant(deps, { name: 'Small Shop', id, plan: 'starter' });
  return { id, key: made.apiKey };
}
const list = (key: string) => api(stack, 'GET', '/v1/payments?limit=1', { key });

it('refuses a burst above the plan with 429 rate_limited and Retry-After; the demo merchant is not touched', async () => {
  const { key } = await starterMerchant();
  const answers = [];
  for (let i = 0; i < 4; i++) answers.push(await list(key));
  expect(answers.slice(0, 3).map((a) => a.status)).toEqual([200, 200, 200]);
  const refused = answers[3];
  expect(refused?.status).toBe(429);
  expect(refused?.headers.get('content-type')).toBe('application/problem+json');
  expect(refused?.body).toMatchObject({ type: '/problems/rate_limited', status: 429, code: 'rate_limited' });
  expect(refused?.body.detail).toContain('0.2 requests/s with bursts of 3');
  const wait = Number(refused?.headers.get('retry-after'));
  expect(wait).toBeGreaterThanOrEqual(1);
  expect(wait).toBeLessThanOrEqual(5);
  // Another merchant's allowance is its own.
  expect((await api(stack, 'GET', '/v1/payments?limit=1')).status).toBe(200);
});

it('writes nothing for a refused create: the same Idempotency-Key goes through after Retry-After', async () => {
  const { id, key } = await starterMerchant();
  for (let i = 0; i < 3; i++) expect((await list(key)).status).toBe(200);
  const idempotencyKey = randomUUID();
  const body = paymentBody(await tokenize(stack, MAGIC_CARDS.visa.number));
  const refused = await api(stack, 'POST', '/v1/payments', { key, body, idempotencyKey });
  expect(refused.status).toBe(429);

  await sleep(Number(refused.headers.get('retry-after')) * 1000);
  const created = await api(stack, 'POST', '/v1/payments', { key, body, idempotencyKey });
  expect(created.status).toBe(201);
  expect(created.headers.get('idempotent-replayed')).not.toBe('true');
  // The table holds that one payment of this merchant, nothing of the refused request.
  const { payments } = await stack.repo.searchPayments({ merchantId: id, limit: 10 });
  expect(payments.map((p) => p.id)).toEqual([created.body.id]);
});

it('ends the day at the quota with 429 quota_exceeded until 00:00 UTC, and a larger plan lifts it', async () => {
  const { id, key } = await starterMerchant();
  expect(await stack.repo.getMerchant(id)).toMatchObject({ plan: 'starter' });
  let passed = 0;
  let last = await list(key);
  // The bucket refills slowly: wait out each refusal until the quota, not the rate, refuses.
  while (last.status === 200 || last.body?.code === 'rate_limited') {
    if (last.status === 200) passed += 1;
    else await sleep(Number(last.headers.get('retry-after')) * 1000);
    last = await list(key);
  }
  expect(passed).toBe(STARTER.dailyQuota);
  expect(last.status).toBe(429);
  expect(last.body).toMatchObject({ code: 'quota_exceeded', type: '/problems/quota_exceeded' });
  const untilMidnight = Math.ceil(
    (Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`) + 86_400_000 - Date.now()) / 1000,
  );
  expect(Math.abs(Number(last.headers.get('retry-after')) - untilMidnight)).toBeLessThanOrEqual(5);

  await changePlan(deps, { merchantId: id, plan: 'enterprise' });
  expect(await stack.repo.getMerchant(id)).toMatchObject({ plan: 'enterprise' });
  const after = [];
  for (let i = 0; i < 10; i++) after.push((await list(key)).status);
  expect(after.every((status) => status === 200)).toBe(true);
});
