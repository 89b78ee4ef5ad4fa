/** The plans' arithmetic the local stack enforces (API Gateway's usage plans do the same in AWS). */
import { type Allowance, admit, PLANS, type Plan } from '../../functions/core/plans.js';

const plan: Plan = { rateLimit: 2, burstLimit: 3, dailyQuota: 5 };
const noon = Date.parse('2026-12-02T12:00:00.000Z');

/** Sends `n` requests at `at` (ms), returning how many passed and the allowance after them. */
function burst(n: number, at: number, start?: Allowance) {
  let allowance = start;
  let passed = 0;
  let last: ReturnType<typeof admit> | undefined;
  for (let i = 0; i < n; i++) {
    last = admit(allowance, plan, at);
    allowance = last.allowance;
    if (last.allowed) passed += 1;
  }
  return { passed, allowance, last };
}

describe('admit', () => {
  it('lets a burst through up to the bucket, then refuses with the wait for the next token', () => {
    const { passed, last } = burst(5, noon);
    expect(passed).toBe(3);
    expect(last).toMatchObject({ allowed: false, reason: 'rate_limited', retryAfterSeconds: 1 });
  });

  it('refills at the rate, never above the burst', () => {
    const first = burst(3, noon);
    // Half a second at 2/s: one token back.
    expect(burst(3, noon + 500, first.allowance).passed).toBe(1);
    // An hour of quiet: the bucket is full (3), not 7,200.
    const quiet: Allowance = { ...(first.allowance as Allowance), tokens: 0, used: 0 };
    expect(burst(10, noon + 3_600_000, quiet).passed).toBe(3);
  });

  it('takes nothing for a refused request', () => {
    const full = burst(3, noon).allowance;
    const refused = admit(full, plan, noon);
    expect(refused.allowed).toBe(false);
    expect(refused.allowance).toMatchObject({ used: 3 });
    expect(refused.allowance.tokens).toBeCloseTo(0);
  });

  it('stops at the daily quota until 00:00 UTC, and starts the next day afresh', () => {
    let allowance: Allowance | undefined;
    let passed = 0;
    for (let i = 0; i < 20; i++) {
      const result = admit(allowance, plan, noon + i * 1000);
      allowance = result.allowance;
      if (result.allowed) passed += 1;
    }
    expect(passed).toBe(5);
    const refused = admit(allowance, plan, noon + 30_000);
    expect(refused).toMatchObject({ allowed: false, reason: 'quota_exceeded' });
    expect(refused.allowed === false && refused.retryAfterSeconds).toBe(12 * 3600 - 30);
    expect(admit(allowance, plan, Date.parse('2026-12-03T00:00:00.000Z')).allowed).toBe(true);
  });

  it('has no quota on plans without one', () => {
    expect(PLANS.enterprise.dailyQuota).toBeUndefined();
    const allowance: Allowance = { tokens: 400, at: noon, day: '2026-12-02', used: 10_000_000 };
    expect(admit(allowance, PLANS.enterprise, noon).allowed).toBe(true);
  });
});
