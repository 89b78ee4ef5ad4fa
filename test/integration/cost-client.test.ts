/** The real cost client against the real cost simulator over HTTP on 127.0.0.1. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createCostClient } from '../../functions/adapters/cost-client.js';
import { CostServiceRejected, CostServiceUnavailable } from '../../functions/core/errors.js';
import { type CostSimulator, startCostSimulator } from '../../local/cost-simulator.js';

const API_KEY = 'cost_test_integration';
const noWait = async () => {};

let simulator: CostSimulator;

beforeAll(async () => {
  // A short hold for SKU-SLOW keeps the suite fast; the client times out well before it.
  simulator = await startCostSimulator({ apiKey: API_KEY, slowMs: 1500 });
});

afterAll(async () => {
  await simulator.close();
});

function costClient(extra: { timeoutMs?: number; retries?: number; apiKey?: string } = {}) {
  return createCostClient({ baseUrl: simulator.url, apiKey: API_KEY, sleep: noWait, ...extra });
}

let orderSeq = 0;
const orderId = () => `ord_it_${Date.now()}_${++orderSeq}`;

describe('cost client against the simulator', () => {
  it('prices an order from the default catalog', async () => {
    const id = orderId();
    const quote = await costClient().quote({
      orderId: id,
      currency: 'THB',
      lines: [
        { sku: 'SKU-TSHIRT', quantity: 2, unitAmount: 35_000 },
        { sku: 'SKU-MUG', quantity: 1, unitAmount: 19_900 },
        { sku: 'SKU-BOOK', quantity: 1, unitAmount: 45_000 },
      ],
    });
    expect(quote).toEqual({ orderId: id, currency: 'THB', totalAmount: 134_900 });
  });

  it('uses a price set at run time', async () => {
    simulator.setPrice('SKU-LIMITED', 'THB', 12_345);
    const quote = await costClient().quote({
      orderId: orderId(),
      currency: 'THB',
      lines: [{ sku: 'SKU-LIMITED', quantity: 3, unitAmount: 12_345 }],
    });
    expect(quote.totalAmount).toBe(37_035);
  });

  it('rejects an unknown SKU at once', async () => {
    const before = simulator.requests();
    const error = await costClient()
      .quote({
        orderId: orderId(),
        currency: 'THB',
        lines: [{ sku: 'SKU-NOPE', quantity: 1, unitAmount: 100 }],
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CostServiceRejected);
    expect((error as Error).message).toContain('unknown_sku');
    expect(simulator.requests() - before).toBe(1);
  });

  it('rejects a wrong api key', async () => {
    await expect(
      costClient({ apiKey: 'wrong' }).quote({
        orderId: orderId(),
        currency: 'THB',
        lines: [{ sku: 'SKU-MUG', quantity: 1, unitAmount: 19_900 }],
      }),
    ).rejects.toBeInstanceOf(CostServiceRejected);
  });

  it('retries SKU-FLAKY after its first 503 and succeeds', async () => {
    const before = simulator.requests();
    const quote = await costClient().quote({
      orderId: orderId(),
      currency: 'THB',
      lines: [{ sku: 'SKU-FLAKY', quantity: 2, unitAmount: 10_000 }],
    });
    expect(quote.totalAmount).toBe(20_000);
    expect(simulator.requests() - before).toBe(2);
  });

  it('gives up on SKU-FAIL-503 after 1 + retries attempts', async () => {
    const before = simulator.requests();
    await expect(
      costClient({ retries: 2 }).quote({
        orderId: orderId(),
        currency: 'THB',
        lines: [{ sku: 'SKU-FAIL-503', quantity: 1, unitAmount: 10_000 }],
      }),
    ).rejects.toBeInstanceOf(CostServiceUnavailable);
    expect(simulator.requests() - before).toBe(3);
  });

  it('times out on SKU-SLOW and reports the service unavailable', async () => {
    const started = Date.now();
    const error = await costClient({ timeoutMs: 100, retries: 1 })
      .quote({
        orderId: orderId(),
        currency: 'THB',
        lines: [{ sku: 'SKU-SLOW', quantity: 1, unitAmount: 10_000 }],
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CostServiceUnavailable);
    expect((error as Error).message).toContain('no answer within 100 ms');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('closes promptly with an answer still held', async () => {
    const held = await startCostSimulator({ apiKey: API_KEY, slowMs: 60_000 });
    const pending = createCostClient({ baseUrl: held.url, apiKey: API_KEY, retries: 0, timeoutMs: 30_000 })
      .quote({
        orderId: orderId(),
        currency: 'THB',
        lines: [{ sku: 'SKU-SLOW', quantity: 1, unitAmount: 10_000 }],
      })
      .catch((caught: unknown) => caught);
    while (held.requests() === 0) await new Promise((resolve) => setImmediate(resolve));

    const started = Date.now();
    await held.close();
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(pending).resolves.toBeInstanceOf(CostServiceUnavailable);
  });
});
