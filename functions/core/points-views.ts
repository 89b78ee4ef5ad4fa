/**
 * How points records are shown through the API (schemas/points.ts) and on the bus (schemas/events.ts
 * `points.*`): snake_case, nothing internal.
 */
import type { PointsEventDetail, PointsEventType } from '../../schemas/events.js';
import type {
  PointsBalanceResource,
  PointsMovementList,
  PointsMovementResource,
} from '../../schemas/points.js';
import type { AuditEntry, Payment } from './payment.js';
import {
  type MovementType,
  movement,
  type PointsBalance,
  type PointsChange,
  type PointsMovement,
  type PointsProgram,
  paymentMovementId,
} from './points.js';
import type { Refund } from './refund.js';

export function pointsBalanceView(balance: PointsBalance, program: PointsProgram): PointsBalanceResource {
  return {
    object: 'points_balance',
    customer_id: balance.customerId,
    available: balance.available,
    held: balance.held,
    currency: program.currency,
    currency_value_per_point: program.valuePerPoint,
    updated_at: balance.updatedAt,
  };
}

export function pointsMovementView(movement: PointsMovement): PointsMovementResource {
  return {
    id: movement.id,
    object: 'points_movement',
    customer_id: movement.customerId,
    type: movement.type,
    points: movement.points,
    available: movement.available,
    held: movement.held,
    payment_id: movement.paymentId ?? null,
    refund_id: movement.refundId ?? null,
    reason: movement.reason ?? null,
    created_at: movement.at,
  };
}

/** A page of movements; the cursor is the last movement's id. */
export function pointsMovementListView(page: {
  movements: PointsMovement[];
  hasMore: boolean;
}): PointsMovementList {
  const last = page.movements.at(-1);
  return {
    object: 'list',
    data: page.movements.map(pointsMovementView),
    has_more: page.hasMore,
    next_cursor: page.hasMore && last ? last.id : null,
  };
}

const EVENT_TYPES: Record<MovementType, PointsEventType> = {
  grant: 'points.granted',
  reserve: 'points.reserved',
  commit: 'points.committed',
  release: 'points.released',
  refund: 'points.refunded',
};

/**
 * The bus event of one ledger entry. Its id is the movement's, which is written once, so whichever retry
 * publishes it publishes the same event. `sequence`: the payment change that moved the points (null: a grant).
 */
export function pointsEventDetail(entry: PointsMovement, sequence: number | null): PointsEventDetail {
  return {
    version: '1',
    event_id: `evt_${entry.id}`,
    type: EVENT_TYPES[entry.type],
    sequence,
    occurred_at: entry.at,
    merchant_id: entry.merchantId,
    customer_id: entry.customerId,
    payment_id: entry.paymentId ?? null,
    refund_id: entry.refundId ?? null,
    movement: pointsMovementView(entry),
  };
}

/** The points event of a payment change that moved points (a hold taken, spent or given back), if any. */
export function changePointsEvent(change: {
  next: { seq: number };
  points?: PointsChange;
}): PointsEventDetail | null {
  return change.points ? pointsEventDetail(change.points.entry, change.next.seq) : null;
}

/**
 * A succeeded refund's `points.refunded`, from the refund as recorded: its movement was made at the
 * refund's last update under the id that instant gives (refund.ts resolveRefund), so every step and retry
 * that builds it builds the same event. Null when the refund gave back no points.
 */
export function refundPointsEvent(
  payment: Pick<Payment, 'id' | 'merchantId' | 'points'>,
  refund: Pick<Refund, 'id' | 'status' | 'points' | 'paymentSeq' | 'updatedAt'>,
): PointsEventDetail | null {
  if (refund.status !== 'succeeded' || !refund.points || !payment.points) return null;
  const at = new Date(refund.updatedAt);
  const entry = movement(
    {
      id: paymentMovementId(at, payment.id, 'refund', refund.id),
      merchantId: payment.merchantId,
      customerId: payment.points.customerId,
      type: 'refund',
      points: refund.points,
      paymentId: payment.id,
      refundId: refund.id,
    },
    at,
  );
  return pointsEventDetail(entry, refund.paymentSeq);
}

/** What a change that moved points records in its audit entry (payment.ts changeTo). */
interface AuditedMovement {
  movement: 'reserve' | 'commit' | 'release';
  points: number;
  movementId: string;
}

function auditedMovement(detail: Record<string, unknown>): AuditedMovement | null {
  const points = detail.points as Partial<AuditedMovement> | undefined;
  if (!points || typeof points !== 'object') return null;
  const { movement: type, points: count, movementId } = points;
  if (type !== 'reserve' && type !== 'commit' && type !== 'release') return null;
  if (typeof count !== 'number' || typeof movementId !== 'string') return null;
  return { movement: type, points: count, movementId };
}

/**
 * The events of a payment's own points movements (its hold, and the hold spent or given back) rebuilt from
 * the audit entries of the changes that made them: the very events those changes published, so a step that
 * runs again after dying between its commit and its publish can publish them again under the same ids.
 */
export function auditPointsEvents(
  payment: Pick<Payment, 'id' | 'merchantId' | 'points'>,
  entries: readonly AuditEntry[],
): PointsEventDetail[] {
  const customerId = payment.points?.customerId;
  if (!customerId) return [];
  return entries.flatMap((entry) => {
    const audited = entry.noteId === undefined ? auditedMovement(entry.detail) : null;
    if (!audited) return [];
    const at = new Date(entry.at);
    const base = { merchantId: payment.merchantId, customerId, paymentId: payment.id };
    const rebuilt = movement(
      { ...base, id: audited.movementId, type: audited.movement, points: audited.points },
      at,
    );
    return [pointsEventDetail(rebuilt, entry.seq)];
  });
}
