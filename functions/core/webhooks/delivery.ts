/**
 * The rules of merchant webhook delivery: which endpoints an event goes to (type patterns), when a failed
 * attempt is tried again (exponential backoff with jitter, for more than 3 days), what counts as
 * delivered, and when an endpoint that keeps failing is disabled.
 */

/** Event types an endpoint may subscribe to: exact (`payment.succeeded`), a family (`refund.*`), or `*`. */
export function subscribes(patterns: readonly string[], type: string): boolean {
  return patterns.some(
    (pattern) =>
      pattern === '*' ||
      pattern === type ||
      (pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1))),
  );
}

/**
 * Delays before each retry after a failed attempt (the first attempt is immediate): 105.6 h in all, so even
 * with every delay at its shortest (−20 %) the last attempt comes more than 3 days after the first.
 * Eleven attempts in all.
 */
export const RETRY_SCHEDULE_SECONDS = [
  5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400, 108000,
] as const;

/** A retry waits its scheduled delay ± this share, so endpoints coming back are not hit all at once. */
export const RETRY_JITTER = 0.2;

/**
 * The delay before attempt `attempt + 1` (attempts count from 1), or null when the schedule is spent and
 * the delivery has failed for good. `random` is in [0, 1).
 */
export function retryDelaySeconds(
  attempt: number,
  random: () => number,
  schedule: readonly number[] = RETRY_SCHEDULE_SECONDS,
): number | null {
  const base = schedule[attempt - 1];
  if (base === undefined) return null;
  return Math.round(base * (1 - RETRY_JITTER + 2 * RETRY_JITTER * random()));
}

/**
 * The same delay in milliseconds, with the whole schedule multiplied by `scale` (1 on AWS; the local stack
 * may shrink it so that tests run the full schedule in seconds).
 */
export function retryDelayMs(
  attempt: number,
  random: () => number,
  schedule: readonly number[] = RETRY_SCHEDULE_SECONDS,
  scale = 1,
): number | null {
  const seconds = retryDelaySeconds(attempt, random, schedule);
  return seconds === null ? null : Math.round(seconds * 1000 * scale);
}

/** 2xx is delivered; anything else (redirects included: they are not followed), or no answer, is not. */
export function delivered(status: number | null): boolean {
  return status !== null && status >= 200 && status < 300;
}

/** An attempt waits at most this long for the endpoint's answer. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/** How much of an endpoint's answer is kept with the attempt. */
export const RESPONSE_EXCERPT_BYTES = 1024;

/** What is known of an endpoint's recent deliveries. */
export interface EndpointHealth {
  /** Consecutive failed attempts since the last delivered one. */
  consecutiveFailures: number;
  /** When the first of those failures happened (ISO), null while healthy. */
  failingSince: string | null;
}

/**
 * An endpoint is disabled (with a notice to the merchant) once it has failed every attempt for 5 days
 * and at least 20 times in a row: long past the retry schedule of any one event, so a weekend outage of
 * the merchant's system loses nothing.
 */
export const DISABLE_AFTER = { failingForMs: 5 * 24 * 3600 * 1000, consecutiveFailures: 20 } as const;

export function afterAttempt(
  health: EndpointHealth,
  ok: boolean,
  now: Date,
): EndpointHealth & { disable: boolean } {
  if (ok) return { consecutiveFailures: 0, failingSince: null, disable: false };
  const failingSince = health.failingSince ?? now.toISOString();
  const consecutiveFailures = health.consecutiveFailures + 1;
  const disable =
    consecutiveFailures >= DISABLE_AFTER.consecutiveFailures &&
    now.getTime() - Date.parse(failingSince) >= DISABLE_AFTER.failingForMs;
  return { consecutiveFailures, failingSince, disable };
}
