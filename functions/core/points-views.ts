/** How points records are shown through the API (schemas/points.ts): snake_case, nothing internal. */
import type {
  PointsBalanceResource,
  PointsMovementList,
  PointsMovementResource,
} from '../../schemas/points.js';
import type { PointsBalance, PointsMovement, PointsProgram } from './points.js';

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
