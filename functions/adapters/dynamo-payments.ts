/** The payment store on the single table: the payment item, its attempts, its audit trail and notes, its markers. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { InsufficientPoints, StaleWriteError } from '../core/errors.js';
import type { Attempt, AuditEntry, Change, Payment } from '../core/payment.js';
import type { KeyClaim } from '../core/ports.js';
import { type AuditPosition, MAX_NOTES_PER_PAYMENT, type PaymentRepository } from '../core/repository.js';
import { DynamoPointsLedger, pointsChangeItems, reasons } from './dynamo-points.js';
import {
  attemptItem,
  auditItem,
  completedKeyItem,
  isConditionFailure,
  isTransactionConflict,
  keys,
  paymentItem,
  strip,
  TableKit,
} from './dynamo-table-kit.js';

export class DynamoPayments extends TableKit implements PaymentRepository {
  async create(payment: Payment, audit: AuditEntry, claim?: KeyClaim): Promise<boolean> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: this.putNew(paymentItem(payment, this.sweepPolicy)) },
            { Put: this.putNew(auditItem(audit)) },
            ...(claim ? [{ Put: this.putNew(completedKeyItem(claim, payment.id)) }] : []),
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
    // A change that moves the customer's points carries the ledger's items, right after the payment's.
    const points = change.points ? pointsChangeItems(this.tableName, change.points) : null;
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
            ...(points?.items ?? []),
            // The change's audit entry and the notes written with it (Change.notes), each once.
            ...[audit, ...(change.notes ?? [])].map((entry) => ({ Put: this.putNew(auditItem(entry)) })),
            ...(attempt ? [{ Put: { TableName: this.tableName, Item: attemptItem(attempt) } }] : []),
          ],
        }),
      );
    } catch (error) {
      const failed = reasons(error);
      if (change.points && points?.balanceAt != null && !failed[0] && failed[1 + points.balanceAt]) {
        const { customerId, points: needed } = change.points.entry;
        const balance = await new DynamoPointsLedger(this.db, this.tableName).balance(
          next.merchantId,
          customerId,
        );
        const available = balance?.available ?? 0;
        throw new InsufficientPoints(
          `customer ${customerId} has ${available} points available, ${needed} needed`,
          available,
        );
      }
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
    await this.db.send(new PutCommand(this.putNew(auditItem(entry))));
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
        new PutCommand(this.putNew({ ...keys.marker(paymentId, marker), entity: 'marker', at })),
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
}
