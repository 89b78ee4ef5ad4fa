/**
 * Creating a payment against DynamoDB Local through its API handler, with a workflow that fails on
 * demand: the payment, its first audit entry and its Idempotency-Key with the answer are one
 * transaction, so a crash between writing the payment and starting its saga must never produce a second
 * payment, a lost one, or a key without its payment.
 */
import {
  createDocumentClient,
  type DynamoTable,
  dynamoTable,
} from '../../functions/adapters/dynamo-repository.js';
import { ulidIds } from '../../functions/core/ids.js';
import { newPayment } from '../../functions/core/payment.js';
import type { WorkflowStarter } from '../../functions/core/ports.js';
import type { CreatePaymentDeps } from '../../functions/core/use-cases/api/create-payment.js';
import { createCreatePaymentHandler } from '../../functions/handlers/api-create-payment.js';
import { callApi } from '../support/api-calls.js';
import { freshTable } from '../support/dynamodb.js';

let repo: DynamoTable;
/** The commands the table was sent, by name. */
const sent: string[] = [];
beforeAll(async () => {
  const { client, tableName } = await freshTable('create');
  const db = createDocumentClient(client);
  const send = db.send.bind(db) as (command: object) => Promise<unknown>;
  db.send = ((command: object) => {
    sent.push(command.constructor.name);
    return send(command);
  }) as typeof db.send;
  repo = dynamoTable(db, tableName);
});

const body = {
  amount: 19900,
  currency: 'THB',
  order: { id: 'o-1', lines: [{ sku: 'SKU-MUG', quantity: 1, unit_amount: 19900 }] },
  customer: { id: 'c-1' },
  payment_method: { type: 'card', token: 'tokn_test_1' },
};
const SCOPE = 'm1#POST /v1/payments';

/** Starts each execution name once, as Step Functions does (a start repeated by name is no second run). */
function flakyWorkflow(failures: number): WorkflowStarter & { started: string[]; calls: number } {
  let left = failures;
  const workflow = {
    started: [] as string[],
    calls: 0,
    async start(paymentId: string) {
      workflow.calls++;
      if (left-- > 0) throw new Error('Step Functions unavailable');
      if (!workflow.started.includes(paymentId)) workflow.started.push(paymentId);
    },
  };
  return workflow;
}

function api(workflow: WorkflowStarter, now: () => Date = () => new Date('2026-11-22T00:00:00Z')) {
  const made: string[] = [];
  const deps: CreatePaymentDeps = {
    repo,
    idempotency: repo,
    workflow,
    clock: { now },
    ids: (prefix) => {
      const id = ulidIds(prefix);
      made.push(id);
      return id;
    },
  };
  const handler = createCreatePaymentHandler(() => deps);
  const create = (key: string, request: unknown = body, timeoutMs?: number) =>
    callApi(
      handler,
      { merchantId: 'm1', path: '/v1/payments', idempotencyKey: key, body: request },
      timeoutMs,
    );
  return { create, made };
}

it('replays the payment at once when the first request crashed before starting its saga, and starts it', async () => {
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
  const { create, made } = api(hanging, () => now);

  // Its Lambda times out after a second: the request never answers a 201.
  const crashedAnswer = create('crash-1', body, 1000);
  while (!crashed) await new Promise((resolve) => setImmediate(resolve));
  now = new Date(now.getTime() + 1000);
  // No lock to wait for: the key was written with its payment and its answer.
  const retried = await create('crash-1');
  expect(retried).toMatchObject({ replayed: true, response: { statusCode: 201, body: { id: made[0] } } });
  expect(retried.raw.headers).toMatchObject({ Location: `/v1/payments/${made[0]}` });
  expect(workflow.started).toEqual([made[0]]);
  // Written by the first, crashed request (its time), not a second payment made by the retry.
  expect(await repo.get(made[0] ?? '')).toMatchObject({
    status: 'processing',
    seq: 1,
    createdAt: '2026-11-22T00:00:00.000Z',
  });
  expect(made.slice(1).map((id) => id.startsWith('pay_'))).toEqual([true]);
  expect(await repo.get(made[1] ?? '')).toBeNull();

  // The same answer, byte for byte, however often it is asked for.
  const replay = await create('crash-1');
  expect(replay.raw.body).toBe(retried.raw.body);
  expect(workflow.started).toEqual([made[0]]);
  expect((await crashedAnswer).response.statusCode).toBe(500);
});

