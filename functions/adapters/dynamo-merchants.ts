import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Merchant, MerchantDirectory } from '../core/ports.js';
import { keys, TableKit } from './dynamo-table-kit.js';

export class DynamoMerchants extends TableKit implements MerchantDirectory {
  async findByApiKeyHash(keyHash: string): Promise<Merchant | null> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.apiKey(keyHash) }),
    );
    return Item ? { id: Item.merchantId as string, name: Item.merchantName as string } : null;
  }

  /** Registers an API key (by its hash) for a merchant. Used by onboarding and the local stack's seed. */
  async putApiKey(keyHash: string, merchant: Merchant): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.apiKey(keyHash),
          entity: 'api_key',
          merchantId: merchant.id,
          merchantName: merchant.name,
        },
      }),
    );
  }
}
