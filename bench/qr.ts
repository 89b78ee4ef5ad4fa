/**
 * The QR part of `npm run bench`: one Thai QR payment driven the way a merchant's page and a customer
 * would, against the running stack. Poll `GET /v1/payments/{id}` until it is `requires_action`, "scan" the
 * QR payload with the KBank simulator (`POST /_sim/qr/scan`, which answers once its notify was delivered to
 * our webhook and acknowledged), then poll until `succeeded`. All timings are client-side, in ms.
 */
import { sleep } from './stats.js';

export interface QrRun {
  id: string;
  /** The last status seen. */
  status: string;
  /** POST sent → the first poll that saw `requires_action` (answer received). */
  toRequiresActionMs?: number;
  /** The scan call: KBank marks the charge paid, notifies us, we queue it and answer 200. */
  scanMs?: number;
  /** Scan call answered → the first poll that saw `succeeded` (answer received). */
  callbackToSucceededMs?: number;
  /** GET /v1/payments/{id} calls made (load the bench itself adds). */
  polls: number;
  createdAt?: number;
  updatedAt?: number;
  /** Why it did not reach `succeeded`: `timeout:<phase>`, `scan:<http status>`, `<status>` or an error name. */
  error?: string;
}

interface PaymentView {
  status: string;
  created_at: string;
  updated_at: string;
  next_action?: { type: string; qr_payload?: string } | null;
}

export interface QrDriveOptions {
  apiUrl: string;
  kbankUrl: string;
  headers: Record<string, string>;
  pollMs: number;
  /** Per phase (until requires_action, until succeeded). */
  timeoutMs: number;
  /** A customer's time between seeing the QR and paying (0: at once). */
  scanDelayMs: number;
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'rejected', 'expired']);

/**
 * Polls every `pollMs` (measured from the start of one GET to the start of the next) until the payment
 * is `want`, or terminal, or the time is up. `at` is when the answer that saw it arrived.
 */
async function pollUntil(
  options: QrDriveOptions,
  run: QrRun,
  want: string,
): Promise<{ view: PaymentView | null; at: number; reached: boolean }> {
  const id = run.id;
  const deadline = performance.now() + options.timeoutMs;
  let view: PaymentView | null = null;
  for (;;) {
    const started = performance.now();
    run.polls += 1;
    const res = await fetch(`${options.apiUrl}/v1/payments/${id}`, { headers: options.headers });
    const body = (await res.json()) as PaymentView;
    const at = performance.now();
    if (res.status === 200) view = body;
    if (view?.status === want) return { view, at, reached: true };
    if (view && TERMINAL.has(view.status)) return { view, at, reached: false };
    if (at > deadline) return { view, at, reached: false };
    const wait = started + options.pollMs - performance.now();
    if (wait > 0) await sleep(wait);
  }
}

export async function driveQrPayment(options: QrDriveOptions, id: string, postedAt: number): Promise<QrRun> {
  const run: QrRun = { id, status: 'processing', polls: 0 };
  const seen = (view: PaymentView | null) => {
    if (!view) return;
    run.status = view.status;
    run.createdAt = Date.parse(view.created_at);
    run.updatedAt = Date.parse(view.updated_at);
  };
  try {
    const waiting = await pollUntil(options, run, 'requires_action');
    seen(waiting.view);
    const payload = waiting.view?.next_action?.qr_payload;
    if (!waiting.reached || !payload) {
      run.error = waiting.reached
        ? 'no_qr_payload'
        : TERMINAL.has(run.status)
          ? run.status
          : 'timeout:action';
      return run;
    }
    run.toRequiresActionMs = waiting.at - postedAt;

    if (options.scanDelayMs > 0) await sleep(options.scanDelayMs);
    const scanStarted = performance.now();
    const scan = await fetch(`${options.kbankUrl}/_sim/qr/scan`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ payload }),
    });
    await scan.arrayBuffer();
    const scanned = performance.now();
    run.scanMs = scanned - scanStarted;
    if (scan.status !== 200) {
      run.error = `scan:${scan.status}`;
      return run;
    }

    const paid = await pollUntil(options, run, 'succeeded');
    seen(paid.view);
    if (!paid.reached) {
      run.error = TERMINAL.has(run.status) ? run.status : 'timeout:succeeded';
      return run;
    }
    run.callbackToSucceededMs = paid.at - scanned;
    return run;
  } catch (error) {
    run.error = (error as Error).name;
    return run;
  }
}

/**
 * After the run (so it does not load the measurement), from each QR payment's audit trail:
 * - how long the accepted notify waited in the callback queue before the processor recorded it
 *   (`notification.received` time − the webhook's `receivedAt`);
 * - how long after `payment.requires_action` the saga stored its task token (`action.wait_started`): a
 *   notify processed before that is handed back to the queue (SagaNotWaitingYet) and processed again
 *   only after the queue's visibility timeout.
 */
export async function auditTimings(
  apiUrl: string,
  headers: Record<string, string>,
  ids: string[],
): Promise<{
  queuedToRecordedMs: number[];
  tokenStoredAfterMs: number[];
  duplicates: number;
  missing: number;
}> {
  const queuedToRecordedMs: number[] = [];
  const tokenStoredAfterMs: number[] = [];
  let duplicates = 0;
  let missing = 0;
  for (let i = 0; i < ids.length; i += 16) {
    await Promise.all(
      ids.slice(i, i + 16).map(async (id) => {
        const res = await fetch(`${apiUrl}/v1/payments/${id}/events?limit=100`, { headers });
        const page = (await res.json()) as {
          data?: { type: string; at: string; detail: { receivedAt?: string } }[];
        };
        const entries = page.data ?? [];
        const at = (type: string) => {
          const entry = entries.find((e) => e.type === type);
          return entry ? Date.parse(entry.at) : Number.NaN;
        };
        const tokenStored = at('action.wait_started');
        const requiresAction = at('payment.requires_action');
        if (!Number.isNaN(tokenStored - requiresAction))
          tokenStoredAfterMs.push(tokenStored - requiresAction);
        duplicates += entries.filter((entry) => entry.type === 'notification.duplicate').length;
        const received = entries.find((entry) => entry.type === 'notification.received');
        if (!received?.detail.receivedAt) {
          missing += 1;
          return;
        }
        queuedToRecordedMs.push(Date.parse(received.at) - Date.parse(received.detail.receivedAt));
      }),
    );
  }
  return { queuedToRecordedMs, tokenStoredAfterMs, duplicates, missing };
}
