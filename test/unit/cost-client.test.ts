/** Cost client retry policy, with a scripted fetch and an instant sleep: no network, no waiting. */
import { describe, expect, it } from '@jest/globals';
import { backoffMs, createCostClient } from '../../functions/adapters/cost-client.js';
import { CostServiceRejected, CostServiceUnavailable } from '../../functions/core/errors.js';

const ORDER = {
  orderId: 'ord_1001',
  currency: 'THB' as const,
  lines: [
    { sku: 'SKU-TSHIRT', quantity: 2, unitAmount: 35_000 },
    { sku: 'SKU-MUG', quantity: 1, unitAmount: 19_900 },
  ],
};

const QUOTE = {
  order_id: 'ord_1001',
  currency: 'THB',
  total_amount: 89_900,
  lines: [
    { sku: 'SKU-TSHIRT', quantity: 2, unit_amount: 35_000, amount: 70_000 },
    { sku: 'SKU-MUG', quantity: 1, unit_amount: 19_900, amount: 19_900 },
  ],
};

type Step = { status: number; body?: unknown } | { error: Error };

/** A fetch that plays `steps` in order and records every call. */
function scriptedFetch(steps: Step[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(input), init: init ?? {} });
    const step = steps[Math.min(calls.length - 1, steps.length - 1)];
    if (!step) throw new Error('no scripted step');
    if ('error' in step) throw step.error;
    const text = typeof step.body === 'string' ? step.body : JSON.stringify(step.body ?? {});
    return new Response(text, { status: step.status, headers: { 'Content-Type': 'application/json' } });
  }) as typeof fetch;
  return { fetchFn, calls };
}

function client(steps: Step[], extra: { retries?: number } = {}) {
  const { fetchFn, calls } = scriptedFetch(steps);
  const sleeps: number[] = [];
  const costService = createCostClient({
    baseUrl: 'https://cost.test/',
    apiKey: 'cost_key_1',
    retryBaseMs: 100,
    fetch: fetchFn,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...extra,
  });
  return { costService, calls, sleeps };
}

function timeoutError(): Error {
  const error = new Error('The operation was aborted due to timeout');
  error.name = 'TimeoutError';
  return error;
}

describe('cost client', () => {
  it('sends the order without prices to POST /v1/quotes with the api key and returns the quote', async () => {
    const { costService, calls } = client([{ status: 200, body: QUOTE }]);

    await expect(costService.quote(ORDER)).resolves.toEqual({
      orderId: 'ord_1001',
      currency: 'THB',
      totalAmount: 89_900,
    });

    expect(calls).toHaveLength(1);
    const call = calls[0];
    if (!call) throw new Error('fetch was not called');
    expect(call.url).toBe('https://cost.test/v1/quotes');
    expect(call.init.method).toBe('POST');
    expect((call.init.headers as Record<string, string>)['x-api-key']).toBe('cost_key_1');
    expect(JSON.parse(String(call.init.body))).toEqual({
      order_id: 'ord_1001',
      currency: 'THB',
      lines: [
        { sku: 'SKU-TSHIRT', quantity: 2 },
        { sku: 'SKU-MUG', quantity: 1 },
      ],
    });
  });

  it('retries a 5xx with growing backoff, then returns the quote', async () => {
    const { costService, calls, sleeps } = client([
      { status: 503 },
      { status: 502 },
      { status: 200, body: QUOTE },
    ]);

    await expect(costService.quote(ORDER)).resolves.toMatchObject({ totalAmount: 89_900 });

    expect(calls).toHaveLength(3);
    expect(sleeps).toEqual([75, 150]);
  });

  it('retries 429, timeouts and connection errors', async () => {
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
    });
    const { costService, calls } = client(
      [{ status: 429 }, { error: timeoutError() }, { error: refused }, { status: 200, body: QUOTE }],
      { retries: 3 },
    );

    await expect(costService.quote(ORDER)).resolves.toMatchObject({ totalAmount: 89_900 });
    expect(calls).toHaveLength(4);
  });

  it('does not retry a 4xx: the order is rejected at once with the service reason', async () => {
    const { costService, calls, sleeps } = client([
      { status: 422, body: { error: { code: 'unknown_sku', message: 'SKU-NOPE is not in the catalog' } } },
    ]);

    const error = await costService.quote(ORDER).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CostServiceRejected);
    expect((error as Error).name).toBe('CostServiceRejected');
    expect((error as Error).message).toContain('unknown_sku');
    expect(calls).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('treats a wrong api key (401) as a rejection, not an outage', async () => {
    const { costService, calls } = client([
      { status: 401, body: { error: { code: 'unauthorized', message: 'no' } } },
    ]);

    await expect(costService.quote(ORDER)).rejects.toBeInstanceOf(CostServiceRejected);
    expect(calls).toHaveLength(1);
  });

  it('gives up after 1 + retries attempts with CostServiceUnavailable', async () => {
    const { costService, calls, sleeps } = client([{ status: 503 }]);

    const error = await costService.quote(ORDER).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CostServiceUnavailable);
    expect((error as Error).name).toBe('CostServiceUnavailable');
    expect((error as Error).message).toContain('3 attempt(s)');
    expect(calls).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  it('with retries 0 makes exactly one attempt', async () => {
    const { costService, calls } = client([{ error: timeoutError() }], { retries: 0 });

    const error = await costService.quote(ORDER).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CostServiceUnavailable);
    expect((error as Error).message).toContain('no answer within 3000 ms');
    expect(calls).toHaveLength(1);
  });

  it.each([
    ['a body that is not JSON', '<html>oops</html>'],
    ['a body missing total_amount', { ...QUOTE, total_amount: undefined }],
    ['a fractional amount', { ...QUOTE, total_amount: 899.5 }],
    ['a total that is not the sum of the lines', { ...QUOTE, total_amount: 1 }],
    ['a line whose amount is not unit × quantity', { ...QUOTE, lines: [{ ...QUOTE.lines[0], amount: 1 }] }],
    ['a quote for another order', { ...QUOTE, order_id: 'ord_other' }],
    ['a quote in another currency', { ...QUOTE, currency: 'USD' }],
  ])('treats %s as CostServiceUnavailable without retrying', async (_what, body) => {
    const { costService, calls } = client([{ status: 200, body }]);

    await expect(costService.quote(ORDER)).rejects.toBeInstanceOf(CostServiceUnavailable);
    expect(calls).toHaveLength(1);
  });

  it('never puts the api key in an error message', async () => {
    const { costService } = client([{ status: 503 }]);

    const error = (await costService.quote(ORDER).catch((caught: unknown) => caught)) as Error;
    expect(error.message).not.toContain('cost_key_1');
  });
});

describe('backoffMs', () => {
  it('doubles the ceiling each retry and keeps at least half of it', () => {
    expect(backoffMs(0, 100, () => 0)).toBe(50);
    expect(backoffMs(0, 100, () => 0.999999)).toBe(100);
    expect(backoffMs(2, 100, () => 0)).toBe(200);
    expect(backoffMs(2, 100, () => 0.999999)).toBe(400);
  });
});
