/**
 * DynamoDB single-table adapter: payments, attempts, audit entries, idempotency keys and API keys.
 * Every payment change is one TransactWriteItems conditioned on the version it was computed from.
 * Key design: docs/data-model.md.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { IdempotencyInFlightError, IdempotencyMismatchError, StaleWriteError } from '../core/errors.js';
import type { Attempt, AuditEntry, Change, Payment } from '../core/payment.js';
import type {
  HeldKey,
  IdempotencyOutcome,
  IdempotencyStore,
  KeyClaim,
  Merchant,
  MerchantDirectory,
  StoredResponse,
} from '../core/ports.js';
import {
  bangkokDay,
  DEFAULT_SWEEP_POLICY,
  paymentDueAt,
  refundDueAt,
  type SweepPolicy,
} from '../core/reconciliation.js';
import { type Refund, type RefundStatus, refundableAmount } from '../core/refund.js';
import {
  type AuditPosition,
  type DueItem,
  MAX_NOTES_PER_PAYMENT,
  type PaymentPosition,
  type PaymentRepository,
  type PaymentSearch,
  type PaymentSearchQuery,
  type ReconciliationIndex,
  type ReconciliationRun,
  type ReconciliationStore,
  type RefundRepository,
} from '../core/repository.js';
import { DUE_SHARDS } from './table-design.js';

/** How long a request may hold an Idempotency-Key before a retry may take over (its holder crashed). */
export const IDEMPOTENCY_LOCK_MS = 30_000;
/** Keys are kept 32 days: longer than any client's retry window and KBank's settlement cycle. */
export const IDEMPOTENCY_TTL_SECONDS = 32 * 24 * 3600;

const pad = (n: number, width: number) => n.toString().padStart(width, '0');

export const keys = {
  payment: (id: string) => ({ PK: `PAYMENT#${id}`, SK: 'PAYMENT' }),
  attempt: (paymentId: string, no: number) => ({ PK: `PAYMENT#${paymentId}`, SK: `ATTEMPT#${pad(no, 4)}` }),
  audit: (paymentId: string, seq: number, noteId?: string) => ({
    PK: `PAYMENT#${paymentId}`,
    SK: `AUDIT#${pad(seq, 8)}${noteId ? `#${noteId}` : ''}`,
  }),
  /** The per-payment note counter (how many notes were offered: the first MAX_NOTES_PER_PAYMENT are kept). */
  notes: (paymentId: string) => ({ PK: `PAYMENT#${paymentId}`, SK: 'NOTES' }),
  marker: (paymentId: string, marker: string) => ({ PK: `PAYMENT#${paymentId}`, SK: `MARKER#${marker}` }),
  reconciliationRun: (date: string, runId: string) => ({ PK: `RECONCILIATION#${date}`, SK: `RUN#${runId}` }),
  idempotency: (scope: string, key: string) => ({ PK: `IDEMPOTENCY#${scope}#${key}`, SK: 'IDEMPOTENCY' }),
  apiKey: (hash: string) => ({ PK: `APIKEY#${hash}`, SK: 'APIKEY' }),
  refund: (paymentId: string, refundId: string) => ({ PK: `PAYMENT#${paymentId}`, SK: `REFUND#${refundId}` }),
};

/** An Idempotency-Key written already completed, with its answer (payment creation claims it so). */
function completedKeyItem(claim: KeyClaim, resourceId: string): Record<string, unknown> {
  return {
    ...keys.idempotency(claim.scope, claim.key),
    entity: 'idempotency',
    state: 'completed',
    fingerprint: claim.fingerprint,
    resourceId,
    response: claim.response,
    createdAt: claim.now.toISOString(),
    completedAt: claim.now.toISOString(),
    expiresAt: Math.floor(claim.now.getTime() / 1000) + IDEMPOTENCY_TTL_SECONDS,
  };
}

