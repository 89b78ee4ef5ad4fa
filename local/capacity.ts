/**
 * DynamoDB on-demand request units as AWS bills them, computed from the items a request reads and writes
 * (DynamoDB Local's own ConsumedCapacity is wrong for transactions: it reports 4 units per KB and merges
 * items, so it is not asked for). The local stack's counters use it (local/counters.ts).
 *
 * The rules (AWS's documentation, and the capture against real DynamoDB recorded by the dynoxide emulator):
 * - An item's size is the sum of its attribute names and values: a string's UTF-8 bytes, a number 1 byte
 *   plus 1 per two significant digits, 1 byte for a boolean or null, a list 3 bytes plus 1 per element, a
 *   map 3 bytes plus each entry's name and 1 byte, a set its members.
 * - A write costs 1 WRU per started KB of the larger of the item before and after it, 2 in a transaction
 *   (a ConditionCheck counts as a write of the item it checks).
 * - Each GSI whose stored entry changes costs 1 WRU per started KB of the larger entry, 2 entries when the
 *   index key moves, never doubled by a transaction. Every GSI of the table projects ALL, so an entry is
 *   the whole item of an item that has both of the index's keys.
 * - A read costs 1 RRU per started 4 KB (a Query: of all the items together), ½ when eventually
 *   consistent, 2 in a transaction; a read that finds nothing still costs the minimum.
 *
 * The item before a write is learnt without changing what the caller sees: a single-item write is sent
 * with ReturnValues (ALL_OLD, or ALL_NEW for an update) when the caller asked for none, and the answer's
 * `Attributes` are removed again. A transaction cannot return them, so the images of the items the client
 * wrote or read are kept in a bounded ledger. A request whose units rest on an image the ledger does not
 * have (a transactional Update's result, an item from before the stack started, a filtered Query) is
 * counted, and flagged `estimated`.
 */
import { createHash } from 'node:crypto';

export interface TableShape {
  partitionKey: string;
  sortKey: string;
  indexes: readonly { partitionKey: string; sortKey: string }[];
}

export interface Units {
  readUnits: number;
  writeUnits: number;
  /** Some image the units rest on was not known (or the request failed): the figure is an estimate. */
  estimated: boolean;
}

export interface CapacityModel {
  /**
   * The table is empty and every write to it from now on goes through this model: an item the ledger has
   * not seen does not exist (the local stack checks its new table once at start).
   */
  watchFromEmpty(tableName: string): void;
  /** The request to send: the caller's, with ReturnValues added when the caller asked for none. */
  prepare(command: string, input: Record<string, unknown>): Record<string, unknown>;
  /** What a request that succeeded cost; `output` loses what `prepare` added. */
  charge(command: string, input: Record<string, unknown>, output: Record<string, unknown>): Units;
  /** What a request that failed cost (a failed condition still bills its write). */
  chargeFailure(command: string, input: Record<string, unknown>, error: unknown): Units;
}

/** What the ledger keeps of an item: enough to size a later write of it. */
interface Image {
  size: number;
  /** Of the whole item: an index entry whose item did not change costs nothing. */
  digest: string;
  /** Per GSI: the entry's key, or undefined when the item is not in that index. */
  indexKeys: (string | undefined)[];
}

const ADDED_RETURN_VALUES: Record<string, string> = {
  PutItem: 'ALL_OLD',
  DeleteItem: 'ALL_OLD',
  UpdateItem: 'ALL_NEW',
};
const ATTRIBUTE_VALUE_TYPES = new Set(['S', 'N', 'B', 'SS', 'NS', 'BS', 'M', 'L', 'NULL', 'BOOL']);

