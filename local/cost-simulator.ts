/** In-process cost calculation service: speaks our quote protocol (docs/cost-service.md) with a small catalog and magic SKUs. */
import type http from 'node:http';
import type { Currency } from '../functions/core/money.js';
import {
  COST_API_KEY_HEADER,
  COST_QUOTES_PATH,
  type CostQuoteRequest,
  CostQuoteRequestSchema,
  type CostQuoteResponse,
} from '../schemas/cost.js';
import { readBody, type SimReply, startSimServer } from './sim-http.js';

/** Prices of one SKU by currency, in minor units; a bare number is a THB price. */
export type CatalogEntry = Partial<Record<Currency, number>> | number;

export interface CostSimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Expected `x-api-key`. Default cost_test_local. */
  apiKey?: string;
  /** Replaces DEFAULT_COST_CATALOG. Magic SKUs keep working whatever the catalog holds. */
  catalog?: Record<string, CatalogEntry>;
  /** How long SKU-SLOW holds its answer. Default 5000. */
  slowMs?: number;
}

export interface CostSimulator {
  /** Base url, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  /** Stops at once: held answers are dropped and open connections destroyed. */
  close(): Promise<void>;
  /** Sets (or adds) the price of an SKU in one currency, in minor units. */
  setPrice(sku: string, currency: Currency, unitAmount: number): void;
  /** How many HTTP requests arrived so far, whatever their outcome: lets tests count retries. */
  requests(): number;
}

export const COST_SIMULATOR_DEFAULTS = {
  host: '127.0.0.1',
  apiKey: 'cost_test_local',
  slowMs: 5000,
} as const;

/** The default catalog [ours], unit prices in minor units (satang for THB). docs/cost-service.md lists it. */
export const DEFAULT_COST_CATALOG: Record<string, CatalogEntry> = {
  'SKU-TSHIRT': { THB: 35_000, USD: 1_000 },
  'SKU-MUG': { THB: 19_900, USD: 600 },
  'SKU-BOOK': { THB: 45_000, USD: 1_300 },
  'SKU-CAP': { THB: 29_000 },
  'SKU-STICKER': { THB: 2_500 },
  'SKU-HOODIE': { THB: 129_000 },
  'SKU-FREE-GIFT': { THB: 0 },
};

/**
 * Magic SKUs [ours]: their behaviour does not depend on the catalog. When they do answer, they cost
 * MAGIC_SKU_UNIT_AMOUNT in any currency, unless the catalog prices them.
 */
export const MAGIC_SKUS = {
  /** Answers 503 every time. */
  fail503: 'SKU-FAIL-503',
  /** Answers 503 to the first request for a given order_id, then prices normally. */
  flaky: 'SKU-FLAKY',
  /** Answers after `slowMs` (default 5000), so a client with a shorter timeout gives up. */
  slow: 'SKU-SLOW',
} as const;

export const MAGIC_SKU_UNIT_AMOUNT = 10_000;

const MAGIC_SKU_SET = new Set<string>(Object.values(MAGIC_SKUS));

export async function startCostSimulator(options: CostSimulatorOptions = {}): Promise<CostSimulator> {
  const host = options.host ?? COST_SIMULATOR_DEFAULTS.host;
  const apiKey = options.apiKey ?? COST_SIMULATOR_DEFAULTS.apiKey;
  const slowMs = options.slowMs ?? COST_SIMULATOR_DEFAULTS.slowMs;

  const prices = new Map<string, Partial<Record<Currency, number>>>();
  for (const [sku, entry] of Object.entries(options.catalog ?? DEFAULT_COST_CATALOG)) {
    prices.set(sku, typeof entry === 'number' ? { THB: entry } : { ...entry });
  }
  const flakyOrdersSeen = new Set<string>();
  let requestCount = 0;

  async function handle(req: http.IncomingMessage): Promise<SimReply> {
    requestCount++;
    const path = new URL(req.url ?? '/', 'http://simulator.invalid').pathname.replace(/\/+$/, '') || '/';
    if (path === '/_sim/health') return { status: 200, body: { status: 'ok' } };
    if (path !== COST_QUOTES_PATH) return errorReply(404, 'not_found', `no route ${path}`);
    if (req.method !== 'POST') return errorReply(405, 'method_not_allowed', 'use POST');
    if (req.headers[COST_API_KEY_HEADER] !== apiKey) {
      return errorReply(401, 'unauthorized', `missing or wrong ${COST_API_KEY_HEADER}`);
    }

    const raw = await readBody(req);
    if (raw === undefined) return errorReply(413, 'invalid_order', 'body too large');
    const parsed = CostQuoteRequestSchema.safeParse(parseJson(raw));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return errorReply(
        422,
        'invalid_order',
        issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'bad',
      );
    }
    const order = parsed.data;
    const skus = new Set(order.lines.map((line) => line.sku));

    if (skus.has(MAGIC_SKUS.fail503)) return errorReply(503, 'unavailable', 'cost service unavailable');
    if (skus.has(MAGIC_SKUS.flaky) && !flakyOrdersSeen.has(order.order_id)) {
      flakyOrdersSeen.add(order.order_id);
      return errorReply(503, 'unavailable', 'cost service briefly unavailable');
    }
    const reply = price(order);
    return skus.has(MAGIC_SKUS.slow) ? { ...reply, delayMs: slowMs } : reply;
  }

  function price(order: CostQuoteRequest): SimReply {
    const lines: CostQuoteResponse['lines'] = [];
    for (const line of order.lines) {
      const unitAmount = unitPrice(line.sku, order.currency);
      if (unitAmount === undefined) {
        const known = prices.has(line.sku) || MAGIC_SKU_SET.has(line.sku);
        const message = known
          ? `${line.sku} has no price in ${order.currency}`
          : `${line.sku} is not in the catalog`;
        return errorReply(422, 'unknown_sku', message);
      }
      lines.push({
        sku: line.sku,
        quantity: line.quantity,
        unit_amount: unitAmount,
        amount: unitAmount * line.quantity,
      });
    }
    const total = lines.reduce((sum, line) => sum + line.amount, 0);
    const body: CostQuoteResponse = {
      order_id: order.order_id,
      currency: order.currency,
      total_amount: total,
      lines,
    };
    return { status: 200, body };
  }

  function unitPrice(sku: string, currency: Currency): number | undefined {
    const priced = prices.get(sku)?.[currency];
    if (priced !== undefined) return priced;
    return MAGIC_SKU_SET.has(sku) ? MAGIC_SKU_UNIT_AMOUNT : undefined;
  }

  const server = await startSimServer({
    port: options.port ?? 0,
    host,
    handle,
    failure: errorReply(500, 'internal_error', 'simulator failure'),
  });
  return {
    url: server.url,
    close: () => server.close(),
    setPrice(sku, currency, unitAmount) {
      if (!Number.isSafeInteger(unitAmount) || unitAmount < 0) {
        throw new RangeError(`unit amount must be a non-negative integer of minor units: ${unitAmount}`);
      }
      prices.set(sku, { ...prices.get(sku), [currency]: unitAmount });
    },
    requests: () => requestCount,
  };
}

function errorReply(status: number, code: string, message: string): SimReply {
  return { status, body: { error: { code, message } } };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
