/**
 * Creating a payment against DynamoDB Local with a workflow that fails on demand: a crash between
 * writing the payment and starting its saga must never produce a second payment or a lost one.
 */
import {
  createDocumentClient,
  DynamoPaymentRepository,
  IDEMPOTENCY_LOCK_MS,
} from '../../functions/adapters/dynamo-repository.js';
import { IdempotencyInFlightError } from '../../functions/core/errors.js';
import { ulidIds } from '../../functions/core/ids.js';
import type { WorkflowStarter } from '../../functions/core/ports.js';
import { createPayment } from '../../functions/core/use-cases/api/create-payment.js';
import { type CreatePaymentRequest, CreatePaymentRequestSchema } from '../../schemas/api.js';
import { freshTable } from '../support/dynamodb.js';

let repo: DynamoPaymentRepository;
beforeAll(async () => {
  const { client, tableName } = await freshTable('create');
  repo = new DynamoPaymentRepository(createDocumentClient(client), tableName);
});

const request: CreatePaymentRequest = CreatePaymentRequestSchema.parse({
  amount: 19900,
  currency: 'THB',
  order: { id: 'o-1', lines: [{ sku: 'SKU-MUG', quantity: 1, unit_amount: 19900 }] },
  customer: { id: 'c-1' },
  payment_method: { type: 'card', token: 'tokn_test_1' },
});

function flakyWorkflow(failures: number): WorkflowStarter & { started: string[] } {
  let left = failures;
  const started: string[] = [];
  return {
    started,
    async start(paymentId) {
      if (left-- > 0) throw new Error('Step Functions unavailable');
      started.push(paymentId);
    },
  };
}

it('finishes the same payment when a retry comes after the first request crashed before starting the saga', async () => {
  // A crash: the first request wrote the payment, then its Lambda died while starting the saga (it
  // never answers, so nothing of ours runs after it).
  let crashed = false;
  const workflow = flakyWorkflow(0);
  const hanging: WorkflowStarter = {
    start: (paymentId, input) => {
      if (crashed) return workflow.start(paymentId, input);
      crashed = true;
      return new Promise<void>(() => undefined);
    },
  };
  let now = new Date('2026-11-22T00:00:00Z');
  const deps = { repo, idempotency: repo, workflow: hanging, clock: { now: () => now }, ids: ulidIds };
  const command = { merchantId: 'm1', idempotencyKey: 'crash-1', request };

  void createPayment(deps, command);
  while (!crashed) await new Promise((resolve) => setImmediate(resolve));
  // Too early: the first request may still be running.
  await expect(createPayment(deps, command)).rejects.toBeInstanceOf(IdempotencyInFlightError);

  now = new Date(now.getTime() + IDEMPOTENCY_LOCK_MS + 1);
  const retried = await createPayment(deps, command);
  expect(retried.replayed).toBe(false);
  expect(workflow.started).toEqual([retried.response.body.id]);
  const stored = await repo.get(retried.response.body.id);
  // Written by the first, crashed request (its time), not a second payment made by the retry.
  expect(stored).toMatchObject({ status: 'processing', seq: 1, createdAt: '2026-11-22T00:00:00.000Z' });

  const replay = await createPayment(deps, command);
  expect(replay).toMatchObject({
    replayed: true,
    response: { statusCode: 201, body: { id: retried.response.body.id } },
  });
  expect(workflow.started).toHaveLength(1);
});

it('releases the key when starting the saga fails: a retry at once finishes the same payment', async () => {
  const workflow = flakyWorkflow(1);
  const now = new Date('2026-11-22T00:00:00Z');
  const deps = { repo, idempotency: repo, workflow, clock: { now: () => now }, ids: ulidIds };
  const command = { merchantId: 'm1', idempotencyKey: 'fail-1', request };

  await expect(createPayment(deps, command)).rejects.toThrow('Step Functions unavailable');
  // Not locked behind a request that has ended (same instant: no lock expiry involved).
  const retried = await createPayment(deps, command);
  expect(retried.replayed).toBe(false);
  expect(workflow.started).toEqual([retried.response.body.id]);
  expect(await repo.get(retried.response.body.id)).toMatchObject({ status: 'processing', seq: 1 });
  // Still the key of that one payment: a different request under it is refused.
  await expect(
    createPayment(deps, { ...command, request: { ...request, amount: 19901 } }),
  ).rejects.toMatchObject({ code: 'idempotency_key_reused' });
});
