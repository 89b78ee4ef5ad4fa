/**
 * Loyalty points: a merchant's program (what one point is worth), a customer's balance and its append-only
 * ledger, the hold a payment takes on points, and how a payment's amount and its refunds split between
 * points and the other tender. Pure: the ledger port below is kept by functions/adapters/dynamo-points.ts.
 */
import { ValidationError } from './errors.js';
import type { Currency } from './money.js';

/** A merchant's points program. One point is worth `valuePerPoint` minor units of `currency`. */
export interface PointsProgram {
  merchantId: string;
  currency: Currency;
  /** Integer ≥ 1, e.g. 100 for "1 point = 1.00 THB": a split is then exact, with nothing left to round. */
  valuePerPoint: number;
}

/** A customer's points with one merchant. `available + held` is what the ledger's entries add up to. */
export interface PointsBalance {
  merchantId: string;
  customerId: string;
  available: number;
  held: number;
  updatedAt: string;
}

export type MovementType = 'grant' | 'reserve' | 'commit' | 'release' | 'refund';

/**
 * One ledger entry. `available` and `held` are the signed changes it made to the balance, so the balance
 * is the sum of the entries; `points` is the (positive) number of points moved.
 */
export interface PointsMovement {
  /** `pm_<ulid>`: sorts by time. */
  id: string;
  merchantId: string;
  customerId: string;
  type: MovementType;
  points: number;
  available: number;
  held: number;
  paymentId?: string;
  refundId?: string;
  reason?: string;
  at: string;
}

/**
 * The points a payment holds. `held` until the payment is captured (`committed`: the points are spent)
 * or ends without being paid (`released`: they are back); each happens once. `refunded` counts the points
 * of a committed hold given back by refunds, never more than `points`.
 */
export interface PointsHold {
  paymentId: string;
  merchantId: string;
  customerId: string;
  points: number;
  status: 'held' | 'committed' | 'released';
  refunded: number;
  createdAt: string;
  updatedAt: string;
}

/** The signed changes each movement makes to (available, held). */
export const MOVEMENT_EFFECTS: Record<MovementType, { available: -1 | 0 | 1; held: -1 | 0 | 1 }> = {
  grant: { available: 1, held: 0 },
  reserve: { available: -1, held: 1 },
  commit: { available: 0, held: -1 },
  release: { available: 1, held: -1 },
  refund: { available: 1, held: 0 },
};

/** Points are whole, positive and bounded (a grant or a payment's points). */
export const MAX_POINTS = 1_000_000_000;

export function movement(
  input: Omit<PointsMovement, 'available' | 'held' | 'at'>,
  now: Date,
): PointsMovement {
  const effect = MOVEMENT_EFFECTS[input.type];
  return {
    ...input,
    available: effect.available * input.points,
    held: effect.held * input.points,
    at: now.toISOString(),
  };
}

/** The balance the movements add up to (the ledger's own check of the balance item). */
export function sumMovements(movements: readonly Pick<PointsMovement, 'available' | 'held'>[]): {
  available: number;
  held: number;
} {
  return movements.reduce(
    (total, m) => ({ available: total.available + m.available, held: total.held + m.held }),
    { available: 0, held: 0 },
  );
}

export function assertPoints(points: unknown, field: string): asserts points is number {
  if (typeof points !== 'number' || !Number.isInteger(points) || points <= 0 || points > MAX_POINTS) {
    throw new ValidationError('points must be a whole number of points', [
      { field, message: `must be an integer from 1 to ${MAX_POINTS}` },
    ]);
  }
}

/** How a payment's amount is paid: `points` (worth `pointsValue` minor units) and the rest by `other`. */
export interface TenderSplit {
  points: number;
  pointsValue: number;
  other: number;
}

/**
 * Splits a payment of `amount` into points and the other tender. A points-only payment (`points`
 * undefined) must be a whole number of points; a split's points may not be worth more than the amount.
 */
export function splitTender(
  amount: number,
  program: PointsProgram,
  request: { pointsOnly: true } | { points: number },
): TenderSplit {
  if ('pointsOnly' in request) {
    if (amount % program.valuePerPoint !== 0) {
      throw new ValidationError('the amount is not a whole number of points', [
        {
          field: 'amount',
          message: `must be a multiple of ${program.valuePerPoint} (the value of one point) to pay with points only`,
        },
      ]);
    }
    const points = amount / program.valuePerPoint;
    return { points, pointsValue: amount, other: 0 };
  }
  assertPoints(request.points, 'points.amount');
  const pointsValue = request.points * program.valuePerPoint;
  if (pointsValue >= amount) {
    throw new ValidationError('the points are worth the whole amount or more', [
      {
        field: 'points.amount',
        message: `worth ${pointsValue}, must be less than the amount ${amount}; pay with points only instead`,
      },
    ]);
  }
  return { points: request.points, pointsValue, other: amount - pointsValue };
}

