/**
 * The points ledger against DynamoDB Local: a balance never negative under 100 parallel holds, a hold
 * settled once, refunds given back once and never beyond the points spent, and the balance always equal
 * to the sum of the ledger's entries.
 */

import { DynamoPointsLedger, DynamoPointsPrograms } from '../../functions/adapters/dynamo-points.js';
import { createDocumentClient } from '../../functions/adapters/dynamo-repository.js';
import { InsufficientPoints, PointsNotRefundable } from '../../functions/core/errors.js';
import { type ContentionPolicy, retryOnStaleWrite } from '../../functions/core/flows/contention.js';
import { ulid } from '../../functions/core/ids.js';
import {
  type MovementType,
  movement,
  type PointsHold,
  type PointsMovement,
  sumMovements,
} from '../../functions/core/points.js';
import {
  customerPoints,
  customerPointsMovements,
  type GrantPointsDeps,
  grantPoints,
} from '../../functions/core/use-cases/points/customer-points.js';
import { freshTable } from '../support/dynamodb.js';

let ledger: DynamoPointsLedger;
beforeAll(async () => {
  const table = await freshTable('points');
  ledger = new DynamoPointsLedger(createDocumentClient(table.client), table.tableName);
});

const NOW = new Date('2026-12-02T04:00:00.000Z');
const MERCHANT = 'merchant_points';

function entry(
  customerId: string,
  type: MovementType,
  points: number,
  extra: Partial<PointsMovement> = {},
): PointsMovement {
  return movement({ id: `pm_${ulid()}`, merchantId: MERCHANT, customerId, type, points, ...extra }, NOW);
}

function hold(customerId: string, paymentId: string, points: number): PointsHold {
  return {
    paymentId,
    merchantId: MERCHANT,
    customerId,
    points,
    status: 'held',
    refunded: 0,
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
  };
}

async function allMovements(customerId: string): Promise<PointsMovement[]> {
  const all: PointsMovement[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await ledger.movements(MERCHANT, customerId, {
      limit: 25,
      order: 'oldest_first',
      ...(after ? { after } : {}),
    });
    all.push(...page.movements);
    after = page.movements.at(-1)?.id;
    if (!page.hasMore || !after) return all;
  }
}

/** The balance item and the sum of the ledger agree. */
async function expectConsistent(customerId: string) {
  const balance = await ledger.balance(MERCHANT, customerId);
  const sum = sumMovements(await allMovements(customerId));
  expect({ available: balance?.available, held: balance?.held }).toEqual(sum);
  return balance;
}

const contention: ContentionPolicy = {
  baseDelayMs: 5,
  maxDelayMs: 100,
  budgetMs: 60_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
  now: () => performance.now(),
};

