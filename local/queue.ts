/**
 * In-process stand-in for an SQS standard queue with a redrive policy, for the local stack: asynchronous
 * at-least-once delivery, redelivery after a visibility timeout when the consumer fails, and a dead-letter
 * list after maxReceiveCount receives.
 *
 * NOT durable: messages live in this process's memory only. A crash or Ctrl-C loses whatever is queued,
 * in flight or waiting for redelivery. On AWS the queue is SQS (lib/stateful-stack.ts), which keeps them.
 * Also unlike SQS, a consume that never settles keeps its message in flight forever (SQS would deliver it
 * again once the visibility timeout ran out), and delivery is in send order (SQS standard: best effort).
 */
import { randomUUID } from 'node:crypto';

/** What SQS tells a consumer about one receive (Lambda's `messageId`, `ApproximateReceiveCount`). */
export interface LocalDelivery {
  messageId: string;
  /** 1 on the first receive. */
  receiveCount: number;
}

export interface LocalQueueOptions<T> {
  /** For messages and errors only. */
  name: string;
  /** Resolves: the message is deleted. Rejects (or throws): it comes back after visibilityTimeoutMs. */
  consume: (message: T, delivery: LocalDelivery) => Promise<void>;
  /** Receives in all (first delivery included) before the message goes to the dead letters. Default 5. */
  maxReceiveCount?: number;
  /** How long a message whose consume failed stays invisible before it is delivered again. Default 1000. */
  visibilityTimeoutMs?: number;
  /** Consumes running at once at most. Default 10. */
  concurrency?: number;
  /** Called once per message moved to the dead letters, with the error of its last receive. */
  onDeadLetter?: (message: T, error: unknown) => void;
}

export interface LocalQueue<T> {
  /**
   * Resolves once the message is enqueued (a JSON copy: the consumer never shares the sender's object).
   * Consumption starts later, never inside this call. Rejects after close() or for a body JSON cannot hold.
   */
  send(message: T): Promise<void>;
  /** Copies of the messages that exhausted maxReceiveCount, oldest first. */
  deadLetters(): T[];
  /** Resolves when nothing is queued, in flight or waiting for redelivery (at once if that is already so). */
  idle(): Promise<void>;
  /**
   * Stops: later sends reject, redelivery timers are cleared, and what is queued or waiting for redelivery
   * is dropped (with a warning). Resolves once the consumes already running have finished.
   */
  close(): Promise<void>;
}

interface Stored {
  messageId: string;
  /** The JSON text, parsed anew for every receive, as SQS hands out a fresh body each time. */
  body: string;
  receiveCount: number;
}

const DEFAULTS = { maxReceiveCount: 5, visibilityTimeoutMs: 1000, concurrency: 10 } as const;

export function createLocalQueue<T>(options: LocalQueueOptions<T>): LocalQueue<T> {
  const maxReceiveCount = positiveInteger(options, 'maxReceiveCount');
  const visibilityTimeoutMs = nonNegative(options, 'visibilityTimeoutMs');
  const concurrency = positiveInteger(options, 'concurrency');

  const ready: Stored[] = [];
  const invisible = new Map<ReturnType<typeof setTimeout>, Stored>();
  const running = new Set<Promise<void>>();
  const dead: string[] = [];
  let idleWaiters: (() => void)[] = [];
  let pumpScheduled = false;
  let closed = false;

  const isIdle = () => !pumpScheduled && ready.length === 0 && running.size === 0 && invisible.size === 0;

  const settleIdle = () => {
    if (!isIdle() || idleWaiters.length === 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  };

  /** Deferred to a later macrotask: a consume never runs inside the sender's call stack. */
  const schedulePump = () => {
    if (pumpScheduled || closed) return;
    pumpScheduled = true;
    setImmediate(() => {
      pumpScheduled = false;
      pump();
    });
  };

  const pump = () => {
    while (!closed && running.size < concurrency) {
      const stored = ready.shift();
      if (!stored) break;
      receive(stored);
    }
    settleIdle();
  };

  const receive = (stored: Stored) => {
    stored.receiveCount += 1;
    const delivery: LocalDelivery = { messageId: stored.messageId, receiveCount: stored.receiveCount };
    // Through a promise chain, so that a consume that throws synchronously counts as a failed receive.
    const attempt = Promise.resolve()
      .then(() => options.consume(JSON.parse(stored.body) as T, delivery))
      .then(
        () => undefined,
        (error: unknown) => failed(stored, error),
      )
      .finally(() => {
        running.delete(attempt);
        pump();
      });
    running.add(attempt);
  };

  const failed = (stored: Stored, error: unknown) => {
    if (closed) {
      console.warn(`local queue ${options.name}: message ${stored.messageId} failed during close, dropped`);
      return;
    }
    if (stored.receiveCount >= maxReceiveCount) {
      dead.push(stored.body);
      try {
        options.onDeadLetter?.(JSON.parse(stored.body) as T, error);
      } catch (hookError) {
        // A broken hook must not take the queue down with it.
        console.error(`local queue ${options.name}: onDeadLetter threw`, hookError);
      }
      return;
    }
    const timer = setTimeout(() => {
      invisible.delete(timer);
      ready.push(stored);
      pump();
    }, visibilityTimeoutMs);
    invisible.set(timer, stored);
  };

  return {
    async send(message) {
      if (closed) throw new Error(`local queue ${options.name} is closed`);
      const body = JSON.stringify(message);
      if (body === undefined) throw new TypeError(`local queue ${options.name}: the message is not JSON`);
      ready.push({ messageId: randomUUID(), body, receiveCount: 0 });
      schedulePump();
    },

    deadLetters() {
      return dead.map((body) => JSON.parse(body) as T);
    },

    idle() {
      if (isIdle()) return Promise.resolve();
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
      });
    },

    async close() {
      if (closed) {
        await Promise.allSettled([...running]);
        return;
      }
      closed = true;
      pumpScheduled = false;
      for (const timer of invisible.keys()) clearTimeout(timer);
      const dropped = ready.length + invisible.size;
      ready.length = 0;
      invisible.clear();
      if (dropped > 0) {
        console.warn(`local queue ${options.name}: closed with ${dropped} undelivered message(s), dropped`);
      }
      await Promise.allSettled([...running]);
      settleIdle();
    },
  };
}

function positiveInteger<T>(options: LocalQueueOptions<T>, key: 'maxReceiveCount' | 'concurrency'): number {
  const value = options[key] ?? DEFAULTS[key];
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`local queue ${options.name}: ${key} must be a positive integer, got ${value}`);
  }
  return value;
}

function nonNegative<T>(options: LocalQueueOptions<T>, key: 'visibilityTimeoutMs'): number {
  const value = options[key] ?? DEFAULTS[key];
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`local queue ${options.name}: ${key} must be ≥ 0, got ${value}`);
  }
  return value;
}
