/**
 * Merchant webhooks on the single table: endpoints in their merchant's partition, deliveries (with their
 * attempts inline) in their endpoint's partition beside a marker per event, so that one event makes one
 * delivery per endpoint. No secret is ever written here (the secret store keeps them). Key design:
 * docs/data-model.md ("Webhooks").
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { EndpointHealth } from '../core/webhooks/delivery.js';
import type {
  DeliveryPosition,
  NewDeliveryOutcome,
  WebhookAttempt,
  WebhookDelivery,
  WebhookDeliveryStatus,
  WebhookEndpoint,
  WebhookStore,
} from '../core/webhooks/endpoints.js';

/** Deliveries and their markers are kept this long, then DynamoDB's TTL removes them. */
export const DELIVERY_TTL_SECONDS = 30 * 24 * 3600;

export const webhookKeys = {
  endpoint: (merchantId: string, endpointId: string) => ({
    PK: `WEBHOOKS#${merchantId}`,
    SK: `ENDPOINT#${endpointId}`,
  }),
  delivery: (endpointId: string, deliveryId: string) => ({
    PK: `WEBHOOK_DELIVERIES#${endpointId}`,
    SK: `DELIVERY#${deliveryId}`,
  }),
  /** One per (endpoint, event): the event has a delivery to this endpoint. */
  event: (endpointId: string, eventId: string) => ({
    PK: `WEBHOOK_DELIVERIES#${endpointId}`,
    SK: `EVENT#${eventId}`,
  }),
};

