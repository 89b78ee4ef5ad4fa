/**
 * Settlements on the single table: one item per merchant, day and currency (the totals), its lines in a
 * partition of their own, and a marker per booked event beside its payment. Booking is one transaction
 * conditioned on the marker not existing and the settlement not being closed, so an event counts once and
 * a closed day's totals never move. Key design: docs/data-model.md ("Settlements").
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Currency } from '../core/money.js';
import type {
  BookingOutcome,
  LinePosition,
  Settlement,
  SettlementLine,
  SettlementPosition,
  SettlementQuery,
  SettlementStatus,
  SettlementStore,
} from '../core/settlements.js';
import { totalsOf } from '../core/settlements.js';
import { keys } from './dynamo-repository.js';

/** GSI3 partitions of settlements waiting for the close: open ones by the end of their day, then closed ones whose event is not out. */
export const SETTLEMENT_INDEX = { open: 'SETTLEMENTS_OPEN', unpublished: 'SETTLEMENTS_UNPUBLISHED' } as const;

export const settlementKeys = {
  settlement: (merchantId: string, day: string, currency: string) => ({
    PK: `SETTLEMENTS#${merchantId}`,
    SK: `DAY#${day}#${currency}`,
  }),
  line: (line: Pick<SettlementLine, 'merchantId' | 'day' | 'currency' | 'occurredAt' | 'eventId'>) => ({
    PK: linesPartition(line),
    SK: `LINE#${line.occurredAt}#${line.eventId}`,
  }),
  /** Beside the payment, like its other one-time markers: the event was booked (on some day). */
  booked: (paymentId: string, eventId: string) => keys.marker(paymentId, `settlement:${eventId}`),
};

function linesPartition(of: { merchantId: string; day: string; currency: string }): string {
  return `SETTLEMENT#${of.merchantId}#${of.day}#${of.currency}`;
}

function indexSortKey(settlement: { periodEnd: string; merchantId: string; day: string; currency: string }) {
  return `${settlement.periodEnd}#${settlement.merchantId}#${settlement.day}#${settlement.currency}`;
}

/** A booking that lost a race for the settlement item is tried again this many times before it is left to the queue. */
const CONFLICT_RETRIES = 5;
/** Query rounds a filtered list may take before it answers with a cursor. */
const LIST_ROUNDS = 10;

