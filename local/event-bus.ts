/** In-memory EventBridge stand-in for the local stack and tests: PutEvents semantics, bounded history, waiting. */
import { randomUUID } from 'node:crypto';

export interface LocalEventEntry {
  EventBusName?: string;
  Source: string;
  DetailType: string;
  /** A JSON object, or its JSON text as the EventBridge API takes it. */
  Detail: string | object;
}

export interface LocalEvent {
  id: string;
  /** ISO 8601, like the `time` field of a delivered EventBridge event. */
  time: string;
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  busName: string;
}

export interface PutEventsResultEntry {
  EventId?: string;
  ErrorCode?: string;
  ErrorMessage?: string;
}

export interface PutEventsResult {
  FailedEntryCount: number;
  Entries: PutEventsResultEntry[];
}

export interface LocalEventFilter {
  detailType?: string;
  source?: string;
  /** Matches `detail.payment.id` or `detail.payment_id`. */
  paymentId?: string;
}

export type LocalEventListener = (event: LocalEvent) => void;

export interface LocalEventBus {
  putEvents(entries: LocalEventEntry[]): PutEventsResult;
  /** Retained events, oldest first. */
  events(filter?: LocalEventFilter): LocalEvent[];
  /** Returns the unsubscribe function. */
  subscribe(listener: LocalEventListener): () => void;
  /** The first retained or future event matching the predicate; rejects after timeoutMs. */
  waitFor(predicate: (event: LocalEvent) => boolean, timeoutMs: number): Promise<LocalEvent>;
  clear(): void;
  /**
   * An EventBridge outage, for tests: while set, a PutEvents call with an entry the predicate matches fails
   * as a whole (InternalException, as EventBridge's 500) and puts nothing. `null` ends it.
   */
  failWhen(predicate: ((entry: LocalEventEntry) => boolean) | null): void;
}

export interface LocalEventBusOptions {
  /** Events retained for events()/waitFor(); older ones are dropped first. */
  capacity?: number;
  now?: () => Date;
  newId?: () => string;
  /** Told of every PutEvents call the bus answered (the local stack counts them: local/counters.ts). */
  onPutEvents?: (call: { entries: number; accepted: number }) => void;
}

/** EventBridge's own limit per PutEvents call. */
const MAX_ENTRIES_PER_CALL = 10;

export function createLocalEventBus(options: LocalEventBusOptions = {}): LocalEventBus {
  const capacity = options.capacity ?? 100_000;
  const now = options.now ?? (() => new Date());
  const newId = options.newId ?? randomUUID;
  // Ring buffer: a long local session must not grow memory without bound.
  const ring: (LocalEvent | undefined)[] = new Array(capacity);
  let next = 0;
  let size = 0;
  const listeners = new Set<LocalEventListener>();
  let outage: ((entry: LocalEventEntry) => boolean) | null = null;

  const retained = (): LocalEvent[] => {
    const out: LocalEvent[] = [];
    const start = (next - size + capacity) % capacity;
    for (let i = 0; i < size; i++) {
      const event = ring[(start + i) % capacity];
      if (event) out.push(event);
    }
    return out;
  };

  const publish = (event: LocalEvent) => {
    ring[next] = event;
    next = (next + 1) % capacity;
    size = Math.min(size + 1, capacity);
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (error) {
        // A broken subscriber must not fail the publisher, as with a real bus.
        console.error('local event bus: listener threw', error);
      }
    }
  };

  return {
    putEvents(entries) {
      if (entries.length === 0 || entries.length > MAX_ENTRIES_PER_CALL) {
        throw Object.assign(
          new Error(`PutEvents takes 1 to ${MAX_ENTRIES_PER_CALL} entries, got ${entries.length}`),
          {
            name: 'ValidationException',
          },
        );
      }
      if (outage && entries.some(outage)) {
        throw Object.assign(new Error('EventBridge is unavailable (simulated outage)'), {
          name: 'InternalException',
        });
      }
      const results: PutEventsResultEntry[] = [];
      const accepted: LocalEvent[] = [];
      for (const entry of entries) {
        const parsed = toEvent(entry, newId, now);
        if ('id' in parsed) {
          accepted.push(parsed);
          results.push({ EventId: parsed.id });
        } else {
          results.push(parsed);
        }
      }
      for (const event of accepted) publish(event);
      options.onPutEvents?.({ entries: entries.length, accepted: accepted.length });
      return { FailedEntryCount: results.filter((entry) => entry.ErrorCode).length, Entries: results };
    },

    events(filter) {
      const all = retained();
      return filter ? all.filter((event) => matches(event, filter)) : all;
    },

    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    waitFor(predicate, timeoutMs) {
      const already = retained().find(predicate);
      if (already) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const listener: LocalEventListener = (event) => {
          if (!predicate(event)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(event);
        };
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`no matching event within ${timeoutMs}ms (${size} events retained)`));
        }, timeoutMs);
        listeners.add(listener);
      });
    },

    clear() {
      ring.fill(undefined);
      next = 0;
      size = 0;
    },

    failWhen(predicate) {
      outage = predicate;
    },
  };
}

function toEvent(
  entry: LocalEventEntry,
  newId: () => string,
  now: () => Date,
): LocalEvent | PutEventsResultEntry {
  // EventBridge rejects these per entry (not the whole call), reporting them in FailedEntryCount.
  if (!entry.Source) return invalid('Parameter Source is not valid. Reason: Source is a required argument.');
  if (!entry.DetailType) return invalid('Parameter DetailType is not valid. Reason: DetailType is required.');
  let detail: unknown;
  try {
    detail = typeof entry.Detail === 'string' ? JSON.parse(entry.Detail) : entry.Detail;
  } catch {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail must be a JSON object.' };
  }
  return {
    id: newId(),
    time: now().toISOString(),
    source: entry.Source,
    detailType: entry.DetailType,
    // A copy, as serialization would make on the wire: later mutation by the publisher must not leak in.
    detail: JSON.parse(JSON.stringify(detail)) as Record<string, unknown>,
    busName: busNameOf(entry.EventBusName),
  };
}

function invalid(message: string): PutEventsResultEntry {
  return { ErrorCode: 'InvalidArgument', ErrorMessage: message };
}

/** EventBusName may be a name or an ARN (`arn:aws:events:…:event-bus/<name>`). */
function busNameOf(nameOrArn: string | undefined): string {
  if (!nameOrArn) return 'default';
  const slash = nameOrArn.lastIndexOf('/');
  return nameOrArn.startsWith('arn:') && slash >= 0 ? nameOrArn.slice(slash + 1) : nameOrArn;
}

function matches(event: LocalEvent, filter: LocalEventFilter): boolean {
  if (filter.detailType !== undefined && event.detailType !== filter.detailType) return false;
  if (filter.source !== undefined && event.source !== filter.source) return false;
  if (filter.paymentId !== undefined) {
    const payment = event.detail.payment as { id?: unknown } | undefined;
    const id = payment?.id ?? event.detail.payment_id;
    if (id !== filter.paymentId) return false;
  }
  return true;
}
