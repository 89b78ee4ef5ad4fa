/**
 * A payment saga step run as its task runs it (flows/payment-task.ts): on the payment the saga carries
 * instead of a read, re-read after a lost race, and publishing its own events once its change is recorded
 * (EventNotPublished, with the events, when the bus refuses them; the hand-over reads them back).
 */
import { EventNotPublished, StaleWriteError } from '../../functions/core/errors.js';
import { DEFAULT_POLICY, startStep } from '../../functions/core/flows/payment-step.js';
import { runPaymentStep, type SagaTaskDeps } from '../../functions/core/flows/payment-task.js';
import type { Attempt, Change } from '../../functions/core/payment.js';
import type { EventPublisher } from '../../functions/core/ports.js';
import { authorize } from '../../functions/core/use-cases/payment-saga/authorize.js';
import { capture } from '../../functions/core/use-cases/payment-saga/capture.js';
import { failPayment } from '../../functions/core/use-cases/payment-saga/fail-payment.js';
import { verifyCost } from '../../functions/core/use-cases/payment-saga/verify-cost.js';
import { ReentryInputSchema } from '../../schemas/saga.js';
import { charge, fixedClock, fixedCost, MemoryRepository, scriptedKbank } from '../support/fakes.js';
import { aPayment } from '../support/payments.js';

/** Counts the reads, and can make the next commit lose its race once. */
class CountingRepository extends MemoryRepository {
  reads = 0;
  loseNextRace = false;
  override async get(paymentId: string) {
    this.reads += 1;
    return super.get(paymentId);
  }
  override async getAttempt(paymentId: string, no: number) {
    this.reads += 1;
    return super.getAttempt(paymentId, no);
  }
  override async commit(change: Change, attempt?: Attempt) {
    if (this.loseNextRace) {
      this.loseNextRace = false;
      throw new StaleWriteError('another writer won');
    }
    return super.commit(change, attempt);
  }
}

const noSleep = {
  ...DEFAULT_POLICY,
  contention: {
    baseDelayMs: 1,
    maxDelayMs: 1,
    budgetMs: 1000,
    sleep: async () => {},
    random: () => 0,
    now: Date.now,
  },
};

async function setup(bus: EventPublisher['publish'] = async () => {}) {
  const repo = new CountingRepository();
  const { payment, audit } = aPayment({ amount: 70900 });
  await repo.create(payment, audit);
  const published: string[][] = [];
  const deps: SagaTaskDeps = {
    repo,
    kbank: scriptedKbank({
      chargeCard: async (request) => charge({ referenceOrder: request.referenceOrder }),
      settleCharge: async () => charge({ state: 'Settled' }),
    }),
    cost: fixedCost(70900),
    clock: fixedClock(),
    policy: noSleep,
    tasks: { succeed: async () => true, fail: async () => true },
    events: {
      publish: async (entries) => {
        await bus(entries);
        published.push(entries.map((entry) => entry.type));
      },
    },
  };
  return { repo, deps, payment, published };
}

