/**
 * Usage counters of the local stack (local-only: nothing deployed counts this way): the work AWS bills,
 * counted where the local stack swaps the edges, per payment and per function. DynamoDB requests and their
 * capacity units at the SDK client the functions use, Step Functions transitions in the ASL runner, Lambda
 * invocations and their duration on the in-process invoke path, events put on the local bus, API requests
 * served and queue messages. docs/capacity.md ("Measured cost per payment") describes the figures.
 *
 * Attribution to a payment is exact, not sampled: a DynamoDB request whose key names one payment
 * (`PK = PAYMENT#<id>`) is that payment's; everything else a unit of work does (one API request, one saga
 * task, one queue delivery, one sweep pass) is charged to the payment that unit's own keys named, else to
 * the payment it was started for (the path's `{id}`, the execution's `paymentId`, the message's
 * `paymentId`). A unit that named several payments, or none, is `unattributed`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AslMeter, MeteredExecution } from './asl/api.js';
import { createCapacityModel, stringOf, type TableShape } from './capacity.js';

/** One DynamoDB command's requests. */
export interface DynamoDbCount {
  /** Requests made (one per `send`; SDK retries of a request are in `retries`). */
  calls: number;
  /**
   * Items the requests carried: 1 per single-item request, the TransactItems or batch requests of a
   * transaction or batch, the items returned by a Query or Scan.
   */
  items: number;
  /** Requests that failed (a condition, a cancelled transaction…): DynamoDB reports no capacity for them. */
  failed: number;
  /** Items of the failed requests: what an estimate of their capacity counts (bench/cost.ts). */
  failedItems: number;
  /** SDK retries (attempts beyond the first). */
  retries: number;
  /**
   * Read and write request units as on-demand bills them, table and indexes (local/capacity.ts: computed
   * from the items read and written).
   */
  readUnits: number;
  writeUnits: number;
  /** Requests whose units are an estimate (failed ones, and those resting on an item image not known). */
  estimated: number;
}

/** What one function (or one state machine, or the API) did. */
export interface Usage {
  /** By command name without `Command`: GetItem, Query, PutItem, UpdateItem, TransactWriteItems, … */
  dynamodb: Record<string, DynamoDbCount>;
  /** Lambda invocations of this function; duration in-process (ms), and rounded up per invocation as billed. */
  lambda: { invocations: number; durationMs: number; billedMs: number };
  /** Step Functions Standard state transitions: every state entered (any type) and every retry attempt. */
  transitions: number;
  /** PutEvents calls, and the entries they put on the bus. */
  events: { putEventsCalls: number; entries: number };
  /** API requests served (API Gateway's billed unit), counted under the route's function. */
  apiRequests: number;
  /** Queue messages sent, received (a delivery, redeliveries included) and deleted (processed). */
  queue: { sent: number; received: number; deleted: number };
}

/** Usage by source: a function name, or `states:<saga>` for what a state machine does itself. */
export type UsageBySource = Record<string, Usage>;

export interface CountersSnapshot {
  /** When the counts began (the stack's start, or the last reset). */
  since: string;
  /** Everything counted, by source. */
  total: UsageBySource;
  /** By payment id, then source (absent when asked without). */
  payments?: Record<string, UsageBySource>;
  /** What no single payment can be charged with (the sweep's index queries, a request naming none). */
  unattributed: UsageBySource;
  /** Payments whose counts were folded into `unattributed` to bound memory (oldest first). */
  droppedPayments: number;
}

/** Runs one unit of work; everything it does is counted under `source`, for one payment if it can tell. */
export interface WorkUnit {
  source: string;
  /** The payment the work is for, when the caller knows it (the path's id, the execution's paymentId). */
  payment?: string | undefined;
}

export interface UsageCounters {
  /** False for the counters of a stack started without counting: every method then does nothing. */
  readonly enabled: boolean;
  /** Counts DynamoDB requests made through this client, and the request units they cost. */
  attachTo(client: DynamoDBClient): void;
  /** The table is empty and only this stack writes it: an item never seen does not exist (local/capacity.ts). */
  watchFromEmpty(tableName: string): void;
  /** Runs `work` as one unit of work (an API request, a saga task, a queue delivery). */
  unit<T>(unit: WorkUnit, work: () => Promise<T>): Promise<T>;
  /** A handler counted as a Lambda function `name`: one invocation per call, its duration, its work. */
  lambda<A extends unknown[], R>(
    name: string,
    handler: (...args: A) => Promise<R>,
  ): (...args: A) => Promise<R>;
  /** Adds to the current unit's source (or `source`), for `payment` or the current unit's payment. */
  add(change: (usage: Usage) => void, options?: { source?: string; payment?: string | undefined }): void;
  snapshot(options?: { payments?: boolean }): CountersSnapshot;
  reset(): void;
}

