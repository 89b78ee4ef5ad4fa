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
import { applyStep, noteStep, type Payment } from '../../functions/core/payment.js';
import type { SagaRunStatus, SagaRuns } from '../../functions/core/ports.js';
import type { SweepPolicy } from '../../functions/core/reconciliation.js';
import { sweep } from '../../functions/core/use-cases/operations/sweep.js';
import { eventDetail } from '../../functions/core/views.js';
import { freshTable } from '../support/dynamodb.js';
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
