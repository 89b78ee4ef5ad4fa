import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Attempt } from '../core/payment.js';
import type { ReconciliationRun, ReconciliationStore } from '../core/repository.js';
import { keys, strip, TableKit } from './dynamo-table-kit.js';

export class DynamoReconciliationRuns extends TableKit implements ReconciliationStore {
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
}