export interface UsageCountersOptions {
  /** The payment a partition key value names, if any (the table design's `PAYMENT#<id>`). */
  paymentOfKey: (partitionKey: string) => string | undefined;
  /** The table's keys and GSIs (every GSI projecting ALL). */
  table: TableShape;
  /** Payments tracked one by one; beyond, the oldest are folded into `unattributed`. Default 10 000. */
  maxPayments?: number;
  now?: () => Date;
}

/** The data-plane commands, the ones on-demand bills; table management is not counted. */
const DATA_COMMANDS = new Set([
  'GetItem',
  'BatchGetItem',
  'Query',
  'Scan',
  'TransactGetItems',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
]);
const UNATTRIBUTED = Symbol('unattributed');

interface Frame {
  source: string;
  unit: OpenUnit | undefined;
}

/** A unit of work while it runs: what it did without naming a payment waits until it ends. */
interface OpenUnit {
  hint: string | undefined;
  named: Set<string>;
  /** Each with the counters' generation it was recorded in: a reset drops what came before it. */
  pending: { source: string; change: (usage: Usage) => void; generation: number }[];
  /** Set when it ended: where later work of it goes. */
  owner?: string | typeof UNATTRIBUTED;
}

export function emptyUsage(): Usage {
  return {
    dynamodb: {},
    lambda: { invocations: 0, durationMs: 0, billedMs: 0 },
    transitions: 0,
    events: { putEventsCalls: 0, entries: 0 },
    apiRequests: 0,
    queue: { sent: 0, received: 0, deleted: 0 },
  };
}

export function emptyDynamoDbCount(): DynamoDbCount {
  return {
    calls: 0,
    items: 0,
    failed: 0,
    failedItems: 0,
    retries: 0,
    readUnits: 0,
    writeUnits: 0,
    estimated: 0,
  };
}

/** `record[key]`, made and stored first when absent. */
export function entryOf<T>(record: Record<string, T>, key: string, make: () => T): T {
  const existing = record[key];
  if (existing !== undefined) return existing;
  const made = make();
  record[key] = made;
  return made;
}

/** `into` += `from`, field by field. */
export function addUsage(into: Usage, from: Usage): Usage {
  for (const [command, count] of Object.entries(from.dynamodb)) {
    const target = entryOf(into.dynamodb, command, emptyDynamoDbCount);
    for (const key of Object.keys(count) as (keyof DynamoDbCount)[]) target[key] += count[key];
  }
  into.lambda.invocations += from.lambda.invocations;
  into.lambda.durationMs += from.lambda.durationMs;
  into.lambda.billedMs += from.lambda.billedMs;
  into.transitions += from.transitions;
  into.events.putEventsCalls += from.events.putEventsCalls;
  into.events.entries += from.events.entries;
  into.apiRequests += from.apiRequests;
  into.queue.sent += from.queue.sent;
  into.queue.received += from.queue.received;
  into.queue.deleted += from.queue.deleted;
  return into;
}

/** `into` += `from` for every source. */
export function addUsageBySource(into: UsageBySource, from: UsageBySource): UsageBySource {
  for (const [source, usage] of Object.entries(from)) addUsage(entryOf(into, source, emptyUsage), usage);
  return into;
}

