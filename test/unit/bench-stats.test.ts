/** The benchmarks' statistics hold for samples as large as a 10,000-payment chaos run produces. */
import { describe, expect, it } from '@jest/globals';
import { maxOf, minOf, summary } from '../../bench/stats.js';

describe('bench statistics', () => {
  it('summarises a sample of 500,000 latencies (a spread argument list would overflow the stack)', () => {
    const values = Array.from({ length: 500_000 }, (_, i) => (i * 7919) % 100_003);
    expect(maxOf(values)).toBe(100_002);
    expect(minOf(values)).toBe(0);
    expect(summary(values)).toMatchObject({ n: 500_000, max: 100_002 });
  });

  it('gives -Infinity / Infinity for an empty sample, and nulls in a summary', () => {
    expect(maxOf([])).toBe(Number.NEGATIVE_INFINITY);
    expect(minOf([])).toBe(Number.POSITIVE_INFINITY);
    expect(summary([])).toEqual({ n: 0, p50: null, p99: null, max: null });
  });
});