describe('points ledger', () => {
  it('grants points into a new balance, with one ledger entry per grant (a repeat of one adds nothing)', async () => {
    const customer = `cus_${ulid()}`;
    expect(await ledger.balance(MERCHANT, customer)).toBeNull();
    const welcome = entry(customer, 'grant', 500, { reason: 'welcome' });
    const first = await ledger.grant(welcome);
    expect(first.balance).toMatchObject({ customerId: customer, available: 500, held: 0 });
    const second = await ledger.grant(entry(customer, 'grant', 250, { reason: 'promotion' }));
    expect(second.balance).toMatchObject({ available: 750, held: 0 });
    // The same entry again (a retried grant, later): nothing added, the entry answered as first written.
    const repeat = await ledger.grant({ ...welcome, at: '2026-12-02T05:00:00.000Z' });
    expect(repeat).toEqual({ movement: welcome, balance: expect.objectContaining({ available: 750 }) });
    const movements = await allMovements(customer);
    expect(movements.map((m) => [m.type, m.points, m.reason])).toEqual([
      ['grant', 500, 'welcome'],
      ['grant', 250, 'promotion'],
    ]);
    const newest = await ledger.movements(MERCHANT, customer, { limit: 1, order: 'newest_first' });
    expect(newest).toMatchObject({ hasMore: true, movements: [{ points: 250 }] });
    await expectConsistent(customer);
  });

  it('lets exactly 10 of 100 parallel holds through a balance that covers 10, never below zero', async () => {
    const customer = `cus_${ulid()}`;
    await ledger.grant(entry(customer, 'grant', 1000));
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const paymentId = `pay_${ulid()}_${i}`;
        try {
          await retryOnStaleWrite(contention, () =>
            ledger.reserve(hold(customer, paymentId, 100), entry(customer, 'reserve', 100, { paymentId })),
          );
          return 'held';
        } catch (error) {
          if (error instanceof InsufficientPoints) return 'insufficient';
          throw error;
        }
      }),
    );
    expect(outcomes.filter((o) => o === 'held')).toHaveLength(10);
    expect(outcomes.filter((o) => o === 'insufficient')).toHaveLength(90);
    const balance = await expectConsistent(customer);
    expect(balance).toMatchObject({ available: 0, held: 1000 });
    expect((await allMovements(customer)).filter((m) => m.type === 'reserve')).toHaveLength(10);
  }, 120_000);

  it('refuses a hold the balance does not cover, saying what is available, and writes nothing', async () => {
    const customer = `cus_${ulid()}`;
    await ledger.grant(entry(customer, 'grant', 40));
    const paymentId = `pay_${ulid()}`;
    const refused = ledger.reserve(
      hold(customer, paymentId, 41),
      entry(customer, 'reserve', 41, { paymentId }),
    );
    await expect(refused).rejects.toBeInstanceOf(InsufficientPoints);
    await expect(refused).rejects.toMatchObject({ code: 'insufficient_points', available: 40 });
    expect(await ledger.hold(paymentId)).toBeNull();
    expect(await allMovements(customer)).toHaveLength(1);
    // A customer without any balance has 0.
    const stranger = `cus_${ulid()}`;
    await expect(
      ledger.reserve(hold(stranger, paymentId, 1), entry(stranger, 'reserve', 1, { paymentId })),
    ).rejects.toMatchObject({ available: 0 });
    expect(await ledger.balance(MERCHANT, stranger)).toBeNull();
  });

  it('takes one hold per payment: a retried reserve changes nothing', async () => {
    const customer = `cus_${ulid()}`;
    await ledger.grant(entry(customer, 'grant', 300));
    const paymentId = `pay_${ulid()}`;
    expect(
      await ledger.reserve(hold(customer, paymentId, 100), entry(customer, 'reserve', 100, { paymentId })),
    ).toBe(true);
    expect(
      await ledger.reserve(hold(customer, paymentId, 100), entry(customer, 'reserve', 100, { paymentId })),
    ).toBe(false);
    expect(await expectConsistent(customer)).toMatchObject({ available: 200, held: 100 });
  });

  it('releases a hold exactly once, even when released in parallel, and never after it was committed', async () => {
    const customer = `cus_${ulid()}`;
    await ledger.grant(entry(customer, 'grant', 300));
    const released = `pay_${ulid()}`;
    await ledger.reserve(
      hold(customer, released, 120),
      entry(customer, 'reserve', 120, { paymentId: released }),
    );
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        retryOnStaleWrite(contention, () =>
          ledger.settle(released, 'released', entry(customer, 'release', 120, { paymentId: released })),
        ),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await ledger.hold(released)).toMatchObject({ status: 'released' });
    expect(await expectConsistent(customer)).toMatchObject({ available: 300, held: 0 });

    const committed = `pay_${ulid()}`;
    await ledger.reserve(
      hold(customer, committed, 200),
      entry(customer, 'reserve', 200, { paymentId: committed }),
    );
    expect(
      await ledger.settle(committed, 'committed', entry(customer, 'commit', 200, { paymentId: committed })),
    ).toBe(true);
    expect(
      await ledger.settle(committed, 'released', entry(customer, 'release', 200, { paymentId: committed })),
    ).toBe(false);
    expect(await ledger.hold(committed)).toMatchObject({ status: 'committed' });
    expect(await expectConsistent(customer)).toMatchObject({ available: 100, held: 0 });
  });

  it('gives back points of a committed hold once per refund, never more than were spent', async () => {
    const customer = `cus_${ulid()}`;
    await ledger.grant(entry(customer, 'grant', 500));
    const paymentId = `pay_${ulid()}`;
    await ledger.reserve(hold(customer, paymentId, 300), entry(customer, 'reserve', 300, { paymentId }));
    // Not committed yet: nothing to refund.
    await expect(
      ledger.refund(
        paymentId,
        're_early',
        entry(customer, 'refund', 10, { paymentId, refundId: 're_early' }),
      ),
    ).rejects.toMatchObject({ code: 'points_not_refundable', refundable: 0 });
    await ledger.settle(paymentId, 'committed', entry(customer, 'commit', 300, { paymentId }));

    // 6 parallel refunds of 100 against 300 spent: 3 fit, whatever the order.
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const refundId = `re_${i}`;
        try {
          return await retryOnStaleWrite(contention, () =>
            ledger.refund(paymentId, refundId, entry(customer, 'refund', 100, { paymentId, refundId })),
          );
        } catch (error) {
          if (error instanceof PointsNotRefundable) return 'beyond';
          throw error;
        }
      }),
    );
    expect(outcomes.filter((o) => o === true)).toHaveLength(3);
    expect(outcomes.filter((o) => o === 'beyond')).toHaveLength(3);
    // The same refund again is a repeat, not a second refund.
    const done = outcomes.indexOf(true);
    expect(
      await ledger.refund(
        paymentId,
        `re_${done}`,
        entry(customer, 'refund', 100, { paymentId, refundId: `re_${done}` }),
      ),
    ).toBe(false);
    expect(await ledger.hold(paymentId)).toMatchObject({ status: 'committed', points: 300, refunded: 300 });
    expect(await expectConsistent(customer)).toMatchObject({ available: 500, held: 0 });
  }, 60_000);
});

