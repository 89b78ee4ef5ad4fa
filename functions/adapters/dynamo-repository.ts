/**
 * DynamoDB single-table adapter: payments, attempts, audit entries, idempotency keys and API keys.
 * Every payment change is one TransactWriteItems conditioned on the version it was computed from.
 * Key design: docs/data-model.md.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { IdempotencyInFlightError, IdempotencyMismatchError, StaleWriteError } from '../core/errors.js';
import type { Attempt, AuditEntry, Change, Payment } from '../core/payment.js';
import type {
  IdempotencyOutcome,
  IdempotencyStore,
  Merchant,
  MerchantDirectory,
  StoredResponse,
} from '../core/ports.js';
import type { PaymentRepository } from '../core/repository.js';

/** How long a request may hold an Idempotency-Key before a retry may take over (its holder crashed). */
export const IDEMPOTENCY_LOCK_MS = 30_000;
/** Keys are kept 32 days: longer than any client's retry window and KBank's settlement cycle. */
export const IDEMPOTENCY_TTL_SECONDS = 32 * 24 * 3600;

const pad = (n: number, width: number) => n.toString().padStart(width, '0');

export const keys = {
  payment: (id: string) => ({ PK: `PAYMENT#${id}`, SK: 'PAYMENT' }),
  attempt: (paymentId: string, no: number) => ({ PK: `PAYMENT#${paymentId}`, SK: `ATTEMPT#${pad(no, 4)}` }),
  audit: (paymentId: string, seq: number) => ({ PK: `PAYMENT#${paymentId}`, SK: `AUDIT#${pad(seq, 8)}` }),
  idempotency: (scope: string, key: string) => ({ PK: `IDEMPOTENCY#${scope}#${key}`, SK: 'IDEMPOTENCY' }),
  apiKey: (hash: string) => ({ PK: `APIKEY#${hash}`, SK: 'APIKEY' }),
};

function paymentItem(payment: Payment) {
  return {
    ...keys.payment(payment.id),
    GSI1PK: `MERCHANT#${payment.merchantId}`,
    GSI1SK: `${payment.createdAt}#${payment.id}`,
    entity: 'payment',
    ...payment,
  };
}

function auditItem(entry: AuditEntry) {
  return { ...keys.audit(entry.paymentId, entry.seq), entity: 'audit', ...entry };
}

function attemptItem(attempt: Attempt) {
  return {
    ...keys.attempt(attempt.paymentId, attempt.no),
    ...(attempt.chargeId
      ? { GSI2PK: `CHARGE#${attempt.chargeId}`, GSI2SK: `PAYMENT#${attempt.paymentId}` }
      : {}),
    entity: 'attempt',
    ...attempt,
  };
}

/** Strips the table's own attributes, leaving the domain object. */
function strip<T>(item: Record<string, unknown>): T {
  const { PK, SK, GSI1PK, GSI1SK, GSI2PK, GSI2SK, entity, expiresAt, ...rest } = item;
  return rest as T;
}

export function createDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export class DynamoPaymentRepository implements PaymentRepository, IdempotencyStore, MerchantDirectory {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(payment: Payment, audit: AuditEntry): Promise<boolean> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: paymentItem(payment),
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: auditItem(audit),
                ConditionExpression: 'attribute_not_exists(PK)',
              },
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

  async get(paymentId: string): Promise<Payment | null> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.payment(paymentId), ConsistentRead: true }),
    );
    return Item ? strip<Payment>(Item) : null;
  }

  async commit(change: Change, attempt?: Attempt): Promise<void> {
    const { previous, next, audit } = change;
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: paymentItem(next),
                ConditionExpression: '#seq = :seq AND #status = :status',
                ExpressionAttributeNames: { '#seq': 'seq', '#status': 'status' },
                ExpressionAttributeValues: { ':seq': previous.seq, ':status': previous.status },
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: auditItem(audit),
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
            ...(attempt ? [{ Put: { TableName: this.tableName, Item: attemptItem(attempt) } }] : []),
          ],
        }),
      );
    } catch (error) {
      if (isConditionFailure(error) || isTransactionConflict(error)) {
        throw new StaleWriteError(`payment ${previous.id} changed since version ${previous.seq}`);
      }
      throw error;
    }
  }

  async getAttempt(paymentId: string, no: number): Promise<Attempt | null> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.attempt(paymentId, no), ConsistentRead: true }),
    );
    return Item ? strip<Attempt>(Item) : null;
  }

  async listAudit(
    paymentId: string,
    page: { limit: number; after?: number },
  ): Promise<{ entries: AuditEntry[]; hasMore: boolean }> {
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': keys.payment(paymentId).PK,
          ':from': keys.audit(paymentId, (page.after ?? 0) + 1).SK,
          ':to': keys.audit(paymentId, 99_999_999).SK,
        },
        Limit: page.limit + 1,
        ConsistentRead: true,
      }),
    );
    return {
      entries: Items.slice(0, page.limit).map((item) => strip<AuditEntry>(item)),
      hasMore: Items.length > page.limit,
    };
  }

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

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof TransactionCanceledException &&
    (error.CancellationReasons ?? []).some((reason) => reason.Code === 'ConditionalCheckFailed')
  );
}

function isTransactionConflict(error: unknown): boolean {
  return (
    error instanceof TransactionCanceledException &&
    (error.CancellationReasons ?? []).some((reason) => reason.Code === 'TransactionConflict')
  );
}
