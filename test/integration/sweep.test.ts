/**
 * The sweep's schedule against DynamoDB Local, with a scripted view of Step Functions and an injected clock:
 * restarts are bounded, a saga still running is looked at again (not restarted), what stays open after the
 * schedule is unresolved (listed, out of the due index, reported), and the index holds open items only.
 */
import {
  createDocumentClient,
  type DynamoTable,
  dynamoTable,
} from '../../functions/adapters/dynamo-repository.js';
import { KbankOutcomeUnknown } from '../../functions/core/errors.js';
import { applyStep, noteStep, type Payment } from '../../functions/core/payment.js';
import type { KbankCharge, SagaRunStatus, SagaRuns } from '../../functions/core/ports.js';
import type { SweepPolicy } from '../../functions/core/reconciliation.js';
import { sweep } from '../../functions/core/use-cases/operations/sweep.js';
import { eventDetail } from '../../functions/core/views.js';
import { freshTable } from '../support/dynamodb.js';
import { scriptedKbank } from '../support/fakes.js';
import { aPayment } from '../support/payments.js';

const POLICY: SweepPolicy = { graceSeconds: 60, backoffSeconds: [100, 200] };
let repo: DynamoTable;
beforeAll(async () => {
  const { client, tableName } = await freshTable('sweep');
  repo = dynamoTable(createDocumentClient(client), tableName, undefined, POLICY);
});

function runs(
  status: (name: string) => SagaRunStatus,
): SagaRuns & { started: string[]; inputs: Record<string, unknown>[] } {
  const started: string[] = [];
  const inputs: Record<string, unknown>[] = [];
  return {
    started,
    inputs,
    start: async (name, input) => {
      started.push(name);
      inputs.push(input);
    },
    status: async (name) => status(name),
  };
}

async function openPayment(at: Date): Promise<Payment> {
  const { payment, audit } = aPayment({}, at);
  await repo.create(payment, audit);
  return payment;
}

it('restarts a dead saga on a growing schedule, then gives the payment up to an operator', async () => {
  const t0 = new Date('2026-12-01T00:00:00.000Z');
  const payment = await openPayment(t0);
  const payments = runs(() => 'ended');
  const unresolved: string[] = [];
  let now = new Date(t0.getTime() + 59_000);
  const deps = {
    repo,
    payments,
    refunds: runs(() => 'not_found'),
    kbank: scriptedKbank({}),
    clock: { now: () => now },
    policy: POLICY,
    captureWindowSeconds: 3600,
    onUnresolved: (item: { paymentId: string }) => unresolved.push(item.paymentId),
  };
  // Within its grace period: not due.
  expect((await sweep(deps)).examined).toBe(0);

  now = new Date(t0.getTime() + 61_000);
  expect(await sweep(deps)).toMatchObject({ examined: 1, restarted: 1 });
  expect(payments.started).toEqual([`${payment.id}-r1`]);
  // The next look is 100 s later (the first backoff step, longer than the grace), not before.
  now = new Date(t0.getTime() + 150_000);
  expect((await sweep(deps)).examined).toBe(0);
  now = new Date(t0.getTime() + 162_000);
  expect(await sweep(deps)).toMatchObject({ restarted: 1 });
  expect(payments.started).toEqual([`${payment.id}-r1`, `${payment.id}-r2`]);

  now = new Date(t0.getTime() + 400_000);
  expect(await sweep(deps)).toMatchObject({ unresolved: 1, restarted: 0 });
  expect(unresolved).toEqual([payment.id]);
  const stored = await repo.get(payment.id);
  expect(stored?.status).toBe('processing');
  expect(stored?.reconciliation).toMatchObject({ restarts: 2, sweeps: 2, unresolvedAt: now.toISOString() });
  expect((await repo.listUnresolved(100)).map((item) => item.paymentId)).toContain(payment.id);
  expect((await repo.listDue('9999-12-31', 100)).map((item) => item.paymentId)).not.toContain(payment.id);
  const types = (await repo.listAudit(payment.id, { limit: 100 })).entries.map((entry) => entry.type);
  expect(types).toEqual([
    'payment.created',
    'reconciliation.saga_restarted',
    'reconciliation.saga_restarted',
    'reconciliation.unresolved',
  ]);
});