export function createCapacityModel(shape: TableShape, options: { maxImages?: number } = {}): CapacityModel {
  const maxImages = options.maxImages ?? 200_000;
  // Insertion order is recency: a write or read moves an item to the end, the first is evicted.
  // `null`: the item exists, but what it holds is not known (a transaction updated it).
  const ledger = new Map<string, Image | null>();
  const watchedFromEmpty = new Set<string>();
  let evicted = false;
  /** `undefined`: the item does not exist (any more). */
  const remember = (key: string, image: Image | null | undefined) => {
    ledger.delete(key);
    if (image === undefined) return;
    ledger.set(key, image);
    if (ledger.size > maxImages) {
      ledger.delete(ledger.keys().next().value as string);
      evicted = true;
    }
  };
  /** The item as it is now: its image, nothing (it does not exist), or not known. */
  const current = (table: unknown, key: string | undefined): { image?: Image; known: boolean } => {
    const image = key === undefined ? undefined : ledger.get(key);
    if (image) return { image, known: true };
    if (image === null) return { known: false };
    return { known: !evicted && watchedFromEmpty.has(String(table)) };
  };

  const keyOf = (table: unknown, item: unknown): string | undefined => {
    const record = item as Record<string, unknown> | undefined;
    const pk = stringOf(record?.[shape.partitionKey]);
    const sk = stringOf(record?.[shape.sortKey]);
    return pk === undefined || sk === undefined ? undefined : `${String(table)}\u0000${pk}\u0000${sk}`;
  };

  const imageOf = (item: Record<string, unknown>): Image => {
    const marshalled = isMarshalledItem(item);
    const { size, canonical } = measureItem(item, marshalled);
    return {
      size,
      digest: createHash('sha1').update(canonical).digest('base64'),
      indexKeys: shape.indexes.map((index) => {
        const pk = stringOf(item[index.partitionKey]);
        const sk = stringOf(item[index.sortKey]);
        return pk === undefined || sk === undefined ? undefined : `${pk}\u0000${sk}`;
      }),
    };
  };

  /** One item's write: the table's units (before any transactional factor) and its indexes'. */
  const writeUnits = (before: Image | undefined, after: Image | undefined) => {
    const table = Math.max(before ? wru(before.size) : 0, after ? wru(after.size) : 0, 1);
    let indexes = 0;
    for (let i = 0; i < shape.indexes.length; i++) {
      const oldKey = before?.indexKeys[i];
      const newKey = after?.indexKeys[i];
      if (oldKey === undefined && newKey === undefined) continue;
      if (oldKey === undefined) indexes += wru((after as Image).size);
      else if (newKey === undefined) indexes += wru((before as Image).size);
      else if (oldKey !== newKey) indexes += wru((before as Image).size) + wru((after as Image).size);
      else if (before?.digest !== after?.digest) {
        indexes += Math.max(wru((before as Image).size), wru((after as Image).size));
      }
    }
    return { table, indexes };
  };

  const readFactor = (input: Record<string, unknown>) => (input.ConsistentRead === true ? 1 : 0.5);

  return {
    watchFromEmpty(tableName) {
      watchedFromEmpty.add(tableName);
    },

    prepare(command, input) {
      const added = ADDED_RETURN_VALUES[command];
      if (!added || (input.ReturnValues !== undefined && input.ReturnValues !== 'NONE')) return input;
      return { ...input, ReturnValues: added };
    },

    charge(command, input, output) {
      const asked = input.ReturnValues;
      const added = ADDED_RETURN_VALUES[command];
      const returned = output.Attributes as Record<string, unknown> | undefined;
      // What prepare added is taken back: the caller gets the answer it asked for.
      if (added && (asked === undefined || asked === 'NONE')) delete output.Attributes;
      const table = input.TableName;
      switch (command) {
        case 'PutItem':
        case 'DeleteItem':
        case 'UpdateItem': {
          const key = keyOf(table, command === 'PutItem' ? input.Item : input.Key);
          const now = current(table, key);
          const plain = asked === undefined || asked === 'NONE';
          let before: Image | undefined;
          let after: Image | undefined;
          let estimated = false;
          if (command === 'UpdateItem') {
            before = now.image;
            estimated = !now.known;
            if ((plain || asked === 'ALL_NEW') && returned) after = imageOf(returned);
            else if (asked === 'UPDATED_NEW' && now.known) {
              // The caller's own view (e.g. a counter's ADD): the item grew by at most what came back.
              const base =
                before?.size ??
                measureItem(
                  input.Key as Record<string, unknown>,
                  isMarshalledItem(input.Key as Record<string, unknown>),
                ).size;
              const grown = returned ? measureItem(returned, isMarshalledItem(returned)).size : 0;
              const indexed =
                before?.indexKeys.some((key) => key !== undefined) ||
                shape.indexes.some(
                  (index) =>
                    returned?.[index.partitionKey] !== undefined || returned?.[index.sortKey] !== undefined,
                );
              // Exact while that bound stays within the same KB and no index is involved.
              estimated = indexed === true || wru(base + grown) !== wru(base);
              after = {
                size: base + grown,
                digest: `~${base + grown}`,
                indexKeys: shape.indexes.map(() => undefined),
              };
            } else {
              // Asked for another view of the item: its new size is not known.
              after = before;
              estimated = true;
            }
          } else {
            if (plain || asked === 'ALL_OLD') before = returned ? imageOf(returned) : undefined;
            else {
              before = now.image;
              estimated = !now.known;
            }
            after = command === 'PutItem' ? imageOf(input.Item as Record<string, unknown>) : undefined;
          }
          if (key !== undefined) remember(key, after);
          const { table: units, indexes } = writeUnits(before, after);
          return { readUnits: 0, writeUnits: units + indexes, estimated };
        }
        case 'BatchWriteItem': {
          let units = 0;
          let estimated = false;
          const skipped = new Set(
            batchWrites(output.UnprocessedItems).flatMap(([tableName, item]) => keyOf(tableName, item) ?? []),
          );
          for (const [tableName, item, put] of batchWrites(input.RequestItems)) {
            const key = keyOf(tableName, item);
            // Unprocessed writes are neither made nor billed.
            if (key !== undefined && skipped.has(key)) continue;
            const now = current(tableName, key);
            estimated ||= !now.known;
            const after = put ? imageOf(item) : undefined;
            if (key !== undefined) remember(key, after);
            const { table: t, indexes } = writeUnits(now.image, after);
            units += t + indexes;
          }
          return { readUnits: 0, writeUnits: units, estimated };
        }
        case 'TransactWriteItems': {
          let units = 0;
          let estimated = false;
          for (const [kind, operation] of transactActions(input.TransactItems)) {
            const key = keyOf(operation.TableName, kind === 'Put' ? operation.Item : operation.Key);
            const now = current(operation.TableName, key);
            // A Put whose condition required the item to be absent, in a transaction that committed: it was.
            const wasAbsent =
              kind === 'Put' && /attribute_not_exists\s*\(/.test(String(operation.ConditionExpression ?? ''));
            const before = wasAbsent ? undefined : now.image;
            estimated ||= !wasAbsent && !now.known;
            if (kind === 'ConditionCheck') {
              units += 2 * Math.max(before ? wru(before.size) : 0, 1);
              continue;
            }
            let after: Image | undefined;
            if (kind === 'Put') after = imageOf(operation.Item as Record<string, unknown>);
            else if (kind === 'Update') {
              // A transaction returns no item: the update's result is unknown, so it is sized as it was.
              after = before;
              estimated = true;
            }
            // An updated item still exists, but its image is no longer known.
            if (key !== undefined) remember(key, kind === 'Update' ? null : after);
            const { table: t, indexes } = writeUnits(before, after);
            units += 2 * t + indexes;
          }
          return { readUnits: 0, writeUnits: units, estimated };
        }
        case 'GetItem': {
          const item = output.Item as Record<string, unknown> | undefined;
          const key = keyOf(table, input.Key);
          const projected = input.ProjectionExpression !== undefined || input.AttributesToGet !== undefined;
          let size = item ? imageOf(item).size : 0;
          let estimated = false;
          if (projected) {
            // Billed on the whole item, which a projection does not return.
            const known = current(table, key).image;
            if (known) size = known.size;
            else estimated = item !== undefined;
          } else if (key !== undefined) remember(key, item ? imageOf(item) : undefined);
          return { readUnits: rru(size) * readFactor(input), writeUnits: 0, estimated };
        }
        case 'Query':
        case 'Scan': {
          const items = (output.Items ?? []) as Record<string, unknown>[];
          let bytes = 0;
          for (const item of items) {
            const image = imageOf(item);
            bytes += image.size;
            const key = keyOf(table, item);
            if (
              key !== undefined &&
              input.IndexName === undefined &&
              input.ProjectionExpression === undefined
            ) {
              remember(key, image);
            }
          }
          // Billed on what was evaluated: a filter or projection hides some of it from us.
          const estimated =
            input.FilterExpression !== undefined ||
            input.ProjectionExpression !== undefined ||
            input.Select !== undefined;
          return { readUnits: rru(bytes) * readFactor(input), writeUnits: 0, estimated };
        }
        case 'BatchGetItem': {
          let units = 0;
          const responses = (output.Responses ?? {}) as Record<string, Record<string, unknown>[]>;
          const requests = (input.RequestItems ?? {}) as Record<string, Record<string, unknown>>;
          for (const [tableName, items] of Object.entries(responses)) {
            const factor = readFactor(requests[tableName] ?? {});
            for (const item of items) {
              const image = imageOf(item);
              units += rru(image.size) * factor;
              const key = keyOf(tableName, item);
              if (key !== undefined && requests[tableName]?.ProjectionExpression === undefined)
                remember(key, image);
            }
          }
          return { readUnits: units, writeUnits: 0, estimated: false };
        }
        case 'TransactGetItems': {
          let units = 0;
          for (const response of (output.Responses ?? []) as { Item?: Record<string, unknown> }[]) {
            units += 2 * rru(response.Item ? imageOf(response.Item).size : 0);
          }
          return { readUnits: units, writeUnits: 0, estimated: false };
        }
        default:
          return { readUnits: 0, writeUnits: 0, estimated: true };
      }
    },

    chargeFailure(command, input) {
      // A write whose condition failed is billed on the item that is there; a cancelled transaction is
      // sized as if its writes were made. No answer says what DynamoDB charged: both are estimates.
      if (command === 'PutItem' || command === 'UpdateItem' || command === 'DeleteItem') {
        const key = keyOf(input.TableName, command === 'PutItem' ? input.Item : input.Key);
        const { image } = current(input.TableName, key);
        return { readUnits: 0, writeUnits: Math.max(image ? wru(image.size) : 0, 1), estimated: true };
      }
      if (command === 'TransactWriteItems') {
        let units = 0;
        for (const [kind, operation] of transactActions(input.TransactItems)) {
          const key = keyOf(operation.TableName, kind === 'Put' ? operation.Item : operation.Key);
          const { image } = current(operation.TableName, key);
          const size =
            kind === 'Put' ? imageOf(operation.Item as Record<string, unknown>).size : (image?.size ?? 0);
          units += 2 * wru(size);
        }
        return { readUnits: 0, writeUnits: units, estimated: true };
      }
      return { readUnits: 0, writeUnits: 0, estimated: true };
    },
  };
}

type Operation = Record<string, unknown>;

/** A transaction's actions as [kind, operation]: Put, Update, Delete or ConditionCheck. */
function transactActions(items: unknown): [string, Operation][] {
  return ((items ?? []) as Record<string, Operation | undefined>[]).flatMap((action) => {
    const entry = Object.entries(action).find(([, operation]) => operation !== undefined);
    return entry ? [entry as [string, Operation]] : [];
  });
}

/** A batch's writes as [table, item or key, is a put]. */
function batchWrites(requestItems: unknown): [string, Record<string, unknown>, boolean][] {
  const writes: [string, Record<string, unknown>, boolean][] = [];
  for (const [tableName, requests] of Object.entries((requestItems ?? {}) as Record<string, unknown[]>)) {
    for (const request of requests as Record<string, Record<string, Record<string, unknown>> | undefined>[]) {
      if (request.PutRequest?.Item) writes.push([tableName, request.PutRequest.Item, true]);
      else if (request.DeleteRequest?.Key) writes.push([tableName, request.DeleteRequest.Key, false]);
    }
  }
  return writes;
}

function wru(size: number): number {
  return Math.max(1, Math.ceil(size / 1024));
}

function rru(size: number): number {
  return Math.max(1, Math.ceil(size / 4096));
}

/** A key attribute's string, from the document client's plain form or the low-level `{ S: … }` form. */
export function stringOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { S?: unknown }).S === 'string') {
    return (value as { S: string }).S;
  }
  return undefined;
}

