/**
 * The single table's kit, shared by its adapters (one per port, composed in dynamo-repository.ts): the key
 * design (docs/data-model.md), the items each entity is written as, and what every adapter needs to
 * reach the table. Every payment change is one TransactWriteItems conditioned on the version it was
 * computed from.
 */
import { type DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Attempt, AuditEntry, Payment } from '../core/payment.js';
import type { KeyClaim } from '../core/ports.js';
import {
  bangkokDay,
  DEFAULT_SWEEP_POLICY,
  paymentDueAt,
  refundDueAt,
  type SweepPolicy,
} from '../core/reconciliation.js';
import { type Refund, refundableAmount } from '../core/refund.js';
import type { DueItem, PaymentPosition } from '../core/repository.js';
import { DUE_SHARDS } from './table-design.js';

/** How long a request may hold an Idempotency-Key before a retry may take over (its holder crashed). */
export const IDEMPOTENCY_LOCK_MS = 30_000;
/** Keys are kept 32 days: longer than any client's retry window and KBank's settlement cycle. */
export const IDEMPOTENCY_TTL_SECONDS = 32 * 24 * 3600;

export const pad = (n: number, width: number) => n.toString().padStart(width, '0');

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
export function completedKeyItem(claim: KeyClaim, resourceId: string): Record<string, unknown> {
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
export function dueIndex(paymentId: string, target: string, dueAt: string | null, unresolvedAt?: string) {
  if (unresolvedAt) return { GSI3PK: 'UNRESOLVED', GSI3SK: `${unresolvedAt}#${target}` };
  if (dueAt) return { GSI3PK: `DUE#${dueShard(paymentId)}`, GSI3SK: `${dueAt}#${target}` };
  return {};
}

export function paymentItem(payment: Payment, policy: SweepPolicy) {
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

export function refundItem(refund: Refund, policy: SweepPolicy) {
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

export function auditItem(entry: AuditEntry) {
  return { ...keys.audit(entry.paymentId, entry.seq, entry.noteId), entity: 'audit', ...entry };
}

export function attemptItem(attempt: Attempt) {
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
export function strip<T>(item: Record<string, unknown>): T {
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

/** What every adapter of the table holds: the client, the table, and the sweep's deadlines of open items. */
export abstract class TableKit {
  constructor(
    protected readonly db: DynamoDBDocumentClient,
    protected readonly tableName: string,
    /** Decides each open item's deadline in the sweep's index. */
    protected readonly sweepPolicy: SweepPolicy = DEFAULT_SWEEP_POLICY,
  ) {}

  /** A put of an item that must not exist yet (audit entries, markers, new records), for a transaction too. */
  protected putNew(item: Record<string, unknown>) {
    return { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(PK)' };
  }

  /**
   * One page of a payment's items (PK = PAYMENT#id and `condition` on SK), in key order, read
   * consistently: one item more than the limit is read, so whether there are more needs no second query.
   */
  protected async paymentPage<T>(
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
}

export function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof TransactionCanceledException &&
    (error.CancellationReasons ?? []).some((reason) => reason.Code === 'ConditionalCheckFailed')
  );
}

/** GSI3SK `<at>#PAYMENT#<paymentId>` or `<at>#REFUND#<paymentId>#<refundId>` back into an item. */
export function dueItemOf(gsi3sk: string): DueItem {
  const [at = '', kind, paymentId = '', refundId] = gsi3sk.split('#');
  return kind === 'REFUND'
    ? { kind: 'refund', paymentId, ...(refundId ? { refundId } : {}), at }
    : { kind: 'payment', paymentId, at };
}

/** Key strings are ASCII, so JavaScript's order is DynamoDB's (UTF-8 bytes). */
export function minString(a: string, b: string): string {
  return a < b ? a : b;
}

/** GSI1SK `<createdAt>#<paymentId>` back into a position (an ISO instant never contains `#`). */
export function positionOf(gsi1sk: string): PaymentPosition {
  const split = gsi1sk.indexOf('#');
  return { createdAt: gsi1sk.slice(0, split), paymentId: gsi1sk.slice(split + 1) };
}

export function isTransactionConflict(error: unknown): boolean {
  return (
    error instanceof TransactionCanceledException &&
    (error.CancellationReasons ?? []).some((reason) => reason.Code === 'TransactionConflict')
  );
}