describe('a payment saga task', () => {
  it('runs a card payment on the carried payment: no read, the creation announced first, each event once', async () => {
    const { repo, deps, payment, published } = await setup();
    const verified = await runPaymentStep(deps, verifyCost, {
      paymentId: payment.id,
      previous: startStep(payment, true),
    });
    const authorized = await runPaymentStep(deps, authorize, { paymentId: payment.id, previous: verified });
    expect(authorized.outcome).toBe('authorized');
    expect(authorized.carried?.attempt).toMatchObject({ state: 'authorized', no: 1 });
    const captured = await runPaymentStep(deps, capture, { paymentId: payment.id, previous: authorized });
    expect(captured.outcome).toBe('captured');

    expect(repo.reads).toBe(0);
    expect(published).toEqual([['payment.created'], ['payment.authorized'], ['payment.captured']]);
    expect(captured.carried?.payment).toEqual(await repo.get(payment.id));
    expect(repo.types(payment.id)).toEqual([
      'payment.created',
      'cost.verified',
      'authorization.requested',
      'payment.authorized',
      'payment.captured',
    ]);
  });

  it('reads the record again after losing the race for the carried version, and applies itself once', async () => {
    const { repo, deps, payment } = await setup();
    const verified = await runPaymentStep(deps, verifyCost, {
      paymentId: payment.id,
      previous: startStep(payment, true),
    });
    repo.loseNextRace = true;
    const authorized = await runPaymentStep(deps, authorize, { paymentId: payment.id, previous: verified });
    expect(authorized.outcome).toBe('authorized');
    expect(repo.reads).toBeGreaterThan(0);
    expect(repo.types(payment.id).filter((type) => type === 'authorization.requested')).toHaveLength(1);
  });

  it('keeps the change and throws EventNotPublished with its events when the bus refuses them', async () => {
    const { repo, deps, payment } = await setup(async () => {
      throw new Error('EventBridge is unavailable');
    });
    const verified = await runPaymentStep({ ...deps, events: { publish: async () => {} } }, verifyCost, {
      paymentId: payment.id,
      previous: startStep(payment, true),
    });
    const refused = runPaymentStep(deps, authorize, { paymentId: payment.id, previous: verified });
    await expect(refused).rejects.toBeInstanceOf(EventNotPublished);
    const error = (await refused.catch((e: unknown) => e)) as EventNotPublished;
    expect(error.name).toBe('EventNotPublished');
    expect(error.events.map((event) => event.type)).toEqual(['payment.authorized']);
    expect(await repo.get(payment.id)).toMatchObject({ status: 'processing', amountAuthorized: 70900 });

    // What the state machine hands to Reenter: the task error, whose cause carries the events.
    const cause = JSON.stringify({ errorType: error.name, errorMessage: error.message });
    const input = ReentryInputSchema.parse({
      paymentId: payment.id,
      unpublished: { Error: 'EventNotPublished', Cause: cause },
    });
    expect(input.unpublished?.map((event) => event.event_id)).toEqual(error.events.map((e) => e.event_id));
  });

  it('announces the creation with the first step that records anything, even a failure', async () => {
    const { deps, payment, published } = await setup();
    await runPaymentStep(deps, failPayment, {
      paymentId: payment.id,
      previous: startStep(payment, true),
      error: { Error: 'CostServiceUnavailable' },
    });
    expect(published).toEqual([['payment.created', 'payment.failed']]);
  });

  it('publishes the points its payment moved again when it runs again from the record (it died before its publish)', async () => {
    const { deps, repo } = await setup();
    const { payment, audit } = aPayment({
      amount: 70900,
      paymentMethod: { type: 'points' },
      points: { customerId: 'c1', points: 709, value: 70900, status: 'pending' },
    });
    await repo.create(payment, audit);
    const sent: { type: string; detail: Record<string, unknown> }[][] = [];
    const bus = { publish: async (entries: (typeof sent)[number]) => void sent.push(entries) };
    const verified = await runPaymentStep({ ...deps, events: bus }, verifyCost, {
      paymentId: payment.id,
      previous: startStep(payment, true),
    });
    const authorized = await runPaymentStep({ ...deps, events: bus }, authorize, {
      paymentId: payment.id,
      previous: verified,
    });
    expect(sent.at(-1)?.map((entry) => entry.type)).toEqual(['points.reserved', 'payment.authorized']);
    // The capture is recorded, then the task dies before anything reaches the bus.
    const dead = { publish: async () => Promise.reject(new Error('the task died')) };
    await expect(
      runPaymentStep({ ...deps, events: dead }, capture, { paymentId: payment.id, previous: authorized }),
    ).rejects.toBeInstanceOf(EventNotPublished);
    expect(await repo.get(payment.id)).toMatchObject({
      status: 'succeeded',
      points: { status: 'committed' },
    });
    // Run again from the record: the capture's event and the points it spent, under the ids they had.
    const committed = repo.audit.find((e) => e.paymentId === payment.id && e.type === 'payment.captured');
    if (!committed) throw new Error('no payment.captured entry');
    const again = await runPaymentStep({ ...deps, events: bus }, capture, { paymentId: payment.id });
    expect(again.outcome).toBe('captured');
    const last = sent.at(-1) ?? [];
    expect(last.map((entry) => entry.type)).toEqual([
      'points.reserved',
      'payment.captured',
      'points.committed',
    ]);
    const reserved = sent.flat().filter((entry) => entry.type === 'points.reserved');
    expect(reserved[1]?.detail).toEqual(reserved[0]?.detail);
    expect(last[2]?.detail).toMatchObject({
      event_id: `evt_${(committed.detail.points as { movementId: string }).movementId}`,
      sequence: committed.seq,
      movement: { type: 'commit', points: 709, available: 0, held: -709, payment_id: payment.id },
    });
  });
});
