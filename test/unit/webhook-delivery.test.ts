/** Merchant webhook delivery rules: subscriptions, the retry schedule, what is delivered, disabling. */
import {
  afterAttempt,
  DISABLE_AFTER,
  delivered,
  RETRY_SCHEDULE_SECONDS,
  retryDelaySeconds,
  subscribes,
} from '../../functions/core/webhooks/delivery.js';

describe('webhook delivery rules', () => {
  it.each([
    [['payment.succeeded'], 'payment.succeeded', true],
    [['payment.succeeded'], 'payment.failed', false],
    [['refund.*'], 'refund.succeeded', true],
    [['refund.*'], 'refunds.x', false],
    [['refund.*'], 'payment.refunded', false],
    [['*'], 'payment.captured', true],
    [[], 'payment.captured', false],
  ])('%j subscribes to %s: %s', (patterns, type, expected) => {
    expect(subscribes(patterns, type)).toBe(expected);
  });

  it('retries for more than 3 days, then gives up', () => {
    const total = RETRY_SCHEDULE_SECONDS.reduce((sum, s) => sum + s, 0);
    expect(total).toBeGreaterThan(3 * 24 * 3600);
    let worstCase = 0;
    for (let attempt = 1; attempt <= RETRY_SCHEDULE_SECONDS.length; attempt++) {
      worstCase += retryDelaySeconds(attempt, () => 0) ?? Number.NaN;
    }
    // Even with every delay at its shortest (−20 %), the schedule spans more than 3 days.
    expect(worstCase).toBeGreaterThan(3 * 24 * 3600);
    expect(retryDelaySeconds(RETRY_SCHEDULE_SECONDS.length + 1, () => 0.5)).toBeNull();
  });

  it('spreads each delay ±20 % and grows it attempt by attempt', () => {
    expect(retryDelaySeconds(2, () => 0)).toBe(240);
    expect(retryDelaySeconds(2, () => 0.5)).toBe(300);
    expect(retryDelaySeconds(2, () => 0.999999)).toBe(360);
    for (let attempt = 1; attempt < RETRY_SCHEDULE_SECONDS.length; attempt++) {
      expect(retryDelaySeconds(attempt + 1, () => 0.5)).toBeGreaterThan(
        retryDelaySeconds(attempt, () => 0.5) ?? 0,
      );
    }
  });

  it('counts only 2xx as delivered: redirects, errors and silence are retried', () => {
    expect([200, 204, 299].map(delivered)).toEqual([true, true, true]);
    expect([null, 0, 101, 301, 302, 400, 410, 500, 503].map(delivered)).toEqual(Array(9).fill(false));
  });

  it('disables an endpoint only after 5 days and 20 attempts of failing, and a success heals it', () => {
    const start = Date.parse('2026-12-01T00:00:00.000Z');
    let health = { consecutiveFailures: 0, failingSince: null as string | null };
    let disabledAt: number | null = null;
    // One failed attempt every 6 hours.
    for (let i = 0; i < 40 && disabledAt === null; i++) {
      const now = new Date(start + i * 6 * 3600 * 1000);
      const next = afterAttempt(health, false, now);
      health = next;
      if (next.disable) disabledAt = i;
    }
    expect(disabledAt).toBe(20); // 20 × 6 h = 5 days after the first failure, 21 failures
    expect(health.consecutiveFailures).toBeGreaterThanOrEqual(DISABLE_AFTER.consecutiveFailures);
    expect(afterAttempt(health, true, new Date())).toEqual({
      consecutiveFailures: 0,
      failingSince: null,
      disable: false,
    });
    // Many failures in a short outage do not disable it.
    let burst = { consecutiveFailures: 0, failingSince: null as string | null };
    for (let i = 0; i < 100; i++) {
      const next = afterAttempt(burst, false, new Date(start + i * 1000));
      expect(next.disable).toBe(false);
      burst = next;
    }
  });
});
