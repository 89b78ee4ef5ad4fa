import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Payment } from '../core/payment.js';
import type { PaymentPosition, PaymentSearch, PaymentSearchQuery } from '../core/repository.js';
import { minString, positionOf, strip, TableKit } from './dynamo-table-kit.js';

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

export class DynamoPaymentSearch extends TableKit implements PaymentSearch {
  constructor(
    db: DynamoDBDocumentClient,
    tableName: string,
    private readonly searchBudget: SearchBudget = DEFAULT_SEARCH_BUDGET,
  ) {
    super(db, tableName);
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
}