export function createUsageCounters(options: UsageCountersOptions): UsageCounters {
  const maxPayments = options.maxPayments ?? 10_000;
  const now = options.now ?? (() => new Date());
  const frames = new AsyncLocalStorage<Frame>();
  const capacity = createCapacityModel(options.table);
  let since = now();
  let generation = 0;
  let total: UsageBySource = {};
  let unattributed: UsageBySource = {};
  // A Map keeps insertion order: the first entries are the oldest payments.
  let payments = new Map<string, UsageBySource>();
  let droppedPayments = 0;

  const bucketOf = (owner: string | typeof UNATTRIBUTED): UsageBySource => {
    if (owner === UNATTRIBUTED) return unattributed;
    let bucket = payments.get(owner);
    if (!bucket) {
      bucket = {};
      payments.set(owner, bucket);
      if (payments.size > maxPayments) {
        const [oldest, usage] = payments.entries().next().value as [string, UsageBySource];
        payments.delete(oldest);
        addUsageBySource(unattributed, usage);
        droppedPayments += 1;
      }
    }
    return bucket;
  };

  const apply = (owner: string | typeof UNATTRIBUTED, source: string, change: (usage: Usage) => void) => {
    change(entryOf(total, source, emptyUsage));
    change(entryOf(bucketOf(owner), source, emptyUsage));
  };

  /** Where a unit's unnamed work goes: the one payment its keys named, else the one it was started for. */
  const ownerOf = (unit: OpenUnit): string | typeof UNATTRIBUTED => {
    if (unit.named.size === 1) return [...unit.named][0] as string;
    if (unit.hint && (unit.named.size === 0 || unit.named.has(unit.hint))) return unit.hint;
    return UNATTRIBUTED;
  };

  /** Records `change`; `keys` are the partition keys the work named (a DynamoDB request's), if any. */
  const record = (
    change: (usage: Usage) => void,
    where: { source?: string; payment?: string | undefined; keys?: string[] } = {},
  ) => {
    const frame = frames.getStore();
    const unit = frame?.unit;
    const source = where.source ?? frame?.source ?? 'local';
    const named = new Set((where.keys ?? []).flatMap((key) => options.paymentOfKey(key) ?? []));
    for (const payment of named) unit?.named.add(payment);
    if (where.payment) return apply(where.payment, source, change);
    if (named.size === 1) return apply([...named][0] as string, source, change);
    if (named.size > 1) return apply(UNATTRIBUTED, source, change);
    if (!unit) return apply(UNATTRIBUTED, source, change);
    if (unit.owner !== undefined) return apply(unit.owner, source, change);
    unit.pending.push({ source, change, generation });
  };

  const counters: UsageCounters = {
    enabled: true,

    attachTo(client) {
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const command = (context.commandName ?? '').replace(/Command$/, '');
          if (!DATA_COMMANDS.has(command)) return next(args);
          const input = args.input as Record<string, unknown>;
          const keys = partitionKeysOf(command, input, options.table.partitionKey);
          const count = (change: (count: DynamoDbCount) => void) =>
            record((usage) => change(entryOf(usage.dynamodb, command, emptyDynamoDbCount)), { keys });
          let result: Awaited<ReturnType<typeof next>>;
          try {
            result = await next({ ...args, input: capacity.prepare(command, input) });
          } catch (error) {
            const units = capacity.chargeFailure(command, input, error);
            const attempts = (error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
            const items = itemsOf(command, input, {});
            count((tally) => {
              tally.calls += 1;
              tally.failed += 1;
              tally.items += items;
              tally.failedItems += items;
              tally.retries += Math.max(0, attempts - 1);
              tally.readUnits += units.readUnits;
              tally.writeUnits += units.writeUnits;
              tally.estimated += 1;
            });
            throw error;
          }
          const output = result.output as Record<string, unknown> & { $metadata?: { attempts?: number } };
          const units = capacity.charge(command, input, output);
          const items = itemsOf(command, input, output);
          const retries = Math.max(0, (output.$metadata?.attempts ?? 1) - 1);
          count((tally) => {
            tally.calls += 1;
            tally.items += items;
            tally.retries += retries;
            tally.readUnits += units.readUnits;
            tally.writeUnits += units.writeUnits;
            if (units.estimated) tally.estimated += 1;
          });
          return result;
        },
        { step: 'initialize', name: 'localUsageCounters', override: true },
      );
    },

    watchFromEmpty(tableName) {
      capacity.watchFromEmpty(tableName);
    },

    async unit(work, run) {
      const unit: OpenUnit = { hint: work.payment, named: new Set(), pending: [] };
      try {
        return await frames.run({ source: work.source, unit }, run);
      } finally {
        const owner = ownerOf(unit);
        unit.owner = owner;
        for (const entry of unit.pending) {
          if (entry.generation === generation) apply(owner, entry.source, entry.change);
        }
        unit.pending = [];
      }
    },

    lambda(name, handler) {
      return async (...args) => {
        const started = performance.now();
        const unit = frames.getStore()?.unit;
        try {
          return await frames.run({ source: name, unit }, () => handler(...args));
        } finally {
          const ms = performance.now() - started;
          record(
            (usage) => {
              usage.lambda.invocations += 1;
              usage.lambda.durationMs += ms;
              // Lambda bills each invocation's duration rounded up to the next millisecond.
              usage.lambda.billedMs += Math.max(1, Math.ceil(ms));
            },
            { source: name },
          );
        }
      };
    },

    add(change, where = {}) {
      record(change, where);
    },

    snapshot(request = {}) {
      return {
        since: since.toISOString(),
        total: structuredClone(total),
        ...(request.payments === false
          ? {}
          : { payments: Object.fromEntries(structuredClone([...payments])) }),
        unattributed: structuredClone(unattributed),
        droppedPayments,
      };
    },

    reset() {
      // What running units did before now is dropped with the rest; what they do from now on counts.
      generation += 1;
      since = now();
      total = {};
      unattributed = {};
      payments = new Map();
      droppedPayments = 0;
    },
  };
  return counters;
}

