/**
 * The points ledger on the single table: one balance item per customer of a merchant, its movements beside
 * it, and a payment's hold beside the payment. Every change is one transaction whose conditions keep the
 * rules (a balance never negative, a hold settled once, a refund given back once and never beyond the
 * hold), so nothing is read before it is written. Key design: docs/data-model.md.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { InsufficientPoints, PointsNotRefundable, StaleWriteError } from '../core/errors.js';
import type {
  PointsBalance,
  PointsChange,
  PointsHold,
  PointsLedger,
  PointsMovement,
  PointsProgram,
} from '../core/points.js';
import type { PointsPrograms } from '../core/use-cases/points/customer-points.js';
import { isTransactionConflict } from './dynamo-table-kit.js';

export const pointsKeys = {
  balance: (merchantId: string, customerId: string) => ({
    PK: `CUSTOMER#${merchantId}#${customerId}`,
    SK: 'POINTS',
  }),
  movement: (merchantId: string, customerId: string, id: string) => ({
    PK: `CUSTOMER#${merchantId}#${customerId}`,
    SK: `MOVEMENT#${id}`,
  }),
  hold: (paymentId: string) => ({ PK: `PAYMENT#${paymentId}`, SK: 'POINTS_HOLD' }),
  program: (merchantId: string) => ({ PK: `MERCHANT#${merchantId}`, SK: 'POINTS_PROGRAM' }),
  refundMarker: (paymentId: string, refundId: string) => ({
    PK: `PAYMENT#${paymentId}`,
    SK: `MARKER#points_refund:${refundId}`,
  }),
};

/** Merchants' points programs: one item per merchant, set by an operator (or the local stack's seed). */
export class DynamoPointsPrograms implements PointsPrograms {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async program(merchantId: string): Promise<PointsProgram | null> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: pointsKeys.program(merchantId) }),
    );
    if (!Item) return null;
    return { merchantId, currency: Item.currency, valuePerPoint: Item.valuePerPoint };
  }

  async setProgram(program: PointsProgram): Promise<void> {
    if (!Number.isInteger(program.valuePerPoint) || program.valuePerPoint < 1) {
      throw new Error('a point must be worth a whole number of minor units, at least 1');
    }
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...pointsKeys.program(program.merchantId), entity: 'points_program', ...program },
      }),
    );
  }
}

