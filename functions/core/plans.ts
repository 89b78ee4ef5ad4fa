/**
 * Merchant plans: how many API requests a merchant may make, as a steady rate with a burst above it and
 * optionally a daily quota. API Gateway enforces them in AWS (one usage plan per plan, the merchant's
 * usage key returned by the authorizer); the local stack enforces the same figures with the same
 * arithmetic (`admit`), so a client sees the same 429s on both.
 */

export const PLAN_NAMES = ['starter', 'standard', 'enterprise'] as const;
export type PlanName = (typeof PLAN_NAMES)[number];

export interface Plan {
  /** Requests per second, refilled continuously (API Gateway's token bucket rate). */
  rateLimit: number;
  /** The bucket's size: how many requests may come at once after a quiet moment. */
  burstLimit: number;
  /** Requests per UTC day; none when absent. */
  dailyQuota?: number;
}

export type PlanTable = Record<PlanName, Plan>;

/** The plans and their figures (docs/api.md "Rate limits"). */
export const PLANS: PlanTable = {
  starter: { rateLimit: 10, burstLimit: 20, dailyQuota: 10_000 },
  standard: { rateLimit: 50, burstLimit: 100 },
  enterprise: { rateLimit: 200, burstLimit: 400 },
};

/** A merchant made without a plan is on this one. */
export const DEFAULT_PLAN: PlanName = 'standard';

export function isPlanName(value: unknown): value is PlanName {
  return typeof value === 'string' && (PLAN_NAMES as readonly string[]).includes(value);
}

/**
 * The API Gateway API key value that ties a merchant to its usage plan (API Gateway wants 20 characters at
 * least: `plan-usage-merchant_x` is 21). Not a credential: API Gateway takes it from the authorizer's
 * answer (API key source AUTHORIZER), clients never send it.
 */
export function usageKeyOf(merchantId: string): string {
  return `plan-usage-${merchantId}`;
}

/** A merchant's bucket and day count, as the local stack keeps them (API Gateway keeps its own). */
export interface Allowance {
  tokens: number;
  /** When `tokens` was last computed (ms since the epoch). */
  at: number;
  /** The UTC day `used` counts (YYYY-MM-DD), and how many requests it let through. */
  day: string;
  used: number;
}

export type Admission =
  | { allowed: true; allowance: Allowance }
  | {
      allowed: false;
      allowance: Allowance;
      reason: 'rate_limited' | 'quota_exceeded';
      retryAfterSeconds: number;
    };

/**
 * Whether one more request may pass now, and the allowance after it. A refused request takes nothing
 * (neither a token nor the day's quota). `retryAfterSeconds` is when the next one would pass: the next
 * token, or the next UTC day.
 */
export function admit(allowance: Allowance | undefined, plan: Plan, nowMs: number): Admission {
  const day = new Date(nowMs).toISOString().slice(0, 10);
  const elapsed = allowance ? Math.max(0, nowMs - allowance.at) / 1000 : 0;
  const tokens = allowance
    ? Math.min(plan.burstLimit, allowance.tokens + elapsed * plan.rateLimit)
    : plan.burstLimit;
  const used = allowance && allowance.day === day ? allowance.used : 0;
  const current: Allowance = { tokens, at: nowMs, day, used };
  if (plan.dailyQuota !== undefined && used >= plan.dailyQuota) {
    const nextDay = Date.parse(`${day}T00:00:00.000Z`) + 86_400_000;
    return {
      allowed: false,
      allowance: current,
      reason: 'quota_exceeded',
      retryAfterSeconds: Math.max(1, Math.ceil((nextDay - nowMs) / 1000)),
    };
  }
  if (tokens < 1) {
    return {
      allowed: false,
      allowance: current,
      reason: 'rate_limited',
      retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / plan.rateLimit)),
    };
  }
  return { allowed: true, allowance: { ...current, tokens: tokens - 1, used: used + 1 } };
}
