/**
 * Optimistic concurrency under contention: a write that lost the race for a payment's version (StaleWriteError)
 * re-reads and decides again, a bounded number of times, after a randomized ("full jitter") backoff so that
 * many writers on one payment (parallel refunds) spread out instead of colliding in lockstep.
 */
import { StaleWriteError } from '../errors.js';

export interface ContentionPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** The backoff ceiling doubles from this after each lost race, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Injected so tests never sleep. */
  sleep(ms: number): Promise<void>;
  /** In [0, 1). */
  random(): number;
}

/**
 * 30 tries with delays up to 150 ms: ~4.5 s of backoff at worst, well inside an API function's 10 s, and
 * enough for 50 concurrent refunds plus their sagas' writes on one payment (test/e2e/refunds.test.ts).
 */
export const DEFAULT_CONTENTION: ContentionPolicy = {
  attempts: 30,
  baseDelayMs: 5,
  maxDelayMs: 150,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

/** Runs `attempt` until it does not lose a race; rethrows anything else, and the last StaleWriteError. */
export async function retryOnStaleWrite<T>(
  policy: ContentionPolicy,
  attempt: (tryNo: number) => Promise<T>,
): Promise<T> {
  for (let tryNo = 1; ; tryNo++) {
    try {
      return await attempt(tryNo);
    } catch (error) {
      if (!(error instanceof StaleWriteError) || tryNo >= policy.attempts) throw error;
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (tryNo - 1));
      await policy.sleep(Math.floor(policy.random() * ceiling));
    }
  }
}
