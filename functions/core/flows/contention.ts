/**
 * Optimistic concurrency under contention: a write that lost the race for a payment's version (StaleWriteError)
 * re-reads and decides again, within a time budget, after a randomized ("full jitter") exponential backoff so
 * that many writers on one payment (parallel refunds and their sagas) spread out instead of colliding in
 * lockstep. Every lost race means another writer won, so the payment keeps moving; only the wait is bounded.
 */
import { StaleWriteError } from '../errors.js';

export interface ContentionPolicy {
  /** The backoff ceiling doubles from this after each lost race, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** No new try starts after this long: the last StaleWriteError is thrown instead. */
  budgetMs: number;
  /** Injected so tests never sleep. */
  sleep(ms: number): Promise<void>;
  /** In [0, 1). */
  random(): number;
  now(): number;
}

/**
 * Backoff up to 500 ms, retrying for up to 20 s: on DynamoDB Local (whose transactions slow down to ~200 ms
 * under this contention), 50 parallel refunds of one payment and their 33 sagas' writes all get through in
 * about 10 s (test/e2e/refund-concurrency.test.ts); on DynamoDB (≈10 ms transactions) far sooner. The refund
 * API function's 25 s timeout and the saga functions' 30 s leave room for it.
 */
export const DEFAULT_CONTENTION: ContentionPolicy = {
  baseDelayMs: 10,
  maxDelayMs: 500,
  budgetMs: 20_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
  now: Date.now,
};

/** Runs `attempt` until it does not lose a race; rethrows anything else, and the last StaleWriteError. */
export async function retryOnStaleWrite<T>(
  policy: ContentionPolicy,
  attempt: (tryNo: number) => Promise<T>,
): Promise<T> {
  const deadline = policy.now() + policy.budgetMs;
  for (let tryNo = 1; ; tryNo++) {
    try {
      return await attempt(tryNo);
    } catch (error) {
      if (!(error instanceof StaleWriteError)) throw error;
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(tryNo - 1, 30));
      const delay = Math.floor(policy.random() * ceiling);
      if (policy.now() + delay >= deadline) throw error;
      await policy.sleep(delay);
    }
  }
}