export class DynamoSettlementStore implements SettlementStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Waits between conflict retries; tests may pass a no-op. */
    private readonly pause: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  async book(line: SettlementLine, period: { start: string; end: string }): Promise<BookingOutcome> {
    const settlementKey = settlementKeys.settlement(line.merchantId, line.day, line.currency);
    const lineKey = settlementKeys.line(line);
    const add = totalsOf(line);
    const command = new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            TableName: this.tableName,
            Item: {
              ...settlementKeys.booked(line.paymentId, line.eventId),
              settlementId: line.settlementId,
              lineSK: lineKey.SK,
              at: line.recordedAt,
            },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
        {
          Put: {
            TableName: this.tableName,
            Item: { ...lineKey, entity: 'settlement_line', ...line },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
        {
          Update: {
            TableName: this.tableName,
            Key: settlementKey,
            UpdateExpression:
              'SET #id = if_not_exists(#id, :id), #entity = :entity, #merchant = if_not_exists(#merchant, :merchant), ' +
              '#day = if_not_exists(#day, :day), #currency = if_not_exists(#currency, :currency), ' +
              '#status = if_not_exists(#status, :open), #start = if_not_exists(#start, :start), ' +
              '#end = if_not_exists(#end, :end), #created = if_not_exists(#created, :now), #updated = :now, ' +
              'GSI3PK = :index, GSI3SK = :indexSk ' +
              'ADD grossCaptured :gross, refunds :refunds, fees :fees, netPayable :net, ' +
              'captureCount :captures, refundCount :refundCount, lineCount :lines',
            ConditionExpression: 'attribute_not_exists(PK) OR #status = :open',
            ExpressionAttributeNames: {
              '#id': 'id',
              '#entity': 'entity',
              '#merchant': 'merchantId',
              '#day': 'day',
              '#currency': 'currency',
              '#status': 'status',
              '#start': 'periodStart',
              '#end': 'periodEnd',
              '#created': 'createdAt',
              '#updated': 'updatedAt',
            },
            ExpressionAttributeValues: {
              ':id': line.settlementId,
              ':entity': 'settlement',
              ':merchant': line.merchantId,
              ':day': line.day,
              ':currency': line.currency,
              ':open': 'open',
              ':start': period.start,
              ':end': period.end,
              ':now': line.recordedAt,
              ':index': SETTLEMENT_INDEX.open,
              ':indexSk': indexSortKey({ ...line, periodEnd: period.end }),
              ':gross': add.grossCaptured,
              ':refunds': add.refunds,
              ':fees': add.fees,
              ':net': add.netPayable,
              ':captures': add.captureCount,
              ':refundCount': add.refundCount,
              ':lines': add.lineCount,
            },
          },
        },
      ],
    });
    for (let attempt = 0; ; attempt++) {
      try {
        await this.db.send(command);
        return { outcome: 'booked', line };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const [marker, written, settlement] = (error.CancellationReasons ?? []).map((reason) => reason.Code);
        if (marker === 'ConditionalCheckFailed' || written === 'ConditionalCheckFailed') {
          return { outcome: 'duplicate' };
        }
        if (settlement === 'ConditionalCheckFailed') return { outcome: 'closed' };
        const conflict = [marker, written, settlement].includes('TransactionConflict');
        if (!conflict || attempt >= CONFLICT_RETRIES) throw error;
        await this.pause(10 + Math.floor(Math.random() * 40 * (attempt + 1)));
      }
    }
  }

  async get(merchantId: string, day: string, currency: string): Promise<Settlement | null> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: settlementKeys.settlement(merchantId, day, currency),
        ConsistentRead: true,
      }),
    );
    return Item ? settlementOf(Item) : null;
  }

  async list(
    query: SettlementQuery,
  ): Promise<{ settlements: Settlement[]; next: SettlementPosition | null }> {
    const pk = `SETTLEMENTS#${query.merchantId}`;
    const found: Settlement[] = [];
    let start: Record<string, unknown> | undefined = query.after
      ? settlementKeys.settlement(query.merchantId, query.after.day, query.after.currency)
      : undefined;
    for (let round = 0; round < LIST_ROUNDS; round++) {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
          ...(query.status
            ? { FilterExpression: '#status = :status', ExpressionAttributeNames: { '#status': 'status' } }
            : {}),
          ExpressionAttributeValues: {
            ':pk': pk,
            ':from': `DAY#${query.fromDay ?? '0000-00-00'}`,
            // `~` sorts after every currency code: the whole `to` day is in.
            ':to': `DAY#${query.toDay ?? '9999-99-99'}#~`,
            ...(query.status ? { ':status': query.status } : {}),
          },
          ScanIndexForward: false,
          Limit: query.limit + 1 - found.length,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      found.push(...(page.Items ?? []).map(settlementOf));
      if (found.length > query.limit) {
        const settlements = found.slice(0, query.limit);
        const last = settlements.at(-1);
        return { settlements, next: last ? { day: last.day, currency: last.currency } : null };
      }
      start = page.LastEvaluatedKey;
      if (!start) return { settlements: found, next: null };
    }
    // The budget ran out with more to examine: continue from where the last query stopped.
    const [, day = '', currency = ''] = String(start?.SK ?? '').split('#');
    return { settlements: found, next: { day, currency } };
  }

  async listLines(
    settlement: Pick<Settlement, 'merchantId' | 'day' | 'currency'>,
    page: { limit: number; after?: LinePosition },
  ): Promise<{ lines: SettlementLine[]; next: LinePosition | null }> {
    const pk = linesPartition(settlement);
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :line)',
        ExpressionAttributeValues: { ':pk': pk, ':line': 'LINE#' },
        Limit: page.limit + 1,
        ConsistentRead: true,
        ...(page.after
          ? { ExclusiveStartKey: { PK: pk, SK: `LINE#${page.after.occurredAt}#${page.after.eventId}` } }
          : {}),
      }),
    );
    const lines = Items.slice(0, page.limit).map(lineOf);
    const last = lines.at(-1);
    return {
      lines,
      next: Items.length > page.limit && last ? { occurredAt: last.occurredAt, eventId: last.eventId } : null,
    };
  }

  async listClosable(endedBy: string, limit: number): Promise<Settlement[]> {
    const query = async (partition: string, bound?: string) => {
      const { Items = [] } = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'GSI3',
          KeyConditionExpression: bound ? 'GSI3PK = :pk AND GSI3SK < :bound' : 'GSI3PK = :pk',
          ExpressionAttributeValues: { ':pk': partition, ...(bound ? { ':bound': bound } : {}) },
          Limit: limit,
        }),
      );
      return Items.map(settlementOf);
    };
    // `$` sorts after `#`: every day that ended at or before `endedBy`, whatever follows its end in the key.
    const [open, unpublished] = await Promise.all([
      query(SETTLEMENT_INDEX.open, `${endedBy}$`),
      query(SETTLEMENT_INDEX.unpublished),
    ]);
    return [...unpublished, ...open].slice(0, limit);
  }

  async close(settlement: Settlement, at: string): Promise<Settlement | null> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: settlementKeys.settlement(settlement.merchantId, settlement.day, settlement.currency),
          UpdateExpression: 'SET #status = :closed, closedAt = :at, updatedAt = :at, GSI3PK = :index',
          ConditionExpression: '#status = :open',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':closed': 'closed',
            ':open': 'open',
            ':at': at,
            ':index': SETTLEMENT_INDEX.unpublished,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? settlementOf(Attributes) : null;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return null;
      throw error;
    }
  }

  async markPublished(settlement: Settlement): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: settlementKeys.settlement(settlement.merchantId, settlement.day, settlement.currency),
        UpdateExpression: 'REMOVE GSI3PK, GSI3SK',
        ConditionExpression: '#status = :closed',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':closed': 'closed' },
      }),
    );
  }
}

function settlementOf(item: Record<string, unknown>): Settlement {
  const number = (name: string) => Number(item[name] ?? 0);
  return {
    id: String(item.id),
    merchantId: String(item.merchantId),
    day: String(item.day),
    currency: item.currency as Currency,
    status: item.status as SettlementStatus,
    periodStart: String(item.periodStart),
    periodEnd: String(item.periodEnd),
    totals: {
      grossCaptured: number('grossCaptured'),
      refunds: number('refunds'),
      fees: number('fees'),
      netPayable: number('netPayable'),
      captureCount: number('captureCount'),
      refundCount: number('refundCount'),
      lineCount: number('lineCount'),
    },
    createdAt: String(item.createdAt),
    updatedAt: String(item.updatedAt),
    ...(typeof item.closedAt === 'string' ? { closedAt: item.closedAt } : {}),
  };
}

function lineOf(item: Record<string, unknown>): SettlementLine {
  const { PK: _pk, SK: _sk, entity: _entity, ...line } = item;
  return line as unknown as SettlementLine;
}
