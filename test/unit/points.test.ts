/** The points rules: exact splits of a payment, the refund policy (money first, then points), movements. */
import { ValidationError } from '../../functions/core/errors.js';
import {
  MOVEMENT_EFFECTS,
  movement,
  otherTenderFor,
  type PaymentPoints,
  type PointsProgram,
  paymentMovementId,
  pointsAtEnd,
  pointsChangeOf,
  refundSplitOf,
  splitRefund,
  splitTender,
  sumMovements,
} from '../../functions/core/points.js';

/** 1 point = 1.00 THB. */
const PROGRAM: PointsProgram = { merchantId: 'm1', currency: 'THB', valuePerPoint: 100 };

function problemOf(run: () => unknown): { field: string; message: string } | undefined {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).details[0];
  }
  throw new Error('expected a ValidationError');
}

const fieldOf = (run: () => unknown) => problemOf(run)?.field;

describe('splitTender', () => {
  it('pays a whole amount with points when it is a whole number of points', () => {
    expect(splitTender(72500, PROGRAM, { pointsOnly: true })).toEqual({
      points: 725,
      pointsValue: 72500,
      other: 0,
    });
    expect(fieldOf(() => splitTender(72550, PROGRAM, { pointsOnly: true }))).toBe('amount');
  });

  it('splits exactly: amount = points × value + the other tender', () => {
    const split = splitTender(72550, PROGRAM, { points: 300 });
    expect(split).toEqual({ points: 300, pointsValue: 30000, other: 42550 });
    expect(split.points * PROGRAM.valuePerPoint + split.other).toBe(72550);
  });

  it.each([
    ['zero', 0],
    ['negative', -5],
    ['fractional', 2.5],
    ['not a number', '10' as unknown as number],
    ['too many', 2_000_000_000],
  ])('refuses %s points on the points field', (_, points) => {
    expect(fieldOf(() => splitTender(72500, PROGRAM, { points }))).toBe('points.amount');
  });

  it('refuses points worth the whole amount or more in a split (pay with points only instead)', () => {
    expect(fieldOf(() => splitTender(72500, PROGRAM, { points: 725 }))).toBe('points.amount');
    expect(fieldOf(() => splitTender(72500, PROGRAM, { points: 800 }))).toBe('points.amount');
  });
});

describe('otherTenderFor: a capture or amount change moves only the other tender', () => {
  const split = splitTender(72500, PROGRAM, { points: 200 });
  it.each([
    [72500, 52500],
    [60000, 40000],
    [20000, 0],
  ])('amount %i → other tender %i', (amount, other) => {
    expect(otherTenderFor(amount, split)).toBe(other);
  });
  it('refuses an amount below the points paid', () => {
    expect(fieldOf(() => otherTenderFor(19999, split))).toBe('amount');
  });
});

describe('splitRefund: money first, then whole points, never more of either than is left', () => {
  it.each([
    // amount, left other, left points → other, points
    [10000, 42500, 300, 10000, 0],
    [42500, 42500, 300, 42500, 0],
    [52500, 42500, 300, 42500, 100],
    [72500, 42500, 300, 42500, 300],
    [5000, 0, 300, 0, 50],
    [30000, 0, 300, 0, 300],
  ])(
    'refund %i of (other %i, points %i) → other %i, points %i',
    (amount, other, points, toOther, toPoints) => {
      expect(splitRefund(amount, PROGRAM, { other, points })).toEqual({ other: toOther, points: toPoints });
    },
  );

  it('refuses a points part that is not whole points, saying what can be refunded', () => {
    const problem = problemOf(() => splitRefund(42550, PROGRAM, { other: 42500, points: 300 }));
    expect(problem?.field).toBe('amount');
    expect(problem?.message).toMatch(/multiple of 100 \(or refund at most 42500\)/);
  });

  it('refuses more than is left of both', () => {
    expect(fieldOf(() => splitRefund(72600, PROGRAM, { other: 42500, points: 300 }))).toBe('amount');
    expect(problemOf(() => splitRefund(100, PROGRAM, { other: 0, points: 0 }))?.message).toMatch(
      /at most 0 /,
    );
  });

  it('never returns more of either tender than was paid, however a payment is refunded in parts', () => {
    const paid = { other: 42550, points: 300 };
    for (const parts of [
      [10000, 10000, 22550, 30000],
      [42550, 100, 29900],
      [50, 42500, 30000],
    ]) {
      const left = { ...paid };
      for (const part of parts) {
        const refund = splitRefund(part, PROGRAM, left);
        left.other -= refund.other;
        left.points -= refund.points;
        expect(left.other).toBeGreaterThanOrEqual(0);
        expect(left.points).toBeGreaterThanOrEqual(0);
      }
      expect(left).toEqual({ other: 0, points: 0 });
    }
  });
});

