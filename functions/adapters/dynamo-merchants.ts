/**
 * Merchants and their API keys on the single table. A key is two items: the lookup item under its hash
 * (`APIKEY#<sha256>`, all the authorizer reads) and the directory's record under the merchant
 * (`MERCHANT#<id>` / `APIKEY#<keyId>`, what `npm run merchant -- list` shows: never the key, nor its hash
 * in any output). Merchants are listed under one `MERCHANTS` partition (operator reads only).
 */
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type ApiKeyRecord, isScope } from '../core/api-keys.js';
import { isPlanName, type PlanName } from '../core/plans.js';
import type { ApiKeyGrant, Merchant, MerchantDirectory, MerchantKeyStore } from '../core/ports.js';
import { isConditionFailure, keys, strip, TableKit } from './dynamo-table-kit.js';

/** A rotated key's lookup item is deleted by DynamoDB's TTL this long after its overlap ended. */
const EXPIRED_KEY_TTL_SECONDS = 7 * 24 * 3600;

/** The TTL (epoch seconds) of a lookup item whose key stops working at `validUntil`. */
const expiredKeyTtl = (validUntil: string) =>
  Math.floor(Date.parse(validUntil) / 1000) + EXPIRED_KEY_TTL_SECONDS;

const merchantKeys = {
  profile: (merchantId: string) => ({ PK: `MERCHANT#${merchantId}`, SK: 'PROFILE' }),
  directory: (merchantId: string) => ({ PK: 'MERCHANTS', SK: `MERCHANT#${merchantId}` }),
  key: (merchantId: string, keyId: string) => ({ PK: `MERCHANT#${merchantId}`, SK: `APIKEY#${keyId}` }),
};

type StoredMerchant = Merchant & { createdAt: string };