/**
 * A capture or amount change of a split payment moves only the other tender: the points part is fixed
 * when the payment is created. The new amount must still cover the points' value.
 */
export function otherTenderFor(newAmount: number, split: TenderSplit): number {
  const other = newAmount - split.pointsValue;
  if (other < 0) {
    throw new ValidationError('the amount is less than the points paid', [
      { field: 'amount', message: `must be at least ${split.pointsValue}, the value of the points paid` },
    ]);
  }
  return other;
}

/** What a refund gives back: `other` minor units to the other tender and `points` points. */
export interface RefundSplit {
  other: number;
  points: number;
}

/**
 * The refund policy: money first, then points. A refund goes to the other tender up to what is left of it
 * to refund; the rest is given back as points, which must then be whole points. Neither part ever exceeds
 * what is left of it, so partial refunds together never return more of either than was paid with it.
 */
export function splitRefund(
  amount: number,
  program: Pick<PointsProgram, 'valuePerPoint'>,
  left: { other: number; points: number },
): RefundSplit {
  const other = Math.min(amount, left.other);
  const rest = amount - other;
  if (rest % program.valuePerPoint !== 0) {
    throw new ValidationError('the part refunded as points is not a whole number of points', [
      {
        field: 'amount',
        message: `${rest} would be refunded as points: it must be a multiple of ${program.valuePerPoint} (or refund at most ${other + Math.floor(rest / program.valuePerPoint) * program.valuePerPoint})`,
      },
    ]);
  }
  const points = rest / program.valuePerPoint;
  if (points > left.points) {
    throw new ValidationError('the refund is more than what is left to refund', [
      {
        field: 'amount',
        message: `at most ${left.other + left.points * program.valuePerPoint} is left to refund`,
      },
    ]);
  }
  return { other, points };
}

/** Where a merchant's points program is kept. */
export interface PointsPrograms {
  program(merchantId: string): Promise<PointsProgram | null>;
}

/** The port the points use cases need. Every method is one conditional transaction; none reads first. */
export interface PointsLedger {
  balance(merchantId: string, customerId: string): Promise<PointsBalance | null>;
  movements(
    merchantId: string,
    customerId: string,
    page: { limit: number; after?: string; order: 'oldest_first' | 'newest_first' },
  ): Promise<{ movements: PointsMovement[]; hasMore: boolean }>;
  /**
   * Adds the grant's points to the balance (creating it) with its ledger entry, once per entry id: a
   * repeat adds nothing and answers the entry as first written.
   */
  grant(entry: PointsMovement): Promise<{ movement: PointsMovement; balance: PointsBalance }>;
  /**
   * Takes the hold's points from the available balance into held, with the hold and its entry. Throws
   * InsufficientPoints (nothing written) when the balance does not cover them; returns false when the
   * payment already has a hold (a retried step), true when this call took it.
   */
  reserve(hold: PointsHold, entry: PointsMovement): Promise<boolean>;
  /** held → committed or released, with its entry, once: false when the hold was no longer `held`. */
  settle(paymentId: string, to: 'committed' | 'released', entry: PointsMovement): Promise<boolean>;
  /**
   * Gives back points of a committed hold for one refund, once per refund: false for a repeat;
   * PointsNotRefundable (nothing written) beyond what the hold has left or when it is not committed.
   */
  refund(paymentId: string, refundId: string, entry: PointsMovement): Promise<boolean>;
  hold(paymentId: string): Promise<PointsHold | null>;
}

// ---------------------------------------------------------------------------------------------------------
// The points of a payment: its points tender, and the ledger change each of its steps makes

/**
 * The points part of a payment (points-only, or a split with another method), fixed at creation.
 * `pending` until the saga holds them, then `held`; `committed` when the payment is captured, `released`
 * when it ends unpaid; `declined` when they could not be held (nothing was).
 */
export interface PaymentPoints {
  customerId: string;
  points: number;
  /** What the points are worth in the payment's currency (minor units): points × value per point. */
  value: number;
  status: 'pending' | 'held' | 'committed' | 'released' | 'declined';
  /** Points given back by refunds that succeeded (at most `points`). Absent: 0. */
  refunded?: number;
  /** Points of refunds in progress, given back when they succeed. Absent: 0. */
  refundPending?: number;
}

