/**
 * The merchant's HTTP client for `npm run chaos`, as a careful real one is written: every request that
 * changes something carries an Idempotency-Key and is retried with the same key on network errors, 5xx,
 * 429 and the two 409s the API documents as retryable (`stale_write`, `idempotency_key_in_use`); reads are
 * retried the same way. The stack may be down (SIGKILL) for seconds while a request is retried.
 */
import { maxOf, percentile, round, sleep } from './stats.js';

export interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field, as a client would
  body: any;
  /** Tries made (1 = answered at once). */
  attempts: number;
}

export interface Target {
  apiUrl: string;
  kbankUrl: string;
  apiKey: string;
  kbankPublicKey: string;
}

const RETRYABLE_409 = new Set(['stale_write', 'idempotency_key_in_use']);

export class ChaosClient {
  /** Latency of each answered try, by operation (ms). */
  private readonly latencies = new Map<string, number[]>();
  readonly retries = { network: 0, status5xx: 0, conflict409: 0, tooMany429: 0, gaveUp: 0 };
  requests = 0;

  constructor(
    private target: Target,
    /** How long one request keeps retrying (a create must outlast the 30 s lock of a crashed request). */
    private readonly retryBudgetMs = 180_000,
  ) {}

  /** The stack restarted: same URLs and key, but read them again. */
  retarget(target: Target): void {
    this.target = target;
  }

  get kbankUrl(): string {
    return this.target.kbankUrl;
  }

  get kbankPublicKey(): string {
    return this.target.kbankPublicKey;
  }

  /** A request to our API. `key` is the Idempotency-Key; `auth: false` for the KBank webhook. */
  api(
    op: string,
    method: string,
    path: string,
    options: { body?: unknown; key?: string; auth?: boolean; retry?: boolean } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (options.auth !== false) headers.Authorization = `Bearer ${this.target.apiKey}`;
    if (options.key) headers['Idempotency-Key'] = options.key;
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    return this.send(op, () => `${this.target.apiUrl}${path}`, method, headers, options.body, options.retry);
  }

  /** A call to the KBank simulator (the customer's side, the browser's tokenization, the test controls). */
  kbank(op: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const all = { ...headers, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) };
    return this.send(op, () => `${this.target.kbankUrl}${path}`, method, all, body, true);
  }

  private async send(
    op: string,
    url: () => string,
    method: string,
    headers: Record<string, string>,
    body: unknown,
    retry = true,
  ): Promise<Answer> {
    const giveUpAt = performance.now() + this.retryBudgetMs;
    let last: Answer = { status: 0, body: null, attempts: 0 };
    for (let attempt = 1; ; attempt++) {
      this.requests += 1;
      const t0 = performance.now();
      let retryable = false;
      try {
        const res = await fetch(url(), {
          method,
          headers,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(30_000),
        });
        const text = await res.text();
        let parsed: unknown = null;
        try {
          parsed = text === '' ? null : JSON.parse(text);
        } catch {
          parsed = text;
        }
        this.latency(op, performance.now() - t0);
        last = { status: res.status, body: parsed, attempts: attempt };
        const code = (parsed as { code?: string } | null)?.code;
        if (res.status >= 500) {
          this.retries.status5xx += 1;
          retryable = true;
        } else if (res.status === 429) {
          this.retries.tooMany429 += 1;
          retryable = true;
        } else if (res.status === 409 && code !== undefined && RETRYABLE_409.has(code)) {
          this.retries.conflict409 += 1;
          retryable = true;
        }
      } catch {
        // Connection refused or reset (the stack is down), or no answer in time: the outcome is unknown.
        this.retries.network += 1;
        last = { status: 0, body: null, attempts: attempt };
        retryable = true;
      }
      if (!retryable || !retry) return last;
      if (performance.now() > giveUpAt) {
        this.retries.gaveUp += 1;
        return last;
      }
      const backoff = Math.min(2000, 100 * 1.5 ** Math.min(attempt, 12));
      await sleep(backoff / 2 + Math.random() * (backoff / 2));
    }
  }

  private latency(op: string, ms: number): void {
    let list = this.latencies.get(op);
    if (!list) {
      list = [];
      this.latencies.set(op, list);
    }
    list.push(ms);
  }

  latencySummary(): Record<string, { n: number; p50: number; p90: number; p99: number; max: number }> {
    const out: Record<string, { n: number; p50: number; p90: number; p99: number; max: number }> = {};
    for (const [op, list] of [...this.latencies.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      out[op] = {
        n: list.length,
        p50: round(percentile(list, 50)),
        p90: round(percentile(list, 90)),
        p99: round(percentile(list, 99)),
        max: round(maxOf(list)),
      };
    }
    return out;
  }
}