export class DynamoMerchants extends TableKit implements MerchantDirectory, MerchantKeyStore {
  async findByApiKeyHash(keyHash: string): Promise<ApiKeyGrant | null> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.apiKey(keyHash) }),
    );
    if (!Item) return null;
    const merchant: Merchant = {
      id: Item.merchantId as string,
      name: Item.merchantName as string,
      ...(isPlanName(Item.merchantPlan) ? { plan: Item.merchantPlan } : {}),
    };
    return {
      merchant,
      ...(Item.validUntil ? { validUntil: Item.validUntil as string } : {}),
      ...(Array.isArray(Item.scopes) ? { scopes: (Item.scopes as string[]).filter(isScope) } : {}),
    };
  }

  /** Registers a key's lookup item alone (tests' second merchants); operators use addKey. */
  async putApiKey(keyHash: string, merchant: Merchant): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: lookupItem(keyHash, merchant) }));
  }

  async createMerchant(merchant: StoredMerchant): Promise<boolean> {
    const record = {
      id: merchant.id,
      name: merchant.name,
      ...(merchant.plan ? { plan: merchant.plan } : {}),
      createdAt: merchant.createdAt,
    };
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: this.putNew({ ...merchantKeys.profile(merchant.id), entity: 'merchant', ...record }) },
            {
              Put: { TableName: this.tableName, Item: { ...merchantKeys.directory(merchant.id), ...record } },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async getMerchant(merchantId: string): Promise<StoredMerchant | null> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: merchantKeys.profile(merchantId),
        ConsistentRead: true,
      }),
    );
    return Item ? strip<StoredMerchant>(Item) : null;
  }

  async listMerchants(): Promise<StoredMerchant[]> {
    return (await this.queryAll('MERCHANTS', 'MERCHANT#')).map((item) => strip<StoredMerchant>(item));
  }

  async addKey(keyHash: string, merchant: Merchant, key: ApiKeyRecord): Promise<void> {
    await this.db.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: this.putNew(lookupItem(keyHash, merchant, key)) },
          {
            Put: this.putNew({
              ...merchantKeys.key(merchant.id, key.keyId),
              entity: 'api_key_record',
              ...key,
              keyHash,
            }),
          },
        ],
      }),
    );
  }

  async listKeys(merchantId: string): Promise<ApiKeyRecord[]> {
    return (await this.queryAll(`MERCHANT#${merchantId}`, 'APIKEY#')).map(recordOf);
  }

  async expireKey(key: ApiKeyRecord, validUntil: string): Promise<void> {
    const keyHash = await this.hashOf(key);
    const ttl = expiredKeyTtl(validUntil);
    await this.db.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: this.tableName,
              Key: keys.apiKey(keyHash),
              UpdateExpression: 'SET validUntil = :until, expiresAt = :ttl',
              ConditionExpression: 'attribute_exists(PK)',
              ExpressionAttributeValues: { ':until': validUntil, ':ttl': ttl },
            },
          },
          {
            Update: {
              TableName: this.tableName,
              Key: merchantKeys.key(key.merchantId, key.keyId),
              UpdateExpression: 'SET validUntil = :until',
              ConditionExpression: 'attribute_not_exists(revokedAt)',
              ExpressionAttributeValues: { ':until': validUntil },
            },
          },
        ],
      }),
    );
  }

  async revokeKey(key: ApiKeyRecord, revokedAt: string): Promise<void> {
    const keyHash = await this.hashOf(key);
    await this.db.send(
      new TransactWriteCommand({
        TransactItems: [
          { Delete: { TableName: this.tableName, Key: keys.apiKey(keyHash) } },
          {
            Update: {
              TableName: this.tableName,
              Key: merchantKeys.key(key.merchantId, key.keyId),
              UpdateExpression: 'SET revokedAt = :at',
              ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(revokedAt)',
              ExpressionAttributeValues: { ':at': revokedAt },
            },
          },
        ],
      }),
    );
  }

  async setPlan(merchantId: string, plan: PlanName): Promise<void> {
    await this.db.send(
      new TransactWriteCommand({
        TransactItems: [merchantKeys.profile(merchantId), merchantKeys.directory(merchantId)].map((Key) => ({
          Update: {
            TableName: this.tableName,
            Key,
            UpdateExpression: 'SET #plan = :plan',
            ConditionExpression: 'attribute_exists(PK)',
            ExpressionAttributeNames: { '#plan': 'plan' },
            ExpressionAttributeValues: { ':plan': plan },
          },
        })),
      }),
    );
    // Then each key's lookup item; one gone meanwhile (revoked, or deleted by its TTL) has nothing to move.
    // A crash in between leaves some keys on the old plan: running the command again finishes it.
    for (const item of await this.queryAll(`MERCHANT#${merchantId}`, 'APIKEY#')) {
      if (item.revokedAt || typeof item.keyHash !== 'string') continue;
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.apiKey(item.keyHash),
            UpdateExpression: 'SET merchantPlan = :plan',
            ConditionExpression: 'attribute_exists(PK)',
            ExpressionAttributeValues: { ':plan': plan },
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
  }

  /** The key's hash, from its record (kept there so a rotation or revocation can reach the lookup item). */
  private async hashOf(key: ApiKeyRecord): Promise<string> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: merchantKeys.key(key.merchantId, key.keyId),
        ConsistentRead: true,
      }),
    );
    if (!Item?.keyHash) throw new Error(`no record of key ${key.keyId}`);
    return Item.keyHash as string;
  }

  private async queryAll(pk: string, skPrefix: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
          ExpressionAttributeValues: { ':pk': pk, ':sk': skPrefix },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}

function lookupItem(keyHash: string, merchant: Merchant, key?: ApiKeyRecord) {
  return {
    ...keys.apiKey(keyHash),
    entity: 'api_key',
    merchantId: merchant.id,
    merchantName: merchant.name,
    ...(merchant.plan ? { merchantPlan: merchant.plan } : {}),
    ...(key ? { keyId: key.keyId } : {}),
    ...(key?.scopes ? { scopes: key.scopes } : {}),
    // A restricted key's expiry; DynamoDB's TTL deletes the item a week later.
    ...(key?.validUntil
      ? {
          validUntil: key.validUntil,
          expiresAt: expiredKeyTtl(key.validUntil),
        }
      : {}),
  };
}

function recordOf(item: Record<string, unknown>): ApiKeyRecord {
  const { keyHash: _hash, ...rest } = strip<ApiKeyRecord & { keyHash?: string }>(item);
  return rest;
}