it('looks again later at a payment whose saga still runs, without restarting it', async () => {
  const t0 = new Date('2026-12-01T01:00:00.000Z');
  const payment = await openPayment(t0);
  const payments = runs((name) => (name === payment.id ? 'running' : 'not_found'));
  const now = new Date(t0.getTime() + 61_000);
  const deps = {
    repo,
    payments,
    refunds: runs(() => 'not_found'),
    kbank: scriptedKbank({}),
    clock: { now: () => now },
    policy: POLICY,
    captureWindowSeconds: 3600,
  };
  const report = await sweep(deps, { dueBefore: now.toISOString() });
  expect(report).toMatchObject({ examined: 1, lookedAgain: 1 });
  expect(payments.started).toEqual([]);
  expect((await repo.get(payment.id))?.reconciliation).toMatchObject({ restarts: 0, sweeps: 1 });
});

it('keeps only open payments in the due index', async () => {
  const t0 = new Date('2026-12-01T02:00:00.000Z');
  const payment = await openPayment(t0);
  const due = async () =>
    (await repo.listDue('9999-12-31', 1000)).filter((item) => item.paymentId === payment.id);
  expect(await due()).toEqual([{ kind: 'payment', paymentId: payment.id, at: '2026-12-01T02:01:00.000Z' }]);
  await repo.commit(applyStep(payment, { type: 'payment.failed', actor: 'saga', status: 'failed' }, t0));
  expect(await due()).toEqual([]);
});

it('sweeps a payment that ended only while it holds an event its saga could not publish', async () => {
  const t0 = new Date('2026-12-01T03:00:00.000Z');
  const opened = await openPayment(t0);
  const ended = applyStep(opened, { type: 'payment.failed', actor: 'saga', status: 'failed' }, t0);
  await repo.commit(ended);
  const t1 = new Date(t0.getTime() + 1000);
  const event = eventDetail('payment.failed', ended.next);
  await repo.commit(
    noteStep(
      ended.next,
      { type: 'event.undelivered', actor: 'saga', patch: { undeliveredEvents: [event] } },
      t1,
    ),
  );
  const payments = runs(() => 'ended');
  const deps = {
    repo,
    payments,
    refunds: runs(() => 'not_found'),
    kbank: scriptedKbank({}),
    clock: { now: () => t1 },
    policy: POLICY,
    captureWindowSeconds: 3600,
  };
  // Due at once, not a grace period later: its saga handed it over (the earlier tests' payments may be due too).
  expect((await sweep(deps, { dueBefore: new Date(t1.getTime() + 1).toISOString() })).errors).toBe(0);
  const index = payments.started.indexOf(`${opened.id}-r1`);
  expect(index).toBeGreaterThanOrEqual(0);
  expect(payments.inputs[index]).toMatchObject({ paymentId: opened.id, resume: true });
  const restarted = await repo.get(opened.id);
  expect(restarted).toMatchObject({ status: 'failed', reconciliation: { restarts: 1, sweeps: 1 } });

  // Once the resumed run released it, the payment leaves the index for good.
  if (!restarted) throw new Error('no payment');
  await repo.commit(
    noteStep(
      restarted,
      { type: 'event.redelivered', actor: 'saga', patch: { undeliveredEvents: undefined } },
      t1,
    ),
  );
  expect((await repo.listDue('9999-12-31', 1000)).some((item) => item.paymentId === opened.id)).toBe(false);
});

