/**
 * The storage ceiling: how many TransactWriteItems (a payment-sized put conditioned on its version plus
 * an audit put, like every saga step) DynamoDB Local completes per second on this machine.
 */
import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createTable, localDynamoClientConfig } from '../local/dynamodb-local.js';
import { percentile } from './stats.js';

export async function measureTransactWrites(endpoint: string, durationMs: number, concurrency = 32) {
  const client = new DynamoDBClient(localDynamoClientConfig(endpoint));
  const db = DynamoDBDocumentClient.from(client);
  const tableName = `ceiling-${randomUUID().slice(0, 8)}`;
  await createTable(client, tableName);
  const payload = {
    status: 'processing',
    amount: 72500,
    currency: 'THB',
    order: { id: 'o', lines: [{ sku: 'S', quantity: 1 }] },
  };
  const latencies: number[] = [];
  let done = 0;
  const end = performance.now() + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      let n = 0;
      while (performance.now() < end) {
        const id = `w${worker}-${n++}`;
        const t0 = performance.now();
        await db.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: tableName,
                  Item: { PK: `PAYMENT#${id}`, SK: 'PAYMENT', seq: 1, ...payload },
                  ConditionExpression: 'attribute_not_exists(PK)',
                },
              },
              {
                Put: {
                  TableName: tableName,
                  Item: { PK: `PAYMENT#${id}`, SK: 'AUDIT#00000001', type: 'x' },
                  ConditionExpression: 'attribute_not_exists(PK)',
                },
              },
            ],
          }),
        );
        latencies.push(performance.now() - t0);
        done += 1;
      }
    }),
  );
  await client.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
  client.destroy();
  return {
    concurrency,
    transactWritesPerSecond: Math.round(done / (durationMs / 1000)),
    latencyMs: {
      p50: Math.round(percentile(latencies, 50) * 10) / 10,
      p99: Math.round(percentile(latencies, 99) * 10) / 10,
    },
  };
}