/**
 * Counters that count nothing, for a stack started without counting: no middleware, and no async context
 * (an AsyncLocalStorage in use makes every promise of the process dearer, see docs/local-stack-internals.md).
 */
export function disabledUsageCounters(now: () => Date = () => new Date()): UsageCounters {
  const since = now().toISOString();
  return {
    enabled: false,
    attachTo: () => undefined,
    watchFromEmpty: () => undefined,
    unit: (_unit, work) => work(),
    lambda: (_name, handler) => handler,
    add: () => undefined,
    snapshot: () => ({ since, total: {}, unattributed: {}, droppedPayments: 0 }),
    reset: () => undefined,
  };
}

/**
 * The ASL runner's meter for one state machine: its transitions, and each Task as one unit of work under
 * `source` (a Lambda task's own work is under its function), both for the payment `paymentOf` names.
 */
export function aslMeter(
  counters: UsageCounters,
  source: string,
  paymentOf: (execution: MeteredExecution) => string | undefined,
): AslMeter {
  return {
    transition(execution) {
      counters.add(
        (usage) => {
          usage.transitions += 1;
        },
        { source, payment: paymentOf(execution) },
      );
    },
    task: (execution, _stateName, run) => counters.unit({ source, payment: paymentOf(execution) }, run),
  };
}

/** The partition key values a request names: its Key or Item, each transaction or batch item, a Query's values. */
export function partitionKeysOf(
  command: string,
  input: Record<string, unknown>,
  partitionKey: string,
): string[] {
  const keyOf = (record: unknown) =>
    stringOf((record as Record<string, unknown> | undefined)?.[partitionKey]) ?? [];
  const keys: string[] = [];
  keys.push(...[input.Key, input.Item].flatMap(keyOf));
  if (Array.isArray(input.TransactItems)) {
    for (const item of input.TransactItems as Record<string, Record<string, unknown> | undefined>[]) {
      for (const operation of Object.values(item))
        keys.push(...[operation?.Key, operation?.Item].flatMap(keyOf));
    }
  }
  const requestItems = input.RequestItems as Record<string, unknown> | undefined;
  for (const requests of Object.values(requestItems ?? {})) {
    if (Array.isArray(requests)) {
      // BatchWriteItem: [{ PutRequest: { Item } } | { DeleteRequest: { Key } }]
      for (const request of requests as Record<string, Record<string, unknown> | undefined>[]) {
        keys.push(...[request.PutRequest?.Item, request.DeleteRequest?.Key].flatMap(keyOf));
      }
    } else {
      // BatchGetItem: { Keys: [...] }
      keys.push(...(((requests as { Keys?: unknown[] }).Keys ?? []) as unknown[]).flatMap(keyOf));
    }
  }
  if (command === 'Query') {
    const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
    keys.push(...Object.values(values).flatMap((value) => stringOf(value) ?? []));
  }
  return keys;
}

function itemsOf(command: string, input: Record<string, unknown>, output: Record<string, unknown>): number {
  if (Array.isArray(input.TransactItems)) return input.TransactItems.length;
  if (command === 'Query' || command === 'Scan') return typeof output.Count === 'number' ? output.Count : 0;
  const requestItems = input.RequestItems as Record<string, unknown> | undefined;
  if (requestItems) {
    return Object.values(requestItems).reduce<number>(
      (sum, requests) =>
        sum +
        (Array.isArray(requests) ? requests.length : ((requests as { Keys?: unknown[] }).Keys?.length ?? 0)),
      0,
    );
  }
  return 1;
}