/** Which DUE# partition an open item lives in: a stable hash of its payment id. */
export function dueShard(paymentId: string): number {
  let hash = 0;
  for (const char of paymentId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % DUE_SHARDS;
}

/** The sparse GSI3 attributes: open items by deadline, unresolved ones by when they were given up. */
function dueIndex(paymentId: string, target: string, dueAt: string | null, unresolvedAt?: string) {
  if (unresolvedAt) return { GSI3PK: 'UNRESOLVED', GSI3SK: `${unresolvedAt}#${target}` };
  if (dueAt) return { GSI3PK: `DUE#${dueShard(paymentId)}`, GSI3SK: `${dueAt}#${target}` };
  return {};
}

function paymentItem(payment: Payment, policy: SweepPolicy) {
  return {
    ...keys.payment(payment.id),
    GSI1PK: `MERCHANT#${payment.merchantId}`,
    GSI1SK: `${payment.createdAt}#${payment.id}`,
    ...dueIndex(
      payment.id,
      `PAYMENT#${payment.id}`,
      paymentDueAt(payment, policy),
      payment.reconciliation?.unresolvedAt,
    ),
    entity: 'payment',
    ...payment,
    // Derived, stored only so a refund reservation can be conditioned on it (commitRefund): DynamoDB
    // conditions cannot subtract, so captured − refunded − reserved is kept as one number.
    amountRefundable: refundableAmount(payment),
  };
}

function refundItem(refund: Refund, policy: SweepPolicy) {
  return {
    ...keys.refund(refund.paymentId, refund.id),
    ...dueIndex(
      refund.paymentId,
      `REFUND#${refund.paymentId}#${refund.id}`,
      refundDueAt(refund, policy),
      refund.reconciliation?.unresolvedAt,
    ),
    entity: 'refund',
    ...refund,
  };
}

function auditItem(entry: AuditEntry) {
  return { ...keys.audit(entry.paymentId, entry.seq, entry.noteId), entity: 'audit', ...entry };
}

function attemptItem(attempt: Attempt) {
  return {
    ...keys.attempt(attempt.paymentId, attempt.no),
    // GSI1 overloaded: the attempts of one KBank business day, for the daily reconciliation (pattern 13).
    GSI1PK: `KBANKDAY#${bangkokDay(attempt.createdAt)}`,
    GSI1SK: `${attempt.paymentId}#${pad(attempt.no, 4)}`,
    ...(attempt.chargeId
      ? { GSI2PK: `CHARGE#${attempt.chargeId}`, GSI2SK: `PAYMENT#${attempt.paymentId}` }
      : {}),
    entity: 'attempt',
    ...attempt,
  };
}

/** Strips the table's own attributes, leaving the domain object. */
function strip<T>(item: Record<string, unknown>): T {
  const {
    PK,
    SK,
    GSI1PK,
    GSI1SK,
    GSI2PK,
    GSI2SK,
    GSI3PK,
    GSI3SK,
    entity,
    expiresAt,
    amountRefundable,
    ...rest
  } = item;
  return rest as T;
}

export function createDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/**
 * How much one search request may read when a status filter discards payments: at most `maxRounds`
 * Queries of `batchSize` index entries each (1,000 payments ≈ 1.5 MB by default), then it answers with
 * what it found and a cursor to continue from.
 */
export interface SearchBudget {
  maxRounds: number;
  batchSize: number;
}
export const DEFAULT_SEARCH_BUDGET: SearchBudget = { maxRounds: 4, batchSize: 250 };

export class DynamoPaymentRepository
  implements
    PaymentRepository,
    PaymentSearch,
    RefundRepository,
    ReconciliationIndex,
    ReconciliationStore,
    IdempotencyStore,
    MerchantDirectory
{
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly searchBudget: SearchBudget = DEFAULT_SEARCH_BUDGET,
    /** Decides each open item's deadline in the sweep's index. */
    private readonly sweepPolicy: SweepPolicy = DEFAULT_SWEEP_POLICY,
  ) {}

  async create(payment: Payment, audit: AuditEntry, claim?: KeyClaim): Promise<boolean> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: paymentItem(payment, this.sweepPolicy),
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: auditItem(audit),
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
            ...(claim
              ? [
                  {
                    Put: {
                      TableName: this.tableName,
                      Item: completedKeyItem(claim, payment.id),
                      ConditionExpression: 'attribute_not_exists(PK)',
                    },
                  },
                ]
              : []),
          ],
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async get(paymentId: string): Promise<Payment | null> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.payment(paymentId), ConsistentRead: true }),
    );
    return Item ? strip<Payment>(Item) : null;
  }

  async commit(change: Change, attempt?: Attempt): Promise<void> {
    const { previous, next, audit } = change;
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: paymentItem(next, this.sweepPolicy),
                ConditionExpression: '#seq = :seq AND #status = :status',
                ExpressionAttributeNames: { '#seq': 'seq', '#status': 'status' },
                ExpressionAttributeValues: { ':seq': previous.seq, ':status': previous.status },
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: auditItem(audit),
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
            ...(attempt ? [{ Put: { TableName: this.tableName, Item: attemptItem(attempt) } }] : []),
          ],
        }),
      );
    } catch (error) {
      if (isConditionFailure(error) || isTransactionConflict(error)) {
        throw new StaleWriteError('The payment was changed by another writer.');
      }
      throw error;
    }
  }

  async getAttempt(paymentId: string, no: number): Promise<Attempt | null> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.attempt(paymentId, no), ConsistentRead: true }),
    );
    return Item ? strip<Attempt>(Item) : null;
  }

  async listAudit(
    paymentId: string,
    page: { limit: number; after?: number | AuditPosition },
  ): Promise<{ entries: AuditEntry[]; hasMore: boolean }> {
    const after = typeof page.after === 'number' ? { seq: page.after } : page.after;
    // Strictly after the position's key: `!` sorts below `#` and every id character, so `<key>!` is below
    // every key that extends `<key>` (its notes) and above `<key>` itself.
    const from = after ? `${keys.audit(paymentId, after.seq, after.noteId).SK}!` : 'AUDIT#';
    const { items, hasMore } = await this.paymentPage<AuditEntry>(paymentId, page.limit, {
      condition: 'SK BETWEEN :from AND :to',
      values: { ':from': from, ':to': 'AUDIT#~' },
    });
    return { entries: items, hasMore };
  }

  /**
   * One page of a payment's items (PK = PAYMENT#id and `condition` on SK), in key order, read
   * consistently: one item more than the limit is read, so whether there are more needs no second query.
   */
  private async paymentPage<T>(
    paymentId: string,
    limit: number,
    query: { condition: string; values: Record<string, unknown>; startKey?: Record<string, unknown> },
  ): Promise<{ items: T[]; hasMore: boolean }> {
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: `PK = :pk AND ${query.condition}`,
        ExpressionAttributeValues: { ':pk': keys.payment(paymentId).PK, ...query.values },
        ...(query.startKey ? { ExclusiveStartKey: query.startKey } : {}),
        Limit: limit + 1,
        ConsistentRead: true,
      }),
    );
    return { items: Items.slice(0, limit).map((item) => strip<T>(item)), hasMore: Items.length > limit };
  }

  async appendNote(entry: AuditEntry & { noteId: string }): Promise<boolean> {
    // The counter is its own item, bumped with a plain ADD (no condition, no transaction): concurrent notes
    // serialize on it without failing, and nothing here touches the payment item or its version.
    const { Attributes } = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.notes(entry.paymentId),
        UpdateExpression: 'ADD offered :one SET entity = :entity',
        ExpressionAttributeValues: { ':one': 1, ':entity': 'notes' },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    if (Number(Attributes?.offered ?? 0) > MAX_NOTES_PER_PAYMENT) return false;
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: auditItem(entry),
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
    return true;
  }

  /** How many notes were offered for a payment, and how many of them were only counted. */
  async noteCounts(paymentId: string): Promise<{ offered: number; dropped: number }> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.notes(paymentId), ConsistentRead: true }),
    );
    const offered = Number(Item?.offered ?? 0);
    return { offered, dropped: Math.max(0, offered - MAX_NOTES_PER_PAYMENT) };
  }

  async claimMarker(paymentId: string, marker: string, at: string): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.marker(paymentId, marker), entity: 'marker', at },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async hasMarker(paymentId: string, marker: string): Promise<boolean> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.marker(paymentId, marker),
        ConsistentRead: true,
      }),
    );
    return Item !== undefined;
  }

  async saveRun(run: ReconciliationRun): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.reconciliationRun(run.date, run.id), entity: 'reconciliation_run', ...run },
      }),
    );
  }

  async listRuns(date: string): Promise<ReconciliationRun[]> {
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :run)',
        ExpressionAttributeValues: { ':pk': keys.reconciliationRun(date, '').PK, ':run': 'RUN#' },
      }),
    );
    return Items.map((item) => strip<ReconciliationRun>(item));
  }

  /** Access pattern 13: Query GSI1 `KBANKDAY#<date>`, every page. */
  async listAttemptsOfDay(date: string): Promise<Attempt[]> {
    const attempts: Attempt[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'GSI1',
          KeyConditionExpression: 'GSI1PK = :day',
          ExpressionAttributeValues: { ':day': `KBANKDAY#${date}` },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      attempts.push(...(page.Items ?? []).map((item) => strip<Attempt>(item)));
      start = page.LastEvaluatedKey;
    } while (start);
    return attempts;
  }

  /** Access pattern 10: Query GSI3 `DUE#<shard>` with `GSI3SK < <before>` on every shard, merged. */
  async listDue(before: string, limit: number): Promise<DueItem[]> {
    const shards = await Promise.all(
      Array.from({ length: DUE_SHARDS }, (_, shard) =>
        this.queryGsi3(`DUE#${shard}`, limit, { op: '<', value: before }),
      ),
    );
    return shards
      .flat()
      .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
      .slice(0, limit);
  }

  /** Access pattern 11: Query GSI3 `UNRESOLVED`, oldest first. */
  async listUnresolved(limit: number): Promise<DueItem[]> {
    return this.queryGsi3('UNRESOLVED', limit);
  }

  async markDue(paymentId: string, at: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.payment(paymentId),
          UpdateExpression: 'SET GSI3SK = :sk',
          // Only an open payment is in the due index; its next version recomputes the deadline anyway.
          ConditionExpression: 'begins_with(GSI3PK, :due)',
          ExpressionAttributeValues: { ':sk': `${at}#PAYMENT#${paymentId}`, ':due': 'DUE#' },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private async queryGsi3(
    partition: string,
    limit: number,
    range?: { op: '<'; value: string },
  ): Promise<DueItem[]> {
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'GSI3',
        KeyConditionExpression: `GSI3PK = :pk${range ? ` AND GSI3SK ${range.op} :bound` : ''}`,
        ExpressionAttributeValues: { ':pk': partition, ...(range ? { ':bound': range.value } : {}) },
        ProjectionExpression: 'GSI3SK',
        Limit: limit,
      }),
    );
    return Items.map((item) => dueItemOf(String(item.GSI3SK)));
  }

  /**
   * Access pattern 5: Query GSI1 `MERCHANT#<id>`, newest first, the created range as the key condition and
   * the statuses as a filter. Filtered pages come back short, so it keeps querying until it has one more
   * payment than asked (to know there is more) or the index or the budget runs out. The position to
   * continue from is the last payment returned, never DynamoDB's LastEvaluatedKey, which may lie past
   * payments read but not returned.
   */
  async searchPayments(
    query: PaymentSearchQuery,
  ): Promise<{ payments: Payment[]; next: PaymentPosition | null }> {
    const after = query.after ? `${query.after.createdAt}#${query.after.paymentId}` : undefined;
    // Both upper bounds are exclusive: created_lt is a bare instant (no GSI1SK equals it) and the
    // cursor's payment was already returned.
    const upper =
      query.createdLt !== undefined && after !== undefined
        ? minString(query.createdLt, after)
        : (query.createdLt ?? after);
    const lower = query.createdGte;
    if (lower !== undefined && upper !== undefined && lower >= upper) return { payments: [], next: null };

    const values: Record<string, unknown> = { ':pk': `MERCHANT#${query.merchantId}` };
    let range = '';
    if (lower !== undefined && upper !== undefined) {
      // BETWEEN is inclusive: the payment at `upper` (the cursor's) is dropped below.
      range = ' AND GSI1SK BETWEEN :lower AND :upper';
      values[':lower'] = lower;
      values[':upper'] = upper;
    } else if (upper !== undefined) {
      range = ' AND GSI1SK < :upper';
      values[':upper'] = upper;
    } else if (lower !== undefined) {
      range = ' AND GSI1SK >= :lower';
      values[':lower'] = lower;
    }
    const statuses = [...new Set(query.statuses ?? [])];
    statuses.forEach((status, i) => {
      values[`:s${i}`] = status;
    });
    const filter =
      statuses.length > 0
        ? {
            FilterExpression: `#status IN (${statuses.map((_, i) => `:s${i}`).join(', ')})`,
            ExpressionAttributeNames: { '#status': 'status' },
          }
        : {};

    const found: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    for (let round = 0; round < this.searchBudget.maxRounds; round++) {
      const wanted = query.limit + 1 - found.length;
      const { Items = [], LastEvaluatedKey } = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'GSI1',
          KeyConditionExpression: `GSI1PK = :pk${range}`,
          ...filter,
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          // Limit counts entries read before the filter: read wider batches when the filter discards some.
          Limit: statuses.length > 0 ? Math.max(wanted, this.searchBudget.batchSize) : wanted,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      found.push(...Items.filter((item) => item.GSI1SK !== upper));
      start = LastEvaluatedKey;
      if (found.length > query.limit || !start) break;
    }

    const payments = found.slice(0, query.limit).map((item) => strip<Payment>(item));
    const last = payments.at(-1);
    if (found.length > query.limit && last) {
      return { payments, next: { createdAt: last.createdAt, paymentId: last.id } };
    }
    if (!start) return { payments, next: null };
    // Budget spent before a full page: every entry up to LastEvaluatedKey was returned or did not match,
    // so continuing after it skips nothing.
    return { payments, next: positionOf(String(start.GSI1SK)) };
  }

  async commitRefund(
    change: Change,
    refund: { next: Refund; previousStatus: RefundStatus | null; reserve?: number },
  ): Promise<void> {
    const { previous, next, audit } = change;
    const paymentValues: Record<string, unknown> = { ':seq': previous.seq, ':status': previous.status };
    let paymentCondition = '#seq = :seq AND #status = :status';
    if (refund.reserve !== undefined) {
      // The invariant Σ refunds ≤ captured, stated to the database: the stored version must still have
      // the reserved amount refundable. Payments stored before refunds existed have no amountRefundable
      // and no refunds either, so their captured amount is what is refundable.
      paymentCondition +=
        ' AND (amountRefundable >= :reserve OR (attribute_not_exists(amountRefundable) AND amountCaptured >= :reserve))';
      paymentValues[':reserve'] = refund.reserve;
    }
    const refundCondition =
      refund.previousStatus === null
        ? { ConditionExpression: 'attribute_not_exists(PK)' }
        : {
            ConditionExpression: '#status = :previous',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':previous': refund.previousStatus },
          };
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: paymentItem(next, this.sweepPolicy),
                ConditionExpression: paymentCondition,
                ExpressionAttributeNames: { '#seq': 'seq', '#status': 'status' },
                ExpressionAttributeValues: paymentValues,
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: auditItem(audit),
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: refundItem(refund.next, this.sweepPolicy),
                ...refundCondition,
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (isConditionFailure(error) || isTransactionConflict(error)) {
        throw new StaleWriteError(
          `payment ${previous.id} or refund ${refund.next.id} changed since it was read`,
        );
      }
      throw error;
    }
  }

  async updateRefund(next: Refund, previous: Refund): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: refundItem(next, this.sweepPolicy),
          ConditionExpression: '#status = :status AND kbankCalls = :calls',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':status': previous.status, ':calls': previous.kbankCalls },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new StaleWriteError(`refund ${previous.id} changed since it was read`);
      }
      throw error;
    }
  }

  async getRefund(paymentId: string, refundId: string): Promise<Refund | null> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.refund(paymentId, refundId),
        ConsistentRead: true,
      }),
    );
    return Item ? strip<Refund>(Item) : null;
  }

  /** Query `PK = PAYMENT#id AND begins_with(SK, REFUND#)`: refund ids are ULIDs, so oldest first. */
  async listRefunds(
    paymentId: string,
    page: { limit: number; after?: string },
  ): Promise<{ refunds: Refund[]; hasMore: boolean }> {
    const { items, hasMore } = await this.paymentPage<Refund>(paymentId, page.limit, {
      condition: 'begins_with(SK, :prefix)',
      values: { ':prefix': 'REFUND#' },
      ...(page.after ? { startKey: keys.refund(paymentId, page.after) } : {}),
    });
    return { refunds: items, hasMore };
  }

  async reserve(request: {
    scope: string;
    key: string;
    fingerprint: string;
    resourceId: string;
    now: Date;
  }): Promise<IdempotencyOutcome> {
    const Key = keys.idempotency(request.scope, request.key);
    const now = request.now.getTime();
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...Key,
            entity: 'idempotency',
            state: 'in_flight',
            fingerprint: request.fingerprint,
            resourceId: request.resourceId,
            lockedUntil: now + IDEMPOTENCY_LOCK_MS,
            createdAt: request.now.toISOString(),
            expiresAt: Math.floor(now / 1000) + IDEMPOTENCY_TTL_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
      return { kind: 'proceed', resourceId: request.resourceId };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }

    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }),
    );
    if (!Item) throw new IdempotencyInFlightError('This Idempotency-Key is being used by another request.');
    if (Item.fingerprint !== request.fingerprint) {
      throw new IdempotencyMismatchError('This Idempotency-Key was already used with different parameters.');
    }
    const resourceId = Item.resourceId as string;
    if (Item.state === 'completed')
      return { kind: 'replay', resourceId, response: Item.response as StoredResponse };
    if ((Item.lockedUntil as number) > now) {
      throw new IdempotencyInFlightError('A request with this Idempotency-Key is still in progress.');
    }
    // Its holder crashed: take the key over, keeping the resource id it promised.
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: 'SET lockedUntil = :lock',
          ConditionExpression: '#state = :inFlight AND lockedUntil = :seen',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':lock': now + IDEMPOTENCY_LOCK_MS,
            ':inFlight': 'in_flight',
            ':seen': Item.lockedUntil,
          },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new IdempotencyInFlightError('A request with this Idempotency-Key is still in progress.');
      }
      throw error;
    }
    return { kind: 'proceed', resourceId };
  }

  async complete(request: {
    scope: string;
    key: string;
    response: StoredResponse;
    now: Date;
  }): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.idempotency(request.scope, request.key),
        UpdateExpression:
          'SET #state = :completed, #response = :response, completedAt = :at REMOVE lockedUntil',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeNames: { '#state': 'state', '#response': 'response' },
        ExpressionAttributeValues: {
          ':completed': 'completed',
          ':response': request.response,
          ':at': request.now.toISOString(),
        },
      }),
    );
  }

  async release(request: { scope: string; key: string; reservedAt: Date; now: Date }): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.idempotency(request.scope, request.key),
          // 0, not now: a retry on a machine whose clock is a little behind must not find it still locked.
          UpdateExpression: 'SET lockedUntil = :released, releasedAt = :at',
          // Only our own lock: reserve() set it to reservedAt + IDEMPOTENCY_LOCK_MS.
          ConditionExpression: '#state = :inFlight AND lockedUntil = :held',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':released': 0,
            ':at': request.now.toISOString(),
            ':inFlight': 'in_flight',
            ':held': request.reservedAt.getTime() + IDEMPOTENCY_LOCK_MS,
          },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async find(request: { scope: string; key: string }): Promise<HeldKey | null> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.idempotency(request.scope, request.key),
        ConsistentRead: true,
      }),
    );
    if (!Item) return null;
    return {
      fingerprint: Item.fingerprint as string,
      resourceId: Item.resourceId as string,
      ...(Item.state === 'completed' ? { response: Item.response as StoredResponse } : {}),
    };
  }

  async findByApiKeyHash(keyHash: string): Promise<Merchant | null> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.apiKey(keyHash) }),
    );
    return Item ? { id: Item.merchantId as string, name: Item.merchantName as string } : null;
  }

  /** Registers an API key (by its hash) for a merchant. Used by onboarding and the local stack's seed. */
  async putApiKey(keyHash: string, merchant: Merchant): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.apiKey(keyHash),
          entity: 'api_key',
          merchantId: merchant.id,
          merchantName: merchant.name,
        },
      }),
    );
  }
}

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof TransactionCanceledException &&
    (error.CancellationReasons ?? []).some((reason) => reason.Code === 'ConditionalCheckFailed')
  );
}

/** GSI3SK `<at>#PAYMENT#<paymentId>` or `<at>#REFUND#<paymentId>#<refundId>` back into an item. */
function dueItemOf(gsi3sk: string): DueItem {
  const [at = '', kind, paymentId = '', refundId] = gsi3sk.split('#');
  return kind === 'REFUND'
    ? { kind: 'refund', paymentId, ...(refundId ? { refundId } : {}), at }
    : { kind: 'payment', paymentId, at };
}

/** Key strings are ASCII, so JavaScript's order is DynamoDB's (UTF-8 bytes). */
function minString(a: string, b: string): string {
  return a < b ? a : b;
}

/** GSI1SK `<createdAt>#<paymentId>` back into a position (an ISO instant never contains `#`). */
function positionOf(gsi1sk: string): PaymentPosition {
  const split = gsi1sk.indexOf('#');
  return { createdAt: gsi1sk.slice(0, split), paymentId: gsi1sk.slice(split + 1) };
}

export function isTransactionConflict(error: unknown): boolean {
  return (
    error instanceof TransactionCanceledException &&
    (error.CancellationReasons ?? []).some((reason) => reason.Code === 'TransactionConflict')
  );
}