describe('movements', () => {
  it('carry the signed changes of their type, and the balance is their sum', () => {
    const now = new Date('2026-12-02T04:00:00.000Z');
    const base = { merchantId: 'm1', customerId: 'c1' };
    const entries = [
      movement({ ...base, id: 'pm_1', type: 'grant', points: 1000 }, now),
      movement({ ...base, id: 'pm_2', type: 'reserve', points: 300, paymentId: 'pay_1' }, now),
      movement({ ...base, id: 'pm_3', type: 'commit', points: 300, paymentId: 'pay_1' }, now),
      movement({ ...base, id: 'pm_4', type: 'reserve', points: 200, paymentId: 'pay_2' }, now),
      movement({ ...base, id: 'pm_5', type: 'release', points: 200, paymentId: 'pay_2' }, now),
      movement(
        { ...base, id: 'pm_6', type: 'refund', points: 100, paymentId: 'pay_1', refundId: 're_1' },
        now,
      ),
    ];
    expect(entries[1]).toMatchObject({ available: -300, held: 300, at: now.toISOString() });
    expect(sumMovements(entries)).toEqual({ available: 800, held: 0 });
    for (const effect of Object.values(MOVEMENT_EFFECTS)) {
      // Points move between available and held, or in or out of the balance: never both out.
      expect(effect.available + effect.held).toBeGreaterThanOrEqual(-1);
    }
  });
});

describe("a payment's points changes", () => {
  const now = new Date('2026-12-02T04:00:00.000Z');
  const tender = (status: PaymentPoints['status']): PaymentPoints => ({
    customerId: 'c1',
    points: 300,
    value: 30000,
    status,
  });

  it('name each movement once per payment and type, time-ordered and in lifecycle order within a millisecond', () => {
    const reserve = paymentMovementId(now, 'pay_1', 'reserve');
    const release = paymentMovementId(now, 'pay_1', 'release');
    const refund = paymentMovementId(now, 'pay_1', 'refund', 're_1');
    for (const id of [reserve, release, refund]) expect(id).toMatch(/^pm_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(paymentMovementId(now, 'pay_1', 'reserve')).toBe(reserve);
    expect(paymentMovementId(now, 'pay_2', 'reserve')).not.toBe(reserve);
    expect(paymentMovementId(now, 'pay_1', 'refund', 're_2')).not.toBe(refund);
    expect([refund, release, reserve].sort()).toEqual([reserve, release, refund]);
  });

  it.each([
    ['pending', 'held', 'reserve', { available: -300, held: 300 }],
    ['held', 'committed', 'commit', { available: 0, held: -300 }],
    ['held', 'released', 'release', { available: 300, held: -300 }],
  ] as const)('%s → %s is a %s movement', (from, to, kind, effect) => {
    const change = pointsChangeOf('m1', 'pay_1', tender(from), tender(to), now);
    expect(change?.kind).toBe(kind);
    expect(change?.entry).toMatchObject({ type: kind, points: 300, paymentId: 'pay_1', ...effect });
  });

  it('moves nothing when the points were never held, or did not change', () => {
    expect(pointsChangeOf('m1', 'pay_1', tender('pending'), tender('declined'), now)).toBeUndefined();
    expect(pointsChangeOf('m1', 'pay_1', tender('held'), tender('held'), now)).toBeUndefined();
    expect(() => pointsChangeOf('m1', 'pay_1', tender('released'), tender('committed'), now)).toThrow();
  });

  it('spend a hold when the payment succeeds and give it back on any other end', () => {
    expect(pointsAtEnd(tender('held'), true).status).toBe('committed');
    expect(pointsAtEnd(tender('held'), false).status).toBe('released');
    expect(pointsAtEnd(tender('pending'), false).status).toBe('pending');
  });

  it('split refunds of a split payment money first, counting refunds in progress', () => {
    // 72500 = 42500 card + 300 points; 20000 refunded to the card so far, 100 points in progress.
    const points = { ...tender('committed'), refundPending: 100 };
    const refundable = 72500 - 20000 - 10000;
    expect(refundSplitOf(points, refundable, 22500)).toEqual({ other: 22500, points: 0 });
    expect(refundSplitOf(points, refundable, refundable)).toEqual({ other: 22500, points: 200 });
    expect(fieldOf(() => refundSplitOf(points, refundable, 42600))).toBe('amount');
  });
});