it('creates a payment with one transaction and no read', async () => {
  const workflow = flakyWorkflow(0);
  const { create, made } = api(workflow);
  sent.length = 0;
  const created = await create('one-tx-1');
  expect(created).toMatchObject({ replayed: false, response: { statusCode: 201, body: { id: made[0] } } });
  expect(sent).toEqual(['TransactWriteCommand']);
  expect(workflow.started).toEqual([made[0]]);
  // The key holds the answer as it was sent.
  expect(await repo.find({ scope: SCOPE, key: 'one-tx-1' })).toEqual({
    fingerprint: expect.any(String),
    resourceId: made[0],
    response: { statusCode: 201, headers: created.raw.headers, body: created.raw.body },
  });
});

it('never locks the key when starting the saga fails: a retry at once starts the same payment', async () => {
  const workflow = flakyWorkflow(1);
  const { create, made } = api(workflow);

  const failed = await create('fail-1');
  expect(failed.response).toMatchObject({ statusCode: 500, body: { code: 'internal_error' } });
  const retried = await create('fail-1');
  expect(retried).toMatchObject({ replayed: true, response: { statusCode: 201, body: { id: made[0] } } });
  expect(workflow.started).toEqual([made[0]]);
  expect(await repo.get(made[0] ?? '')).toMatchObject({ status: 'processing', seq: 1 });
  // Still the key of that one payment: a different request under it is refused.
  expect((await create('fail-1', { ...body, description: 'changed' })).response).toMatchObject({
    statusCode: 422,
    body: { code: 'idempotency_key_reused' },
  });
});

it('a payment past its first version is replayed without starting its saga again', async () => {
  const workflow = flakyWorkflow(0);
  const { create, made } = api(workflow);
  const first = await create('moved-1');
  expect(first).toMatchObject({ replayed: false, response: { statusCode: 201 } });
  const id = made[0] ?? '';
  const stored = await repo.get(id);
  if (!stored) throw new Error('payment not written');
  // Its saga ran on: the payment is past the version its creation wrote.
  const at = '2026-11-22T00:00:01.000Z';
  await repo.commit({
    previous: stored,
    next: { ...stored, seq: 2, updatedAt: at },
    audit: {
      paymentId: id,
      seq: 2,
      at,
      type: 'payment.verified',
      actor: 'saga',
      fromStatus: 'processing',
      toStatus: 'processing',
      detail: {},
    },
  });
  const calls = workflow.calls;
  const replay = await create('moved-1');
  expect(replay).toMatchObject({ replayed: true, response: { statusCode: 201, body: { id } } });
  expect(replay.raw.body).toBe(first.raw.body);
  expect(workflow.calls).toBe(calls);
});

it('two requests racing under one key make one payment and answer it twice', async () => {
  const workflow = flakyWorkflow(0);
  const { create, made } = api(workflow);
  const answers = await Promise.all([create('race-1'), create('race-1')]);
  const ids = answers.map((answer) => answer.response.body.id);
  expect(answers.map((answer) => answer.response.statusCode)).toEqual([201, 201]);
  expect(new Set(ids).size).toBe(1);
  expect(answers.filter((answer) => answer.replayed)).toHaveLength(1);
  const written = await Promise.all(made.map((id) => repo.get(id)));
  expect(written.filter((payment) => payment !== null).map((payment) => payment?.id)).toEqual([ids[0]]);
  expect(workflow.started).toEqual([ids[0]]);
});

it('writes no key when its payment cannot be written: the key and the payment exist together or not at all', async () => {
  const workflow = flakyWorkflow(0);
  const taken = 'pay_01JD3Q4V7M0000000000000099';
  const { payment, audit } = newPayment(
    {
      id: taken,
      merchantId: 'm1',
      amount: 100,
      currency: 'THB',
      captureMethod: 'automatic',
      order: { id: 'o-0', lines: [{ sku: 'SKU-0', quantity: 1, unitAmount: 100 }] },
      customer: { id: 'c-0' },
      paymentMethod: { type: 'card', token: 'tokn_test_0' },
      actionWindowSeconds: 600,
    },
    new Date('2026-11-21T00:00:00Z'),
  );
  await repo.create(payment, audit);
  const deps: CreatePaymentDeps = {
    repo,
    idempotency: repo,
    workflow,
    clock: { now: () => new Date('2026-11-22T00:00:00Z') },
    // An id that is already taken: the payment's write fails, and the key's with it.
    ids: () => taken,
  };
  const handler = createCreatePaymentHandler(() => deps);
  const answer = await callApi(handler, {
    merchantId: 'm1',
    path: '/v1/payments',
    idempotencyKey: 'collide-1',
    body,
  });
  expect(answer.response).toMatchObject({ statusCode: 500, body: { code: 'internal_error' } });
  expect(await repo.find({ scope: SCOPE, key: 'collide-1' })).toBeNull();
  expect(workflow.started).toEqual([]);
});