export class DynamoWebhookStore implements WebhookStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async putEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...webhookKeys.endpoint(endpoint.merchantId, endpoint.id),
          entity: 'webhook_endpoint',
          ...endpoint,
        },
      }),
    );
  }

  async getEndpoint(merchantId: string, endpointId: string): Promise<WebhookEndpoint | null> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: webhookKeys.endpoint(merchantId, endpointId),
        ConsistentRead: true,
      }),
    );
    return Item ? endpointOf(Item) : null;
  }

  async listEndpoints(merchantId: string): Promise<WebhookEndpoint[]> {
    const found: WebhookEndpoint[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :endpoint)',
          ExpressionAttributeValues: { ':pk': `WEBHOOKS#${merchantId}`, ':endpoint': 'ENDPOINT#' },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      found.push(...(page.Items ?? []).map(endpointOf));
      start = page.LastEvaluatedKey;
    } while (start);
    return found;
  }

  async deleteEndpoint(merchantId: string, endpointId: string): Promise<boolean> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: webhookKeys.endpoint(merchantId, endpointId),
          ConditionExpression: 'attribute_exists(PK)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async markRotated(
    merchantId: string,
    endpointId: string,
    at: string,
    previousExpiresAt: string,
  ): Promise<WebhookEndpoint | null> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: webhookKeys.endpoint(merchantId, endpointId),
          UpdateExpression: 'SET secretRotatedAt = :at, previousSecretExpiresAt = :until, updatedAt = :at',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: { ':at': at, ':until': previousExpiresAt },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? endpointOf(Attributes) : null;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return null;
      throw error;
    }
  }

  async updateHealth(
    endpoint: Pick<WebhookEndpoint, 'merchantId' | 'id'>,
    health: EndpointHealth,
    disable: { reason: string; at: string } | null,
  ): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: webhookKeys.endpoint(endpoint.merchantId, endpoint.id),
          UpdateExpression: disable
            ? 'SET health = :health, #status = :disabled, disabledReason = :reason, updatedAt = :at'
            : 'SET health = :health',
          ConditionExpression: 'attribute_exists(PK)',
          ...(disable ? { ExpressionAttributeNames: { '#status': 'status' } } : {}),
          ExpressionAttributeValues: {
            ':health': health,
            ...(disable ? { ':disabled': 'disabled', ':reason': disable.reason, ':at': disable.at } : {}),
          },
        }),
      );
    } catch (error) {
      // Deleted meanwhile: nothing left to keep healthy.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async createDelivery(delivery: WebhookDelivery): Promise<NewDeliveryOutcome> {
    const expiresAt = Math.floor(Date.parse(delivery.createdAt) / 1000) + DELIVERY_TTL_SECONDS;
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...webhookKeys.event(delivery.endpointId, delivery.eventId),
                  entity: 'webhook_event_marker',
                  deliveryId: delivery.id,
                  expiresAt,
                },
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...webhookKeys.delivery(delivery.endpointId, delivery.id),
                  entity: 'webhook_delivery',
                  ...delivery,
                  expiresAt,
                },
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
          ],
        }),
      );
      return { outcome: 'created', delivery };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [marker] = (error.CancellationReasons ?? []).map((reason) => reason.Code);
      if (marker !== 'ConditionalCheckFailed') throw error;
      const { Item } = await this.db.send(
        new GetCommand({
          TableName: this.tableName,
          Key: webhookKeys.event(delivery.endpointId, delivery.eventId),
          ConsistentRead: true,
        }),
      );
      const existing =
        typeof Item?.deliveryId === 'string'
          ? await this.getDelivery(delivery.endpointId, Item.deliveryId)
          : null;
      return { outcome: 'duplicate', delivery: existing };
    }
  }

  async getDelivery(endpointId: string, deliveryId: string): Promise<WebhookDelivery | null> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: webhookKeys.delivery(endpointId, deliveryId),
        ConsistentRead: true,
      }),
    );
    return Item ? deliveryOf(Item) : null;
  }

  async recordAttempt(
    delivery: Pick<WebhookDelivery, 'endpointId' | 'id'>,
    attempt: WebhookAttempt,
    after: {
      status: WebhookDeliveryStatus;
      nextAttemptAt: string | null;
      deliveredAt?: string;
      failedAt?: string;
    },
  ): Promise<boolean> {
    const sets = ['attempts = list_append(attempts, :attempt)', '#status = :status', 'nextAttemptAt = :next'];
    if (!attempt.manual) sets.push('scheduledAttempts = :count');
    if (after.deliveredAt) sets.push('deliveredAt = :delivered');
    if (after.failedAt) sets.push('failedAt = :failed');
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: webhookKeys.delivery(delivery.endpointId, delivery.id),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: attempt.manual
            ? 'attribute_exists(PK)'
            : 'scheduledAttempts = :previous AND #status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':attempt': [attempt],
            ':status': after.status,
            ':next': after.nextAttemptAt,
            ...(attempt.manual
              ? {}
              : { ':count': attempt.attempt, ':previous': attempt.attempt - 1, ':pending': 'pending' }),
            ...(after.deliveredAt ? { ':delivered': after.deliveredAt } : {}),
            ...(after.failedAt ? { ':failed': after.failedAt } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async listDeliveries(
    endpointId: string,
    page: { limit: number; after?: DeliveryPosition },
  ): Promise<{ deliveries: WebhookDelivery[]; next: DeliveryPosition | null }> {
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :delivery)',
        ExpressionAttributeValues: { ':pk': `WEBHOOK_DELIVERIES#${endpointId}`, ':delivery': 'DELIVERY#' },
        ScanIndexForward: false,
        Limit: page.limit + 1,
        ConsistentRead: true,
        ...(page.after ? { ExclusiveStartKey: webhookKeys.delivery(endpointId, page.after.deliveryId) } : {}),
      }),
    );
    const deliveries = Items.slice(0, page.limit).map(deliveryOf);
    const last = deliveries.at(-1);
    return { deliveries, next: Items.length > page.limit && last ? { deliveryId: last.id } : null };
  }
}

function endpointOf(item: Record<string, unknown>): WebhookEndpoint {
  const { PK: _pk, SK: _sk, entity: _entity, ...endpoint } = item;
  return endpoint as unknown as WebhookEndpoint;
}

function deliveryOf(item: Record<string, unknown>): WebhookDelivery {
  const { PK: _pk, SK: _sk, entity: _entity, expiresAt: _ttl, ...delivery } = item;
  return delivery as unknown as WebhookDelivery;
}
