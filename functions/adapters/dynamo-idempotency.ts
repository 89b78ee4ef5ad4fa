/** Idempotency-Keys on the single table: claimed, completed with their answer, released, found. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { IdempotencyInFlightError, IdempotencyMismatchError } from '../core/errors.js';
import type { HeldKey, IdempotencyOutcome, IdempotencyStore, StoredResponse } from '../core/ports.js';
import { IDEMPOTENCY_LOCK_MS, IDEMPOTENCY_TTL_SECONDS, keys, TableKit } from './dynamo-table-kit.js';

export class DynamoIdempotency extends TableKit implements IdempotencyStore {
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
}
