/**
 * In-process stand-in for an SQS standard queue with a redrive policy, for the local stack: asynchronous
 * at-least-once delivery, redelivery after a visibility timeout when the consumer fails, and a dead-letter
 * list after maxReceiveCount receives.
 *
 * Durable only with `statePath` (the local stack's `--persist`): then what is not yet processed survives a
 * crash or Ctrl-C, and is delivered again on the next start. Without it, messages live in this process's
 * memory only. On AWS the queue is SQS (lib/stateful-stack.ts), which keeps them. Also unlike SQS, a consume that never settles keeps its message in flight forever (SQS would deliver it
 * again once the visibility timeout ran out), and delivery is in send order (SQS standard: best effort).
 */
import { randomUUID } from 'node:crypto';
import { readStateFile, writeStateFile } from './state-file.js';

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
  /**
   * Keep every message not yet processed (queued, in flight, waiting for redelivery), with its receive
   * count, and the dead letters in this JSON file. It is written before send resolves and on every
   * receive, delete and move to the dead letters, and read on creation: what it holds is delivered again
   * (a message in flight when the process died included, as SQS does after the visibility timeout).
   */
  statePath?: string;
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
   * is dropped (with a warning), or with statePath left in the file for the next start. Resolves once the
   * consumes already running have finished.
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

/** The state file (statePath). */
interface QueueState {
  version: 1;
  /** Not yet processed, in send order. */
  messages: Stored[];
  /** JSON bodies, oldest first. */
  deadLetters: string[];
}

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
  /** Every message sent and neither processed nor dead: what the state file keeps. */
  const pending = new Map<string, Stored>();
  const save = () => {
    if (!options.statePath) return;
    const state: QueueState = { version: 1, messages: [...pending.values()], deadLetters: dead };
    writeStateFile(options.statePath, state);
  };
  if (options.statePath) {
    const state = readStateFile(options.statePath) as QueueState | undefined;
    if (state !== undefined && (state?.version !== 1 || !Array.isArray(state.messages))) {
      throw new Error(`${options.statePath} is not a local queue state file (version 1): move it away`);
    }
    for (const stored of state?.messages ?? []) {
      pending.set(stored.messageId, stored);
      ready.push(stored);
    }
    dead.push(...(state?.deadLetters ?? []));
  }

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
    // The count decides when a message goes to the dead letters: a crash must not reset it.
    save();
    const delivery: LocalDelivery = { messageId: stored.messageId, receiveCount: stored.receiveCount };
    // Through a promise chain, so that a consume that throws synchronously counts as a failed receive.
    const attempt = Promise.resolve()
      .then(() => options.consume(JSON.parse(stored.body) as T, delivery))
      .then(
        () => {
          pending.delete(stored.messageId);
          save();
        },
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
      const fate = options.statePath ? 'kept for the next start' : 'dropped';
      console.warn(`local queue ${options.name}: message ${stored.messageId} failed during close, ${fate}`);
      return;
    }
    if (stored.receiveCount >= maxReceiveCount) {
      pending.delete(stored.messageId);
      dead.push(stored.body);
      save();
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

  // What an earlier run left is delivered as if just sent.
  if (ready.length > 0) schedulePump();

  return {
    async send(message) {
      if (closed) throw new Error(`local queue ${options.name} is closed`);
      const body = JSON.stringify(message);
      if (body === undefined) throw new TypeError(`local queue ${options.name}: the message is not JSON`);
      const stored: Stored = { messageId: randomUUID(), body, receiveCount: 0 };
      pending.set(stored.messageId, stored);
      try {
        // Resolving means "stored": with statePath, only once it is in the file.
        save();
      } catch (error) {
        pending.delete(stored.messageId);
        throw error;
      }
      ready.push(stored);
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
        const fate = options.statePath ? `kept in ${options.statePath}` : 'dropped';
        console.warn(`local queue ${options.name}: closed with ${dropped} undelivered message(s), ${fate}`);
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