export class DynamoPointsLedger implements PointsLedger {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async balance(merchantId: string, customerId: string): Promise<PointsBalance | null> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: pointsKeys.balance(merchantId, customerId),
        ConsistentRead: true,
      }),
    );
    if (!Item) return null;
    return {
      merchantId: Item.merchantId,
      customerId: Item.customerId,
      available: Item.available,
      held: Item.held,
      updatedAt: Item.updatedAt,
    };
  }

  async movements(
    merchantId: string,
    customerId: string,
    page: { limit: number; after?: string; order: 'oldest_first' | 'newest_first' },
  ): Promise<{ movements: PointsMovement[]; hasMore: boolean }> {
    const { PK } = pointsKeys.balance(merchantId, customerId);
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': PK, ':prefix': 'MOVEMENT#' },
        ScanIndexForward: page.order === 'oldest_first',
        ...(page.after ? { ExclusiveStartKey: pointsKeys.movement(merchantId, customerId, page.after) } : {}),
        Limit: page.limit + 1,
        ConsistentRead: true,
      }),
    );
    return {
      movements: Items.slice(0, page.limit).map((item) => movementOf(item)),
      hasMore: Items.length > page.limit,
    };
  }

  async grant(entry: PointsMovement): Promise<{ movement: PointsMovement; balance: PointsBalance }> {
    let written = entry;
    try {
      await this.transact([this.balanceUpdate(entry), this.movementPut(entry)]);
    } catch (error) {
      // The entry is there already: a retry of the same grant, which adds nothing.
      if (!reasons(error)[1]) throw error;
      const { Item } = await this.db.send(
        new GetCommand({
          TableName: this.tableName,
          Key: pointsKeys.movement(entry.merchantId, entry.customerId, entry.id),
          ConsistentRead: true,
        }),
      );
      if (!Item) throw error;
      written = movementOf(Item);
    }
    const balance = await this.balance(entry.merchantId, entry.customerId);
    if (!balance) throw new Error(`the balance of ${entry.customerId} is missing after a grant`);
    return { movement: written, balance };
  }

  async reserve(hold: PointsHold, entry: PointsMovement): Promise<boolean> {
    try {
      await this.transact([
        this.balanceUpdate(entry, { condition: 'available >= :points' }),
        holdPut(this.tableName, hold),
        this.movementPut(entry),
      ]);
      return true;
    } catch (error) {
      const [balance, held] = reasons(error);
      if (held) return false;
      if (balance) {
        const available = (await this.balance(entry.merchantId, entry.customerId))?.available ?? 0;
        throw new InsufficientPoints(
          `customer ${entry.customerId} has ${available} points available, ${entry.points} needed`,
          available,
        );
      }
      throw error;
    }
  }

  async settle(paymentId: string, to: 'committed' | 'released', entry: PointsMovement): Promise<boolean> {
    try {
      await this.transact([
        holdSettle(this.tableName, paymentId, to, entry),
        this.balanceUpdate(entry),
        this.movementPut(entry),
      ]);
      return true;
    } catch (error) {
      if (reasons(error)[0]) return false;
      throw error;
    }
  }

  async refund(paymentId: string, refundId: string, entry: PointsMovement): Promise<boolean> {
    try {
      await this.transact([
        {
          Put: {
            TableName: this.tableName,
            Item: { ...pointsKeys.refundMarker(paymentId, refundId), entity: 'marker', at: entry.at },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
        {
          Update: {
            TableName: this.tableName,
            Key: pointsKeys.hold(paymentId),
            UpdateExpression:
              'SET refundable = refundable - :points, refunded = refunded + :points, updatedAt = :at',
            ConditionExpression: '#status = :committed AND refundable >= :points',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':points': entry.points,
              ':committed': 'committed',
              ':at': entry.at,
            },
          },
        },
        this.balanceUpdate(entry),
        this.movementPut(entry),
      ]);
      return true;
    } catch (error) {
      const [repeat, beyond] = reasons(error);
      if (repeat) return false;
      if (beyond) {
        const { Item } = await this.db.send(
          new GetCommand({
            TableName: this.tableName,
            Key: pointsKeys.hold(paymentId),
            ConsistentRead: true,
          }),
        );
        const refundable = Item?.status === 'committed' ? (Item.refundable as number) : 0;
        throw new PointsNotRefundable(
          `payment ${paymentId} has ${refundable} committed points left to refund, ${entry.points} asked by ${refundId}`,
          refundable,
        );
      }
      throw error;
    }
  }

  async hold(paymentId: string): Promise<PointsHold | null> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: pointsKeys.hold(paymentId), ConsistentRead: true }),
    );
    if (!Item) return null;
    return {
      paymentId: Item.paymentId,
      merchantId: Item.merchantId,
      customerId: Item.customerId,
      points: Item.points,
      status: Item.status,
      refunded: Item.refunded,
      createdAt: Item.createdAt,
      updatedAt: Item.updatedAt,
    };
  }

  private balanceUpdate(entry: PointsMovement, options: { condition?: string } = {}) {
    return balanceUpdate(this.tableName, entry, options);
  }

  private movementPut(entry: PointsMovement) {
    return movementPut(this.tableName, entry);
  }

  /** One transaction; a conflict with a parallel one on the same balance is a lost race (StaleWriteError). */
  private async transact(
    items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>,
  ) {
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      if (isTransactionConflict(error)) {
        throw new StaleWriteError('a parallel change of the same points balance or hold won the race');
      }
      throw error;
    }
  }
}

