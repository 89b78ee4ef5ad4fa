/**
 * Refused capture, cancel, refund, amount change and create requests through the local API, checked
 * against the DynamoDB Local table item by item: a refusal writes nothing, or stores exactly its answer
 * under its Idempotency-Key (replayed for the same key), and never leaves the key locked.
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { hashApiKey } from '../../functions/core/api-keys.js';
import { MAGIC_CARDS } from '../../local/kbank-simulator.js';
import { type LocalStack, randomApiKey } from '../../local/stack.js';
import { api, paymentBody, startTestStack, tokenize } from '../support/stack.js';

let stack: LocalStack;
let otherKey: string;
beforeAll(async () => {
  stack = await startTestStack();
  otherKey = randomApiKey();
  await stack.repo.putApiKey(hashApiKey(otherKey), { id: 'merchant_intruder', name: 'Intruder' });
});
afterAll(async () => {
  await stack?.close();
});

type Item = Record<string, unknown>;

/** Every item of the table, by its key, read consistently. */
async function table(): Promise<Map<string, Item>> {
  // The settlements consumer books a payment's capture after its saga ended: let it finish first.
  await stack.settlementEvents.idle();
  const items = new Map<string, Item>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await stack.dynamodb.send(
      new ScanCommand({
        TableName: stack.tableName,
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start as never } : {}),
      }),
    );
    for (const raw of page.Items ?? []) {
      const item = unmarshall(raw);
      items.set(`${item.PK}|${item.SK}`, item);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** What changed between two reads of the table: added or changed items, and removed keys. */
function diff(before: Map<string, Item>, after: Map<string, Item>) {
  const changed = [...after].filter(
    ([key, item]) => JSON.stringify(before.get(key)) !== JSON.stringify(item),
  );
  const removed = [...before.keys()].filter((key) => !after.has(key));
  return { changed: changed.map(([, item]) => item), removed };
}

async function waitFor(id: string, ready: (p: Record<string, unknown>) => boolean) {
  for (let i = 0; i < 1000; i++) {
    const payment = (await stack.repo.get(id)) as unknown as Record<string, unknown> | null;
    if (payment && ready(payment)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`payment ${id} never got ready`);
}

/** A manual-capture payment parked in requires_capture, its saga waiting (no more writes of its own). */
async function authorized(): Promise<string> {
  const created = await api(stack, 'POST', '/v1/payments', {
    body: paymentBody(await tokenize(stack, MAGIC_CARDS.visa.number), { capture: 'manual' }),
    idempotencyKey: randomUUID(),
  });
  expect(created.status).toBe(201);
  await waitFor(
    created.body.id,
    (p) => p.status === 'requires_capture' && typeof p.captureToken === 'string',
  );
  return created.body.id;
}

/** An automatically captured payment whose saga has ended. */
async function succeeded(): Promise<string> {
  const created = await api(stack, 'POST', '/v1/payments', {
    body: paymentBody(await tokenize(stack, MAGIC_CARDS.visa.number)),
    idempotencyKey: randomUUID(),
  });
  expect(created.status).toBe(201);
  await stack.runner.waitForExecution(created.body.id, 20_000);
  return created.body.id;
}

const order = (sku: string, unitAmount: number, quantity = 1) => ({
  id: `order-${randomUUID().slice(0, 8)}`,
  lines: [{ sku, quantity, unit_amount: unitAmount }],
});

/** The four operations on an existing payment, each with a body it would accept. */
const OPERATIONS: [string, string, (id: string) => string, unknown][] = [
  ['capture', 'POST', (id) => `/v1/payments/${id}/capture`, { amount: 1000 }],
  ['cancel', 'POST', (id) => `/v1/payments/${id}/cancel`, undefined],
  ['refund', 'POST', (id) => `/v1/payments/${id}/refunds`, { amount: 1000 }],
  [
    'amount change',
    'PATCH',
    (id) => `/v1/payments/${id}`,
    { amount: 35000, currency: 'THB', order: order('SKU-TSHIRT', 35000) },
  ],
];

/** Sends a request, then asserts what it left in the table: the one stored refusal, or nothing. */
async function refused(
  method: string,
  path: string,
  options: { body?: unknown; key?: string; idempotencyKey: string },
  expected: { status: number; code: string; stored: boolean },
) {
  const before = await table();
  const res = await api(stack, method, path, {
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(options.key ? { key: options.key } : {}),
    idempotencyKey: options.idempotencyKey,
  });
  expect({ status: res.status, code: res.body?.code }).toEqual({
    status: expected.status,
    code: expected.code,
  });
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const { changed, removed } = diff(before, await table());
  expect(removed).toEqual([]);
  if (!expected.stored) {
    expect(changed).toEqual([]);
    return res;
  }
  // Exactly one item: the key, completed with the very answer the client got.
  expect(changed).toHaveLength(1);
  expect(changed[0]).toMatchObject({ entity: 'idempotency', state: 'completed' });
  expect(String(changed[0]?.PK)).toContain(options.idempotencyKey);
  // The answer as it was sent: its status, its headers and its body byte for byte.
  expect(changed[0]?.response).toEqual({
    statusCode: expected.status,
    headers: { 'Content-Type': 'application/problem+json' },
    body: res.text,
  });
  expect(changed[0]).not.toHaveProperty('lockedUntil');

  const replay = await api(stack, method, path, {
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(options.key ? { key: options.key } : {}),
    idempotencyKey: options.idempotencyKey,
  });
  expect(replay.status).toBe(expected.status);
  expect(replay.headers.get('idempotent-replayed')).toBe('true');
  expect(replay.headers.get('content-type')).toBe('application/problem+json');
  expect(replay.text).toBe(res.text);
  return res;
}

describe("another merchant's, an unknown or a malformed payment id", () => {
  it.each(OPERATIONS)(
    '%s answers 404 and writes nothing, not even the key',
    async (_name, method, path, body) => {
      const victim = await authorized();
      const key = randomUUID();
      for (const [id, apiKey] of [
        [victim, otherKey],
        ['pay_01JD3Q4V7M0000000000000000', undefined],
        // Decodes to a key of our own table design: still just an id that names no payment.
        ['IDEMPOTENCY%23merchant_demo%23POST', undefined],
      ] as const) {
        const res = await refused(
          method,
          path(id),
          { body, ...(apiKey ? { key: apiKey } : {}), idempotencyKey: key },
          { status: 404, code: 'resource_not_found', stored: false },
        );
        expect(res.body.detail).toMatch(/^No (such )?payment/);
        expect(res.body.detail).not.toContain('IDEMPOTENCY');
      }
      // The owner, even with the very key the intruder sent, is not affected.
      const own = await api(stack, method, path(victim), {
        ...(body === undefined ? {} : { body }),
        idempotencyKey: key,
      });
      expect(own.status).not.toBe(404);
      expect(own.body?.code).not.toBe('idempotency_key_in_use');
    },
  );
});

describe('refusals a retry cannot change are stored and replayed', () => {
  it('capture, cancel and amount change of a payment that is not in requires_capture: 409', async () => {
    const id = await succeeded();
    await refused(
      'POST',
      `/v1/payments/${id}/capture`,
      { body: { amount: 1000 }, idempotencyKey: randomUUID() },
      { status: 409, code: 'payment_not_capturable', stored: true },
    );
    await refused(
      'POST',
      `/v1/payments/${id}/cancel`,
      { idempotencyKey: randomUUID() },
      { status: 409, code: 'payment_not_cancelable', stored: true },
    );
    await refused(
      'PATCH',
      `/v1/payments/${id}`,
      {
        body: { amount: 35000, currency: 'THB', order: order('SKU-TSHIRT', 35000) },
        idempotencyKey: randomUUID(),
      },
      { status: 409, code: 'amount_not_changeable', stored: true },
    );
  });

  it('a refund of a payment not captured yet (409) or of more than was captured (422)', async () => {
    const id = await authorized();
    await refused(
      'POST',
      `/v1/payments/${id}/refunds`,
      { body: { amount: 1000 }, idempotencyKey: randomUUID() },
      { status: 409, code: 'payment_not_refundable', stored: true },
    );
    const paid = await succeeded();
    await refused(
      'POST',
      `/v1/payments/${paid}/refunds`,
      { body: { amount: 72501 }, idempotencyKey: randomUUID() },
      { status: 422, code: 'refund_exceeds_refundable', stored: true },
    );
  });

  it('a capture of more than is capturable (400), and a valid capture with a new key still works', async () => {
    const id = await authorized();
    const key = randomUUID();
    await refused(
      'POST',
      `/v1/payments/${id}/capture`,
      { body: { amount: 72501 }, idempotencyKey: key },
      { status: 400, code: 'validation_failed', stored: true },
    );
    const valid = await api(stack, 'POST', `/v1/payments/${id}/capture`, {
      body: { amount: 50000 },
      idempotencyKey: randomUUID(),
    });
    expect(valid.status).toBe(202);
    expect((await stack.runner.waitForExecution(id, 20_000)).status).toBe('SUCCEEDED');
  });

  it('an amount change to another currency (400), an increase (409), an unpriceable order or a price the cost service disagrees with (422)', async () => {
    const id = await authorized();
    await refused(
      'PATCH',
      `/v1/payments/${id}`,
      {
        body: { amount: 35000, currency: 'USD', order: order('SKU-TSHIRT', 35000) },
        idempotencyKey: randomUUID(),
      },
      { status: 400, code: 'validation_failed', stored: true },
    );
    await refused(
      'PATCH',
      `/v1/payments/${id}`,
      {
        body: { amount: 105000, currency: 'THB', order: order('SKU-TSHIRT', 35000, 3) },
        idempotencyKey: randomUUID(),
      },
      { status: 409, code: 'reauthorization_required', stored: true },
    );
    const unpriceable = await refused(
      'PATCH',
      `/v1/payments/${id}`,
      {
        body: { amount: 1000, currency: 'THB', order: order('SKU-NOT-IN-CATALOG', 1000) },
        idempotencyKey: randomUUID(),
      },
      { status: 422, code: 'cost_service_rejected', stored: true },
    );
    // The cost service's own answer stays in our logs.
    expect(unpriceable.body.detail).not.toMatch(/HTTP|SKU-NOT-IN-CATALOG|Cost service/);
    stack.cost.setPrice('SKU-MUG', 'THB', 20_000);
    await refused(
      'PATCH',
      `/v1/payments/${id}`,
      {
        body: { amount: 19900, currency: 'THB', order: order('SKU-MUG', 19900) },
        idempotencyKey: randomUUID(),
      },
      { status: 422, code: 'cost_mismatch', stored: true },
    );
    // None of them changed the payment: the full amount is still capturable.
    expect(await stack.repo.get(id)).toMatchObject({
      status: 'requires_capture',
      amount: 72500,
      amountCapturable: 72500,
    });
  });
});

describe('failures a retry may change never leave the key locked', () => {
  it('an amount change while the cost service is down: 503, the key released, a retry runs at once', async () => {
    const id = await authorized();
    const key = randomUUID();
    const body = { amount: 10000, currency: 'THB', order: order('SKU-FAIL-503', 10000) };
    const before = await table();
    const first = await api(stack, 'PATCH', `/v1/payments/${id}`, { body, idempotencyKey: key });
    expect(first.status).toBe(503);
    expect(first.body).toMatchObject({ code: 'cost_service_unavailable' });
    expect(first.body.detail).not.toMatch(/HTTP|attempt|503|Cost service/);
    const { changed } = diff(before, await table());
    // Only the key, released: in flight for nobody (lock 0), keeping what it was for.
    expect(changed).toEqual([
      expect.objectContaining({ entity: 'idempotency', state: 'in_flight', lockedUntil: 0, resourceId: id }),
    ]);
    const retry = await api(stack, 'PATCH', `/v1/payments/${id}`, { body, idempotencyKey: key });
    expect(retry.status).toBe(503);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    // And the key is still this request's: another body under it is refused.
    const reused = await api(stack, 'PATCH', `/v1/payments/${id}`, {
      body: { ...body, order: order('SKU-FAIL-503', 10000) },
      idempotencyKey: key,
    });
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('idempotency_key_reused');
    expect(await stack.repo.get(id)).toMatchObject({ status: 'requires_capture', amount: 72500 });
  });

  it('racing captures and cancels: one wins, the others are refused without internals, no key stays locked', async () => {
    const id = await authorized();
    const requests = Array.from({ length: 8 }, (_, i) =>
      i % 2 === 0
        ? api(stack, 'POST', `/v1/payments/${id}/capture`, {
            body: { amount: 1000 + i },
            idempotencyKey: randomUUID(),
          })
        : api(stack, 'POST', `/v1/payments/${id}/cancel`, { idempotencyKey: randomUUID() }),
    );
    const answers = await Promise.all(requests);
    expect(answers.filter((answer) => answer.status === 202)).toHaveLength(1);
    for (const answer of answers.filter((a) => a.status !== 202)) {
      expect(answer.status).toBe(409);
      expect([
        'stale_write',
        'payment_not_capturable',
        'payment_not_cancelable',
        'payment_cancel_in_progress',
      ]).toContain(answer.body.code);
      expect(answer.body.detail).not.toMatch(/version|since|\bseq\b|table|arn:/i);
    }
    await stack.runner.waitForExecution(id, 20_000);
    const locked = [...(await table()).values()].filter(
      (item) =>
        item.entity === 'idempotency' && item.state === 'in_flight' && Number(item.lockedUntil) > Date.now(),
    );
    expect(locked).toEqual([]);
  });
});

describe('creating a payment', () => {
  it('writes the payment, its first audit entry and its key with the answer together, and replays that answer byte for byte', async () => {
    const key = randomUUID();
    const body = paymentBody(await tokenize(stack, MAGIC_CARDS.visa.number));
    const before = await table();
    const created = await api(stack, 'POST', '/v1/payments', { body, idempotencyKey: key });
    expect(created.status).toBe(201);
    const { changed } = diff(before, await table());
    const keyItem = changed.find((item) => item.entity === 'idempotency');
    expect(keyItem).toMatchObject({
      state: 'completed',
      resourceId: created.body.id,
      response: {
        statusCode: 201,
        headers: { 'Content-Type': 'application/json', Location: `/v1/payments/${created.body.id}` },
        body: created.text,
      },
    });
    expect(keyItem).not.toHaveProperty('lockedUntil');
    // Its audit entry 1 was written with it (the saga may have written more since).
    expect(changed.map((item) => item.SK)).toEqual(expect.arrayContaining(['PAYMENT', 'AUDIT#00000001']));
    await stack.runner.waitForExecution(created.body.id, 20_000);
    const replay = await api(stack, 'POST', '/v1/payments', { body, idempotencyKey: key });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('location')).toBe(`/v1/payments/${created.body.id}`);
    expect(replay.text).toBe(created.text);
  });

  it('a refused create reserves nothing: the same key then creates the payment', async () => {
    const key = randomUUID();
    const token = await tokenize(stack, MAGIC_CARDS.visa.number);
    await refused(
      'POST',
      '/v1/payments',
      { body: paymentBody(token, { amount: 100 }), idempotencyKey: key },
      { status: 400, code: 'validation_failed', stored: false },
    );
    await refused(
      'POST',
      '/v1/payments',
      {
        body: { ...paymentBody(token), payment_method: { type: 'card', token: '4111111111111111' } },
        idempotencyKey: key,
      },
      { status: 400, code: 'validation_failed', stored: false },
    );
    const created = await api(stack, 'POST', '/v1/payments', {
      body: paymentBody(token),
      idempotencyKey: key,
    });
    expect(created.status).toBe(201);
    await stack.runner.waitForExecution(created.body.id, 20_000);
    // The key now belongs to that payment: another body under it is refused, and writes nothing.
    await refused(
      'POST',
      '/v1/payments',
      { body: paymentBody(token, { description: 'changed' }), idempotencyKey: key },
      { status: 422, code: 'idempotency_key_reused', stored: false },
    );
  });
});
