/**
 * Use cases of a merchant's points program: grant points to a customer, read a customer's balance and the
 * ledger's movements. A customer exists for a merchant once it was granted points; another merchant's
 * customer of the same id is another customer (keys are scoped by merchant), so it is never seen.
 * A grant is announced on the bus (`points.granted`) once it is recorded.
 */
import { EventNotPublished, NotFoundError, PointsNotEnabled, ValidationError } from '../../errors.js';
import { ulid } from '../../ids.js';
import {
  assertPoints,
  movement,
  type PointsBalance,
  type PointsLedger,
  type PointsMovement,
  type PointsProgram,
  type PointsPrograms,
} from '../../points.js';
import { pointsEventDetail } from '../../points-views.js';
import type { Clock, EventPublisher } from '../../ports.js';

export type { PointsPrograms } from '../../points.js';

export interface CustomerPointsDeps {
  ledger: PointsLedger;
  programs: PointsPrograms;
  clock: Clock;
}

async function programOf(deps: CustomerPointsDeps, merchantId: string): Promise<PointsProgram> {
  const program = await deps.programs.program(merchantId);
  if (!program) throw new PointsNotEnabled(merchantId);
  return program;
}

/** A grant also announces itself. */
export interface GrantPointsDeps extends CustomerPointsDeps {
  events: EventPublisher;
}

/** The id of a grant's movement, made before it is written (kept under the request's Idempotency-Key). */
export function newGrantId(now: Date): string {
  return `pm_${ulid(now.getTime())}`;
}

/**
 * Grants points, written once under `movementId` (a retry of the same request with the same id adds
 * nothing and answers what was written), then publishes `points.granted`. A bus that refuses it is
 * EventNotPublished (503, the grant recorded): the same request again announces it.
 */
export async function grantPoints(
  deps: GrantPointsDeps,
  request: { merchantId: string; customerId: string; points: number; reason: string; movementId?: string },
): Promise<{ movement: PointsMovement; balance: PointsBalance; program: PointsProgram }> {
  assertPoints(request.points, 'points');
  const reason = request.reason.trim();
  if (reason.length === 0 || reason.length > 255) {
    throw new ValidationError('a grant needs a reason', [
      { field: 'reason', message: 'must be 1 to 255 characters' },
    ]);
  }
  const program = await programOf(deps, request.merchantId);
  const now = deps.clock.now();
  const entry = movement(
    {
      id: request.movementId ?? newGrantId(now),
      merchantId: request.merchantId,
      customerId: request.customerId,
      type: 'grant',
      points: request.points,
      reason,
    },
    now,
  );
  const granted = await deps.ledger.grant(entry);
  const event = pointsEventDetail(granted.movement, null);
  try {
    await deps.events.publish([{ type: event.type, detail: { ...event } }]);
  } catch {
    throw new EventNotPublished([event]);
  }
  return { ...granted, program };
}

export async function customerPoints(
  deps: CustomerPointsDeps,
  query: { merchantId: string; customerId: string },
): Promise<{ balance: PointsBalance; program: PointsProgram }> {
  const program = await programOf(deps, query.merchantId);
  const balance = await deps.ledger.balance(query.merchantId, query.customerId);
  if (!balance) throw new NotFoundError(`No customer ${query.customerId} with points.`);
  return { balance, program };
}

/** One page of a customer's movements; `after` is the last movement id of the previous page. */
export async function customerPointsMovements(
  deps: CustomerPointsDeps,
  query: {
    merchantId: string;
    customerId: string;
    limit: number;
    after?: string;
    order: 'oldest_first' | 'newest_first';
  },
): Promise<{ movements: PointsMovement[]; hasMore: boolean }> {
  await customerPoints(deps, query);
  if (query.after !== undefined && !/^pm_[0-9A-HJKMNP-TV-Z]{26}$/.test(query.after)) {
    throw new ValidationError('Invalid cursor.', [
      { field: 'cursor', message: 'not a cursor this API returned' },
    ]);
  }
  return deps.ledger.movements(query.merchantId, query.customerId, {
    limit: query.limit,
    order: query.order,
    ...(query.after ? { after: query.after } : {}),
  });
}
