import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DueItem, ReconciliationIndex } from '../core/repository.js';
import { dueItemOf, TableKit } from './dynamo-table-kit.js';
import { DUE_SHARDS } from './table-design.js';

export class DynamoDueIndex extends TableKit implements ReconciliationIndex {
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
}
