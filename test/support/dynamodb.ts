/** Per-test-file tables on the run's shared DynamoDB Local, so test files never share state. */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTable, localDynamoClientConfig } from '../../local/dynamodb-local.js';

let client: DynamoDBClient | undefined;

/** One client per worker: tables differ, the endpoint does not. */
export function localDynamoClient(): DynamoDBClient {
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  if (!endpoint)
    throw new Error('DYNAMODB_ENDPOINT is not set: run through jest (test/support/global-setup.ts)');
  client ??= new DynamoDBClient(localDynamoClientConfig(endpoint));
  return client;
}

/** A new table with the production design (keys, GSIs, TTL) under a unique name. */
export async function freshTable(prefix = 'test'): Promise<{ client: DynamoDBClient; tableName: string }> {
  const tableName = `${prefix}-${randomUUID()}`;
  const dynamodb = localDynamoClient();
  await createTable(dynamodb, tableName);
  return { client: dynamodb, tableName };
}