/**
 * How a refund of `amount` of a payment with points splits by the policy (splitRefund: money first, then
 * points), from what is left of each tender once the refunds so far (done or in progress) are counted.
 * `refundable` is what is left of the whole payment (captured − refunded − in progress).
 */
export function refundSplitOf(points: PaymentPoints, refundable: number, amount: number): RefundSplit {
  const valuePerPoint = points.value / points.points;
  const pointsLeft = points.points - (points.refunded ?? 0) - (points.refundPending ?? 0);
  return splitRefund(
    amount,
    { valuePerPoint },
    { other: refundable - pointsLeft * valuePerPoint, points: pointsLeft },
  );
}

/** What a payment's change does to its customer's points, written in the same transaction as the change. */
export type PointsChange =
  | { kind: 'reserve'; hold: PointsHold; entry: PointsMovement }
  | { kind: 'commit' | 'release'; paymentId: string; entry: PointsMovement }
  | { kind: 'refund'; paymentId: string; refundId: string; entry: PointsMovement };

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The id of the movement a payment's (or refund's) points change makes: time-ordered like every movement
 * id, and the same for the same change, so a step that runs again can never write a second entry.
 */
export function paymentMovementId(now: Date, paymentId: string, type: MovementType, refundId = ''): string {
  let time = '';
  let t = now.getTime();
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD.charAt(t % 32) + time;
    t = Math.floor(t / 32);
  }
  // Within one millisecond a payment's movements still sort in their order (hold, then its end, then
  // refunds), then FNV-1a over what the change is, spread to the other 15 base32 characters.
  let rest = { reserve: '1', commit: '2', release: '2', refund: '3', grant: '0' }[type];
  let hash = 0x811c9dc5;
  const text = `${paymentId}#${type}#${refundId}`;
  for (let round = 0; round < 15; round++) {
    for (const char of `${round}${text}`) {
      hash ^= char.charCodeAt(0);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    rest += CROCKFORD.charAt(hash % 32);
  }
  return `pm_${time}${rest}`;
}

/**
 * The ledger change between two versions of a payment, if any: `pending` → `held` takes the hold; `held`
 * → `committed` spends it; `held` → `released` gives it back.
 */
export function pointsChangeOf(
  merchantId: string,
  paymentId: string,
  before: PaymentPoints | undefined,
  after: PaymentPoints | undefined,
  now: Date,
): PointsChange | undefined {
  if (!before || !after || before.status === after.status) return undefined;
  const base = { merchantId, customerId: after.customerId, points: after.points, paymentId };
  if (before.status === 'pending' && after.status === 'held') {
    const at = now.toISOString();
    return {
      kind: 'reserve',
      hold: {
        paymentId,
        merchantId,
        customerId: after.customerId,
        points: after.points,
        status: 'held',
        refunded: 0,
        createdAt: at,
        updatedAt: at,
      },
      entry: movement({ ...base, id: paymentMovementId(now, paymentId, 'reserve'), type: 'reserve' }, now),
    };
  }
  if (before.status === 'held' && (after.status === 'committed' || after.status === 'released')) {
    const type = after.status === 'committed' ? 'commit' : 'release';
    return {
      kind: type,
      paymentId,
      entry: movement({ ...base, id: paymentMovementId(now, paymentId, type), type }, now),
    };
  }
  // Points never held (`pending` → `declined`): nothing moved in the ledger.
  if (before.status === 'pending' && after.status === 'declined') return undefined;
  throw new Error(`payment ${paymentId}: points cannot go from ${before.status} to ${after.status}`);
}

/** A payment's points once it ends: spent when it succeeded, given back otherwise (only a hold moves). */
export function pointsAtEnd(points: PaymentPoints, succeeded: boolean): PaymentPoints {
  if (points.status !== 'held') return points;
  return { ...points, status: succeeded ? 'committed' : 'released' };
}

/**
 * A capture or amount change of a payment with points moves only the other tender: the points are spent
 * whole, so the new amount must still cover them, and a points payment cannot take less than its amount.
 */
export function assertPointsKept(
  payment: { amount: number; points?: PaymentPoints; paymentMethod: { type: string } },
  amount: number,
): void {
  const points = payment.points;
  if (!points) return;
  if (payment.paymentMethod.type === 'points' && amount !== payment.amount) {
    throw new ValidationError('a points payment is captured whole', [
      { field: 'amount', message: `must be ${payment.amount}: points are spent whole` },
    ]);
  }
  otherTenderFor(amount, {
    points: points.points,
    pointsValue: points.value,
    other: payment.amount - points.value,
  });
}
