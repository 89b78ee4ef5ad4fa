/**
 * The sweep's schedule against DynamoDB Local, with a scripted view of Step Functions and an injected clock:
 * restarts are bounded, a saga still running is looked at again (not restarted), what stays open after the
 * schedule is unresolved (listed, out of the due index, reported), and the index holds open items only.
 */
import { createDocumentClient, DynamoPaymentRepository } from '../../functions/adapters/dynamo-repository.js';
import { applyStep, type Payment } from '../../functions/core/payment.js';
import type { SagaRunStatus, SagaRuns } from '../../functions/core/ports.js';
import type { SweepPolicy } from '../../functions/core/reconciliation.js';
import { sweep } from '../../functions/core/use-cases/sweep.js';
import { freshTable } from '../support/dynamodb.js';
import { aPayment } from '../support/payments.js';

const POLICY: SweepPolicy = { graceSeconds: 60, backoffSeconds: [100, 200] };
let repo: DynamoPaymentRepository;
beforeAll(async () => {
  const { client, tableName } = await freshTable('sweep');
  repo = new DynamoPaymentRepository(createDocumentClient(client), tableName, undefined, POLICY);
});

function runs(status: (name: string) => SagaRunStatus): SagaRuns & { started: string[] } {
  const started: string[] = [];
  return {
    started,
    start: async (name) => {
      started.push(name);
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
