/**
 * The saga steps of a split payment against DynamoDB Local, with a scripted KBank: the points are held by
 * Authorize before KBank is asked for anything, so points spent by someone else after the creation's check
 * decline the payment with nothing held and no call to KBank; a decline, a capture or a step re-run moves
 * each hold once, in the payment's own transaction.
 */
import { DynamoPointsLedger } from '../../functions/adapters/dynamo-points.js';
import {
  createDocumentClient,
  type DynamoTable,
  dynamoTable,
} from '../../functions/adapters/dynamo-repository.js';
import { DEFAULT_POLICY, type SagaDeps } from '../../functions/core/flows/payment-step.js';
import { ulid } from '../../functions/core/ids.js';
import { movement, type PaymentPoints, sumMovements } from '../../functions/core/points.js';
import type { Kbank } from '../../functions/core/ports.js';
import { authorize } from '../../functions/core/use-cases/payment-saga/authorize.js';
import { capture } from '../../functions/core/use-cases/payment-saga/capture.js';
import { freshTable } from '../support/dynamodb.js';
import { charge, fixedClock, fixedCost, scriptedKbank } from '../support/fakes.js';
import { aPayment } from '../support/payments.js';

let repo: DynamoTable;
let ledger: DynamoPointsLedger;
const NOW = new Date('2026-12-02T04:00:00.000Z');
const verification = { totalAmount: 72500, verifiedAt: NOW.toISOString() };

beforeAll(async () => {
  const { client, tableName } = await freshTable('points_steps');
  const db = createDocumentClient(client);
  repo = dynamoTable(db, tableName);
  ledger = new DynamoPointsLedger(db, tableName);
});

function deps(kbank: Kbank): SagaDeps {
  return {
    repo,
    kbank,
    cost: fixedCost(72500),
    clock: fixedClock(NOW.toISOString()),
    policy: DEFAULT_POLICY,
    tasks: { succeed: async () => true, fail: async () => true },
  };
}

/** A customer with `points`, and a stored split payment of 72500: 300 points and 42500 by card. */
async function splitPayment(points: number) {
  const customerId = `cus-${ulid()}`;
  if (points > 0) {
    // Granted a second before the saga's steps run (the steps' clock is fixed at NOW).
    const before = new Date(NOW.getTime() - 1000);
    await ledger.grant(
      movement(
        { id: `pm_${ulid(before.getTime())}`, merchantId: 'm1', customerId, type: 'grant', points },
        before,
      ),
    );
  }
  const tender: PaymentPoints = { customerId, points: 300, value: 30000, status: 'pending' };
  const { payment, audit } = aPayment(
    {
      amount: 72500,
      customer: { id: customerId },
      order: { id: 'o1', lines: [{ sku: 'SKU-A', quantity: 1, unitAmount: 72500 }] },
      points: tender,
    },
    NOW,
  );
  expect(await repo.create(payment, audit)).toBe(true);
  return { payment, customerId };
}

async function pointsOf(customerId: string) {
  const balance = await ledger.balance('m1', customerId);
  const page = await ledger.movements('m1', customerId, { limit: 100, order: 'oldest_first' });
  expect({ available: balance?.available ?? 0, held: balance?.held ?? 0 }).toEqual(
    page.movements.length === 0 ? { available: 0, held: 0 } : sumMovements(page.movements),
  );
  return {
    available: balance?.available ?? 0,
    held: balance?.held ?? 0,
    movements: page.movements.map((m) => `${m.type}:${m.points}`),
  };
}

describe('Authorize of a split payment', () => {
  it('declines without calling KBank when the points were spent after the creation’s check', async () => {
    const { payment, customerId } = await splitPayment(300);
    // Someone else's payment holds the same points first.
    const other = `pay_${ulid()}`;
    await ledger.reserve(
      {
        paymentId: other,
        merchantId: 'm1',
        customerId,
        points: 250,
        status: 'held',
        refunded: 0,
        createdAt: NOW.toISOString(),
        updatedAt: NOW.toISOString(),
      },
      movement(
        { id: `pm_${ulid()}`, merchantId: 'm1', customerId, type: 'reserve', points: 250, paymentId: other },
        NOW,
      ),
    );
    const kbank = scriptedKbank({});
    const result = await authorize(deps(kbank), {
      paymentId: payment.id,
      previous: { outcome: 'verified', verification },
    });
    expect(result.outcome).toBe('declined');
    expect(kbank.calls).toEqual([]);
    expect(await repo.get(payment.id)).toMatchObject({
      status: 'failed',
      attemptCount: 0,
      failure: { code: 'insufficient_points' },
      points: { status: 'declined' },
    });
    expect(await ledger.hold(payment.id)).toBeNull();
    expect(await pointsOf(customerId)).toEqual({
      available: 50,
      held: 250,
      movements: ['grant:300', 'reserve:250'],
    });
  });

  it('holds the points, then charges KBank only the rest; a re-run holds nothing twice and charges nothing twice', async () => {
    const { payment, customerId } = await splitPayment(500);
    const amounts: number[] = [];
    const kbank = scriptedKbank({
      chargeCard: async (request) => {
        amounts.push(request.amount);
        return charge({ amount: request.amount, referenceOrder: request.referenceOrder });
      },
      settleCharge: async (chargeId, amount) => charge({ chargeId, amount, state: 'Settled' }),
    });
    const first = await authorize(deps(kbank), {
      paymentId: payment.id,
      previous: { outcome: 'verified', verification },
    });
    expect(first.outcome).toBe('authorized');
    expect(amounts).toEqual([42500]);
    expect(await repo.get(payment.id)).toMatchObject({ amountAuthorized: 72500, points: { status: 'held' } });
    const again = await authorize(deps(kbank), { paymentId: payment.id });
    expect(again.outcome).toBe('authorized');
    expect(amounts).toEqual([42500]);
    expect(await pointsOf(customerId)).toEqual({
      available: 200,
      held: 300,
      movements: ['grant:500', 'reserve:300'],
    });

    expect((await capture(deps(kbank), { paymentId: payment.id })).outcome).toBe('captured');
    expect((await capture(deps(kbank), { paymentId: payment.id })).outcome).toBe('captured');
    expect(kbank.calls.filter((call) => call === 'settleCharge')).toHaveLength(1);
    expect(await ledger.hold(payment.id)).toMatchObject({ status: 'committed' });
    expect(await pointsOf(customerId)).toEqual({
      available: 200,
      held: 0,
      movements: ['grant:500', 'reserve:300', 'commit:300'],
    });
  });

  it('gives the points back in the transaction that records the decline', async () => {
    const { payment, customerId } = await splitPayment(300);
    const kbank = scriptedKbank({
      chargeCard: async (request) =>
        charge({ amount: request.amount, status: 'fail', state: 'Declined', failureCode: 'card_declined' }),
    });
    const result = await authorize(deps(kbank), {
      paymentId: payment.id,
      previous: { outcome: 'verified', verification },
    });
    expect(result.outcome).toBe('declined');
    const audit = (await repo.listAudit(payment.id, { limit: 20 })).entries;
    expect(audit.find((e) => e.type === 'payment.failed')?.detail).toMatchObject({
      points: { movement: 'release', points: 300 },
    });
    expect(await ledger.hold(payment.id)).toMatchObject({ status: 'released' });
    expect(await pointsOf(customerId)).toEqual({
      available: 300,
      held: 0,
      movements: ['grant:300', 'reserve:300', 'release:300'],
    });
  });
});