function isAttributeValue(value: unknown): boolean {
  if (!value || typeof value !== 'object' || Array.isArray(value) || value instanceof Set) return false;
  if (ArrayBuffer.isView(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && ATTRIBUTE_VALUE_TYPES.has(keys[0] as string);
}

/** The low-level client's items hold AttributeValues; the document client's hold plain values (PK a string). */
export function isMarshalledItem(item: Record<string, unknown>): boolean {
  return Object.values(item).every(isAttributeValue);
}

/** An item's size in DynamoDB's accounting, and a canonical text of it (to tell changed from unchanged). */
export function measureItem(
  item: Record<string, unknown>,
  marshalled: boolean,
): { size: number; canonical: string } {
  let size = 0;
  const parts: string[] = [];
  for (const name of Object.keys(item).sort()) {
    const measured = marshalled ? measureAttributeValue(item[name]) : measurePlain(item[name]);
    if (!measured) continue;
    size += utf8(name) + measured.size;
    parts.push(`${JSON.stringify(name)}:${measured.canonical}`);
  }
  return { size, canonical: `{${parts.join(',')}}` };
}

type Measured = { size: number; canonical: string } | undefined;

function measureList(values: unknown[], measure: (value: unknown) => Measured): Measured {
  let size = 3;
  const parts: string[] = [];
  for (const value of values) {
    const measured = measure(value);
    if (!measured) continue;
    size += 1 + measured.size;
    parts.push(measured.canonical);
  }
  return { size, canonical: `L[${parts.join(',')}]` };
}

function measureMap(map: Record<string, unknown>, measure: (value: unknown) => Measured): Measured {
  let size = 3;
  const parts: string[] = [];
  for (const name of Object.keys(map).sort()) {
    const measured = measure(map[name]);
    if (!measured) continue;
    size += utf8(name) + 1 + measured.size;
    parts.push(`${JSON.stringify(name)}:${measured.canonical}`);
  }
  return { size, canonical: `M{${parts.join(',')}}` };
}

function measureSet(
  members: string[],
  kind: 'SS' | 'NS' | 'BS',
  sizeOf: (member: string) => number,
): Measured {
  const sorted = [...members].sort();
  return {
    size: sorted.reduce((sum, member) => sum + sizeOf(member), 0),
    canonical: `${kind}${JSON.stringify(sorted)}`,
  };
}

function measureAttributeValue(value: unknown): Measured {
  const av = value as Record<string, unknown>;
  if (typeof av?.S === 'string') return { size: utf8(av.S), canonical: `S${JSON.stringify(av.S)}` };
  if (typeof av?.N === 'string') return { size: numberSize(av.N), canonical: `N${normalNumber(av.N)}` };
  if (av?.B instanceof Uint8Array)
    return { size: av.B.byteLength, canonical: `B${Buffer.from(av.B).toString('base64')}` };
  if (typeof av?.BOOL === 'boolean') return { size: 1, canonical: `BOOL${av.BOOL}` };
  if (av?.NULL !== undefined) return { size: 1, canonical: 'NULL' };
  if (Array.isArray(av?.SS)) return measureSet(av.SS as string[], 'SS', utf8);
  if (Array.isArray(av?.NS)) return measureSet(av.NS as string[], 'NS', numberSize);
  if (Array.isArray(av?.BS)) {
    const members = (av.BS as Uint8Array[]).map((b) => Buffer.from(b).toString('base64'));
    return measureSet(members, 'BS', (member) => Buffer.from(member, 'base64').byteLength);
  }
  if (Array.isArray(av?.L)) return measureList(av.L as unknown[], measureAttributeValue);
  if (av?.M && typeof av.M === 'object')
    return measureMap(av.M as Record<string, unknown>, measureAttributeValue);
  return undefined;
}

/** The document client's plain values, as its marshaller would send them (undefined is left out). */
function measurePlain(value: unknown): Measured {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return { size: utf8(value), canonical: `S${JSON.stringify(value)}` };
  if (typeof value === 'number' || typeof value === 'bigint') {
    return { size: numberSize(String(value)), canonical: `N${normalNumber(String(value))}` };
  }
  if (typeof value === 'boolean') return { size: 1, canonical: `BOOL${value}` };
  if (value === null) return { size: 1, canonical: 'NULL' };
  if (ArrayBuffer.isView(value)) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return { size: bytes.byteLength, canonical: `B${bytes.toString('base64')}` };
  }
  if (value instanceof Set) {
    const members = [...value];
    if (members.every((member) => typeof member === 'string'))
      return measureSet(members as string[], 'SS', utf8);
    if (members.every((member) => typeof member === 'number' || typeof member === 'bigint')) {
      return measureSet(members.map(String), 'NS', numberSize);
    }
    return undefined;
  }
  if (Array.isArray(value)) return measureList(value, measurePlain);
  if (typeof value === 'object') {
    // lib-dynamodb's NumberValue carries a number as its exact text.
    if (value.constructor?.name === 'NumberValue') {
      const text = String(value);
      return { size: numberSize(text), canonical: `N${normalNumber(text)}` };
    }
    return measureMap(value as Record<string, unknown>, measurePlain);
  }
  return undefined;
}

function utf8(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The significant digits of a number, and how many of them come before the decimal point. */
function digitsOf(text: string): { digits: string; integer: number; negative: boolean } {
  const trimmed = text.trim();
  const negative = trimmed.startsWith('-');
  const unsigned = trimmed.replace(/^[-+]/, '');
  const [coefficient = '', exponentText] = unsigned.toLowerCase().split('e');
  const [integerPart = '', fractionPart = ''] = coefficient.split('.');
  const all = `${integerPart}${fractionPart}`;
  const leading = all.length - all.replace(/^0+/, '').length;
  const digits = all.replace(/^0+/, '').replace(/0+$/, '');
  const integer = integerPart.length - leading + Number(exponentText ?? 0);
  return { digits, integer, negative };
}

/** 1 byte, plus 1 per two significant digits on each side of the point, plus 1 for a minus sign. */
function numberSize(text: string): number {
  const { digits, integer, negative } = digitsOf(text);
  if (digits.length === 0) return 1;
  const integerDigits = Math.min(Math.max(integer, 0), digits.length);
  const fractionDigits = digits.length - integerDigits;
  return Math.ceil(integerDigits / 2) + Math.ceil(fractionDigits / 2) + 1 + (negative ? 1 : 0);
}

function normalNumber(text: string): string {
  const { digits, integer, negative } = digitsOf(text);
  return digits.length === 0 ? '0' : `${negative ? '-' : ''}0.${digits}e${integer}`;
}