describe('customer points use cases', () => {
  let deps: GrantPointsDeps;
  let programs: DynamoPointsPrograms;
  beforeAll(async () => {
    const table = await freshTable('points-use-cases');
    const db = createDocumentClient(table.client);
    programs = new DynamoPointsPrograms(db, table.tableName);
    await programs.setProgram({ merchantId: MERCHANT, currency: 'THB', valuePerPoint: 100 });
    // Movements are ordered by their time (ms): the clock moves on with each reading.
    let tick = 0;
    const clock = { now: () => new Date(NOW.getTime() + tick++) };
    deps = {
      ledger: new DynamoPointsLedger(db, table.tableName),
      programs,
      clock,
      events: { publish: async () => {} },
    };
  });

  it('grants with a reason, reads the balance with the program, and pages the ledger both ways', async () => {
    const customerId = `cus_${ulid()}`;
    const granted = await grantPoints(deps, {
      merchantId: MERCHANT,
      customerId,
      points: 1200,
      reason: ' welcome ',
    });
    expect(granted).toMatchObject({
      movement: { type: 'grant', points: 1200, reason: 'welcome', available: 1200, held: 0 },
      balance: { available: 1200, held: 0 },
      program: { valuePerPoint: 100, currency: 'THB' },
    });
    for (const points of [1, 2, 3]) {
      await grantPoints(deps, { merchantId: MERCHANT, customerId, points, reason: 'correction' });
    }
    expect((await customerPoints(deps, { merchantId: MERCHANT, customerId })).balance.available).toBe(1206);
    const newest = await customerPointsMovements(deps, {
      merchantId: MERCHANT,
      customerId,
      limit: 2,
      order: 'newest_first',
    });
    expect(newest.movements.map((m) => m.points)).toEqual([3, 2]);
    const rest = await customerPointsMovements(deps, {
      merchantId: MERCHANT,
      customerId,
      limit: 2,
      order: 'newest_first',
      after: newest.movements.at(-1)?.id,
    });
    expect(rest).toMatchObject({ hasMore: false, movements: [{ points: 1 }, { points: 1200 }] });
  });

  it('refuses bad grants with a field, writing nothing', async () => {
    const customerId = `cus_${ulid()}`;
    for (const [points, reason, field] of [
      [0, 'x', 'points'],
      [-3, 'x', 'points'],
      [1.5, 'x', 'points'],
      [10, '   ', 'reason'],
    ] as const) {
      await expect(
        grantPoints(deps, { merchantId: MERCHANT, customerId, points, reason }),
      ).rejects.toMatchObject({
        code: 'validation_failed',
        details: [{ field }],
      });
    }
    await expect(customerPoints(deps, { merchantId: MERCHANT, customerId })).rejects.toMatchObject({
      code: 'resource_not_found',
    });
  });

  it("never shows another merchant's customer, and refuses a merchant without a program", async () => {
    const customerId = `cus_${ulid()}`;
    await grantPoints(deps, { merchantId: MERCHANT, customerId, points: 10, reason: 'welcome' });
    await programs.setProgram({ merchantId: 'merchant_other', currency: 'THB', valuePerPoint: 100 });
    await expect(customerPoints(deps, { merchantId: 'merchant_other', customerId })).rejects.toMatchObject({
      code: 'resource_not_found',
    });
    await expect(
      grantPoints(deps, { merchantId: 'merchant_none', customerId, points: 10, reason: 'welcome' }),
    ).rejects.toMatchObject({ code: 'points_not_enabled' });
    await expect(
      customerPointsMovements(deps, {
        merchantId: MERCHANT,
        customerId,
        limit: 10,
        order: 'oldest_first',
        after: 'x',
      }),
    ).rejects.toMatchObject({ code: 'validation_failed', details: [{ field: 'cursor' }] });
  });
});