/** The balance item changed by the entry's signed amounts (created by the first grant). */
function balanceUpdate(tableName: string, entry: PointsMovement, options: { condition?: string } = {}) {
  return {
    Update: {
      TableName: tableName,
      Key: pointsKeys.balance(entry.merchantId, entry.customerId),
      UpdateExpression:
        'SET entity = :entity, merchantId = :merchant, customerId = :customer, updatedAt = :at ADD available :available, held :held',
      ...(options.condition ? { ConditionExpression: options.condition } : {}),
      ExpressionAttributeValues: {
        ':entity': 'points_balance',
        ':merchant': entry.merchantId,
        ':customer': entry.customerId,
        ':at': entry.at,
        ':available': entry.available,
        ':held': entry.held,
        ...(options.condition ? { ':points': entry.points } : {}),
      },
    },
  };
}

function movementPut(tableName: string, entry: PointsMovement) {
  return {
    Put: {
      TableName: tableName,
      Item: {
        ...pointsKeys.movement(entry.merchantId, entry.customerId, entry.id),
        entity: 'points_movement',
        ...entry,
      },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
}

function holdPut(tableName: string, hold: PointsHold) {
  return {
    Put: {
      TableName: tableName,
      Item: { ...pointsKeys.hold(hold.paymentId), entity: 'points_hold', ...hold, refundable: 0 },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
}

function holdSettle(
  tableName: string,
  paymentId: string,
  to: 'committed' | 'released',
  entry: PointsMovement,
) {
  return {
    Update: {
      TableName: tableName,
      Key: pointsKeys.hold(paymentId),
      UpdateExpression: 'SET #status = :to, refundable = :refundable, updatedAt = :at',
      ConditionExpression: '#status = :held AND points = :points',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':to': to,
        ':held': 'held',
        ':points': entry.points,
        ':refundable': to === 'committed' ? entry.points : 0,
        ':at': entry.at,
      },
    },
  };
}

/**
 * The items a payment's points change adds to the payment's own transaction (DynamoPayments.commit): the
 * hold taken with the balance's condition, or settled once, each with its ledger entry. `balanceAt` is the
 * position of the balance update among them (its failed condition means too few points).
 */
export function pointsChangeItems(tableName: string, change: PointsChange) {
  if (change.kind === 'reserve') {
    return {
      items: [
        balanceUpdate(tableName, change.entry, { condition: 'available >= :points' }),
        holdPut(tableName, change.hold),
        movementPut(tableName, change.entry),
      ],
      balanceAt: 0,
    };
  }
  if (change.kind === 'refund') {
    return {
      items: [
        {
          Put: {
            TableName: tableName,
            Item: {
              ...pointsKeys.refundMarker(change.paymentId, change.refundId),
              entity: 'marker',
              at: change.entry.at,
            },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
        {
          Update: {
            TableName: tableName,
            Key: pointsKeys.hold(change.paymentId),
            UpdateExpression:
              'SET refundable = refundable - :points, refunded = refunded + :points, updatedAt = :at',
            ConditionExpression: '#status = :committed AND refundable >= :points',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':points': change.entry.points,
              ':committed': 'committed',
              ':at': change.entry.at,
            },
          },
        },
        balanceUpdate(tableName, change.entry),
        movementPut(tableName, change.entry),
      ],
      balanceAt: null,
    };
  }
  const to = change.kind === 'commit' ? 'committed' : 'released';
  return {
    items: [
      holdSettle(tableName, change.paymentId, to, change.entry),
      balanceUpdate(tableName, change.entry),
      movementPut(tableName, change.entry),
    ],
    balanceAt: null,
  };
}

/** Which items of a cancelled transaction failed their condition, by position. */
export function reasons(error: unknown): boolean[] {
  if (!(error instanceof TransactionCanceledException)) return [];
  return (error.CancellationReasons ?? []).map((reason) => reason.Code === 'ConditionalCheckFailed');
}

function movementOf(item: Record<string, unknown>): PointsMovement {
  const { PK, SK, entity, ...movement } = item;
  return movement as unknown as PointsMovement;
}
