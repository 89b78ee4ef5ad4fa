/** The refund store on the single table: refunds beside their payment, each change one transaction with it. */

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { StaleWriteError } from '../core/errors.js';
import type { Change } from '../core/payment.js';
import type { Refund, RefundStatus } from '../core/refund.js';
import type { RefundRepository } from '../core/repository.js';
import { pointsChangeItems } from './dynamo-points.js';
import {
  auditItem,
  isConditionFailure,
  isTransactionConflict,
  keys,
  paymentItem,
  refundItem,
  strip,
  TableKit,
} from './dynamo-table-kit.js';

export class DynamoRefunds extends TableKit implements RefundRepository {
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
    // A refund that gives points back carries the ledger's items (its marker keeps it once).
    const points = change.points ? pointsChangeItems(this.tableName, change.points).items : [];
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            ...points,
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
}
