/** Small helpers for the benchmarks. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/**
 * The largest and smallest of a sample of any size (`Math.max(...values)` passes every value as an
 * argument and overflows the stack past about 100,000 of them). -Infinity / Infinity when empty.
 */
export function maxOf(values: readonly number[]): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const value of values) if (value > max) max = value;
  return max;
}

export function minOf(values: readonly number[]): number {
  let min = Number.POSITIVE_INFINITY;
  for (const value of values) if (value < min) min = value;
  return min;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One decimal. */
export function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** p50 / p99 / max of a sample, rounded; nulls for an empty sample (JSON has no NaN). */
export function summary(values: number[]): {
  n: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
} {
  if (values.length === 0) return { n: 0, p50: null, p99: null, max: null };
  return {
    n: values.length,
    p50: round(percentile(values, 50)),
    p99: round(percentile(values, 99)),
    max: round(maxOf(values)),
  };
}