describe('the late-charge check of a payment that failed on unanswered charge calls', () => {
  async function failedOnSilence(t0: Date, checkAt: Date) {
    const opened = await openPayment(t0);
    const attempt = {
      paymentId: opened.id,
      no: 1,
      referenceOrder: `${opened.id}-1`,
      state: 'declined' as const,
      chargeCalls: 3,
      createdAt: t0.toISOString(),
      updatedAt: t0.toISOString(),
    };
    await repo.commit(
      applyStep(
        opened,
        {
          type: 'payment.failed',
          actor: 'saga',
          status: 'failed',
          patch: { attemptCount: 1, lateChargeCheckAt: checkAt.toISOString() },
        },
        t0,
      ),
      attempt,
    );
    return opened;
  }
  /** The sweep's deps for these tests: every saga ended, KBank as scripted, the clock as given. */
  const lateDeps = (kbank: ReturnType<typeof scriptedKbank>, now: () => Date) => ({
    repo,
    payments: runs(() => 'ended'),
    refunds: runs(() => 'not_found'),
    kbank,
    clock: { now },
    policy: POLICY,
    captureWindowSeconds: 3600,
  });
  const landed = (referenceOrder: string, state: KbankCharge['state']): KbankCharge => ({
    chargeId: `chrg_test_late_${referenceOrder.slice(-8)}`,
    referenceOrder,
    status: 'success',
    state,
    amount: 72500,
    currency: 'THB',
  });

  it('gives back a charge that landed after the payment failed, once, and leaves the index', async () => {
    const t0 = new Date('2026-12-01T04:00:00.000Z');
    const checkAt = new Date(t0.getTime() + 300_000);
    const payment = await failedOnSilence(t0, checkAt);
    const voided: string[] = [];
    const kbank = scriptedKbank({
      inquireCharge: async (ref) =>
        'referenceOrder' in ref ? landed(ref.referenceOrder, 'Authorized') : null,
      voidCharge: async (chargeId) => {
        voided.push(chargeId);
        return { ...landed(`${payment.id}-1`, 'Voided'), chargeId };
      },
    });
    let now = new Date(checkAt.getTime() - 1000);
    const deps = lateDeps(kbank, () => now);
    const mine = async () =>
      (await repo.listDue('9999-12-31', 1000)).filter((item) => item.paymentId === payment.id);
    expect(await mine()).toEqual([{ kind: 'payment', paymentId: payment.id, at: checkAt.toISOString() }]);
    // Not before its time.
    await sweep(deps, { dueBefore: '9999-12-31' });
    expect(kbank.calls).toEqual([]);

    now = new Date(checkAt.getTime() + 1000);
    expect((await sweep(deps)).errors).toBe(0);
    expect(voided).toEqual([landed(`${payment.id}-1`, 'Authorized').chargeId]);
    expect(await repo.get(payment.id)).toMatchObject({ status: 'failed', amountCaptured: 0 });
    expect((await repo.get(payment.id))?.lateChargeCheckAt).toBeUndefined();
    const types = (await repo.listAudit(payment.id, { limit: 100 })).entries.map((entry) => entry.type);
    expect(types).toEqual([
      'payment.created',
      'payment.failed',
      'late_payment.detected',
      'late_payment.reversed',
      'reconciliation.late_charge_checked',
    ]);
    expect(await mine()).toEqual([]);
    // Swept again (an operator's --all): nothing is asked or given back twice.
    await sweep(deps, { dueBefore: '9999-12-31' });
    expect(voided).toHaveLength(1);
  });

  it('finds nothing and only records that it asked', async () => {
    const t0 = new Date('2026-12-01T05:00:00.000Z');
    const checkAt = new Date(t0.getTime() + 300_000);
    const payment = await failedOnSilence(t0, checkAt);
    const deps = lateDeps(
      scriptedKbank({ inquireCharge: async () => null }),
      () => new Date(checkAt.getTime() + 1000),
    );
    expect((await sweep(deps)).errors).toBe(0);
    const trail = (await repo.listAudit(payment.id, { limit: 100 })).entries;
    expect(trail.at(-1)).toMatchObject({
      type: 'reconciliation.late_charge_checked',
      detail: { attempts: 1, charges_found: [] },
    });
    expect((await repo.get(payment.id))?.lateChargeCheckAt).toBeUndefined();
  });

  it('stays due when KBank cannot be asked', async () => {
    const t0 = new Date('2026-12-01T06:00:00.000Z');
    const checkAt = new Date(t0.getTime() + 300_000);
    const payment = await failedOnSilence(t0, checkAt);
    const silent = scriptedKbank({
      inquireCharge: async () => {
        throw new KbankOutcomeUnknown('KBank inquiry: no answer in time');
      },
    });
    const deps = lateDeps(silent, () => new Date(checkAt.getTime() + 1000));
    expect((await sweep(deps, { dueBefore: new Date(checkAt.getTime() + 1000).toISOString() })).errors).toBe(
      1,
    );
    expect((await repo.get(payment.id))?.lateChargeCheckAt).toBe(checkAt.toISOString());
  });
});
