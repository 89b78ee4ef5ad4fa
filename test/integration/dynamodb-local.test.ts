/** DynamoDB Local as the payment path needs it: the production table design, atomic transactions, TTL. */
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { TABLE_DESIGN } from '../../functions/adapters/table-design.js';
import { createTable } from '../../local/dynamodb-local.js';
import { freshTable } from '../support/dynamodb.js';

describe('DynamoDB Local with the single-table design', () => {
  it('creates the table on demand with every GSI projecting ALL attributes', async () => {
    const { client, tableName } = await freshTable('design');
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));

    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Table?.KeySchema).toEqual([
      { AttributeName: TABLE_DESIGN.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_DESIGN.sortKey, KeyType: 'RANGE' },
    ]);
    const indexes = (Table?.GlobalSecondaryIndexes ?? []).map((index) => ({
      name: index.IndexName,
      keys: index.KeySchema?.map((key) => key.AttributeName),
      projection: index.Projection?.ProjectionType,
    }));
    expect(indexes.sort((a, b) => String(a.name).localeCompare(String(b.name)))).toEqual(
      TABLE_DESIGN.globalSecondaryIndexes.map((index) => ({
        name: index.indexName,
        keys: [index.partitionKey, index.sortKey],
        projection: 'ALL',
      })),
    );
  });

  it('enables TTL on the design attribute', async () => {
    const { client, tableName } = await freshTable('ttl');
    const { TimeToLiveDescription } = await client.send(
      new DescribeTimeToLiveCommand({ TableName: tableName }),
    );

    expect(TimeToLiveDescription).toEqual({
      TimeToLiveStatus: 'ENABLED',
      AttributeName: TABLE_DESIGN.ttlAttribute,
    });
  });

  it('is idempotent: creating an existing table keeps its items', async () => {
    const { client, tableName } = await freshTable('again');
    await client.send(
      new PutItemCommand({ TableName: tableName, Item: { PK: { S: 'P#1' }, SK: { S: 'META' } } }),
    );

    await createTable(client, tableName);

    const { Item } = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { PK: { S: 'P#1' }, SK: { S: 'META' } } }),
    );
    expect(Item?.PK?.S).toBe('P#1');
  });

  it('cancels a whole TransactWriteItems when one condition fails', async () => {
    const { client, tableName } = await freshTable('txn');
    const key = { PK: { S: 'PAYMENT#p1' }, SK: { S: 'META' } };
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { ...key, status: { S: 'authorized' }, version: { N: '1' } },
      }),
    );

    const attempt = client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Put: {
              TableName: tableName,
              Item: { PK: { S: 'PAYMENT#p1' }, SK: { S: 'AUDIT#0001' }, change: { S: 'captured' } },
            },
          },
          {
            Update: {
              TableName: tableName,
              Key: key,
              UpdateExpression: 'SET #status = :captured, version = :next',
              ConditionExpression: 'version = :expected',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: {
                ':captured': { S: 'captured' },
                ':next': { N: '3' },
                ':expected': { N: '2' },
              },
            },
          },
        ],
      }),
    );

    await expect(attempt).rejects.toMatchObject({
      name: 'TransactionCanceledException',
      CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
    });
    const audit = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :audit)',
        ExpressionAttributeValues: { ':pk': { S: 'PAYMENT#p1' }, ':audit': { S: 'AUDIT#' } },
      }),
    );
    expect(audit.Count).toBe(0);
    const { Item } = await client.send(new GetItemCommand({ TableName: tableName, Key: key }));
    expect(Item?.status?.S).toBe('authorized');
  });

  it('answers GSI queries', async () => {
    const { client, tableName } = await freshTable('gsi');
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          PK: { S: 'PAYMENT#p2' },
          SK: { S: 'META' },
          GSI2PK: { S: 'CHARGE#chrg_1' },
          GSI2SK: { S: 'PAYMENT#p2' },
          amount: { N: '72500' },
        },
      }),
    );

    const found = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: 'GSI2',
        KeyConditionExpression: 'GSI2PK = :charge',
        ExpressionAttributeValues: { ':charge': { S: 'CHARGE#chrg_1' } },
      }),
    );

    expect(found.Items?.map((item) => item.amount?.N)).toEqual(['72500']);
  });
});
