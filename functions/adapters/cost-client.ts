/** Cost calculation endpoint adapter: implements the CostService port over HTTP with bounded retries of transient failures. */
import {
  COST_API_KEY_HEADER,
  COST_QUOTES_PATH,
  CostErrorResponseSchema,
  type CostQuoteRequest,
  CostQuoteResponseSchema,
} from '../../schemas/cost.js';
import { CostServiceRejected, CostServiceUnavailable } from '../core/errors.js';
import type { CostQuote, CostService } from '../core/ports.js';

export interface CostClientOptions {
  /** e.g. https://cost.merchant.example, or the simulator's url. A path prefix is kept. */
  baseUrl: string;
  /** Sent as `x-api-key` when set; never put in an error message. */
  apiKey?: string;
  /** Per attempt, including reading the body. Default 3000. */
  timeoutMs?: number;
  /** Extra attempts after the first, for transient failures only. Default 2. */
  retries?: number;
  /** First backoff step; doubles on every retry, with jitter. Default 100. */
  retryBaseMs?: number;
  /** Injected in tests; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Injected in tests so retries do not wait; defaults to a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Injected in tests for deterministic jitter; returns [0, 1). Defaults to Math.random. */
  random?: () => number;
}

export const DEFAULT_COST_TIMEOUT_MS = 3000;
export const DEFAULT_COST_RETRIES = 2;
export const DEFAULT_COST_RETRY_BASE_MS = 100;

/**
 * Backoff before retry number `retry` (0-based): "equal jitter", half fixed and half random, so that
 * concurrent callers spread out but every caller still waits a little.
 */
export function backoffMs(retry: number, baseMs: number, random: () => number): number {
  const ceiling = baseMs * 2 ** retry;
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** A failure worth another attempt: the order itself was never judged. */
class TransientFailure extends Error {}

export function createCostClient(options: CostClientOptions): CostService {
  const url = `${options.baseUrl.replace(/\/+$/, '')}${COST_QUOTES_PATH}`;
  const timeoutMs = options.timeoutMs ?? DEFAULT_COST_TIMEOUT_MS;
  const retries = Math.max(0, options.retries ?? DEFAULT_COST_RETRIES);
  const retryBaseMs = options.retryBaseMs ?? DEFAULT_COST_RETRY_BASE_MS;
  const doFetch = options.fetch ?? globalThis.fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;

  const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (options.apiKey) headers[COST_API_KEY_HEADER] = options.apiKey;

  /** One exchange: the parsed quote, or TransientFailure / CostServiceRejected / CostServiceUnavailable. */
  async function attempt(body: CostQuoteRequest): Promise<CostQuote> {
    let status: number;
    let text: string;
    try {
      const response = await doFetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.status;
      // Inside the try: the timeout also covers the body, and a reset mid-body is a transport failure.
      text = await response.text();
    } catch (error) {
      throw new TransientFailure(describeTransportError(error, timeoutMs), { cause: error });
    }

    if (status >= 500 || status === 429) throw new TransientFailure(`HTTP ${status}`);
    if (status >= 400) {
      const problem = CostErrorResponseSchema.safeParse(parseJson(text));
      const reason = problem.success
        ? `${problem.data.error.code}: ${problem.data.error.message}`
        : 'no details';
      throw new CostServiceRejected(
        `Cost service rejected order ${body.order_id} (HTTP ${status}, ${reason}).`,
      );
    }
    if (status < 200 || status >= 300) {
      throw new CostServiceUnavailable(`Cost service answered an unexpected HTTP ${status}.`);
    }

    // Quoting is a pure read, so a malformed answer is not retried here: the caller's own retry schedule
    // (the state machine's) decides whether to ask again.
    const parsed = CostQuoteResponseSchema.safeParse(parseJson(text));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'not JSON';
      throw new CostServiceUnavailable(`Cost service sent a malformed quote (${where}).`);
    }
    const quote = parsed.data;
    if (quote.order_id !== body.order_id || quote.currency !== body.currency) {
      throw new CostServiceUnavailable(
        `Cost service quoted ${quote.order_id}/${quote.currency} when asked for ${body.order_id}/${body.currency}.`,
      );
    }
    return { orderId: quote.order_id, currency: quote.currency, totalAmount: quote.total_amount };
  }

  return {
    async quote(order) {
      const body: CostQuoteRequest = {
        order_id: order.orderId,
        currency: order.currency,
        lines: order.lines.map((line) => ({ sku: line.sku, quantity: line.quantity })),
      };
      let last: TransientFailure | undefined;
      for (let tryNumber = 0; tryNumber <= retries; tryNumber++) {
        if (tryNumber > 0) await sleep(backoffMs(tryNumber - 1, retryBaseMs, random));
        try {
          return await attempt(body);
        } catch (error) {
          if (!(error instanceof TransientFailure)) throw error;
          last = error;
        }
      }
      throw new CostServiceUnavailable(
        `Cost service unavailable after ${retries + 1} attempt(s): ${last?.message ?? 'unknown failure'}.`,
        { cause: last?.cause ?? last },
      );
    },
  };
}

function describeTransportError(error: unknown, timeoutMs: number): string {
  // Duck-typed, not instanceof: fetch's DOMException may come from another realm (jest's vm modules).
  const name = fieldOf(error, 'name');
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const code = errorCode(error);
  return code ? `connection failed (${code})` : 'connection failed';
}

/** The first `code` on the error or its causes (undici wraps the socket error in `cause`). */
function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined; depth++) {
    const code = fieldOf(current, 'code');
    if (typeof code === 'string') return code;
    current = fieldOf(current, 'cause');
  }
  return undefined;
}

function fieldOf(value: unknown, field: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[field] : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
