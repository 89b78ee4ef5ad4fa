/**
 * A merchant's developer's view: the local API over HTTP, with the real authorizer, handlers, saga,
 * DynamoDB Local and simulators behind it.
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { hashApiKey } from '../../functions/core/api-keys.js';
import { MAGIC_CARDS } from '../../local/kbank-simulator.js';
import type { LocalStack } from '../../local/stack.js';
import { randomApiKey } from '../../local/stack.js';
import { api, paymentBody, startTestStack, tokenize } from '../support/stack.js';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

/** Counts the table's items once every saga, and the settlements consumer behind it, has finished writing. */
async function itemCount(): Promise<number> {
  const running = stack.runner.listExecutions({ status: 'RUNNING' });
  await Promise.all(running.map((execution) => stack.runner.waitForExecution(execution.name, 20_000)));
  await stack.settlementEvents.idle();
  const { Count } = await stack.dynamodb.send(
    new ScanCommand({ TableName: stack.tableName, Select: 'COUNT' }),
  );
  return Count ?? 0;
}

async function waitForStatus(id: string, wanted: string[]) {
  for (let i = 0; i < 200; i++) {
    const { body } = await api(stack, 'GET', `/v1/payments/${id}`);
    if (wanted.includes(body.status)) return body;
    await stack.runner.waitForExecution(id, 5000).catch(() => undefined);
  }
  throw new Error(`payment ${id} never reached ${wanted.join('/')}`);
}

describe('card payment through the local API', () => {
  it('answers health without credentials', async () => {
    const { status, body } = await api(stack, 'GET', '/v1/health', { key: null });
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
  });

  it('takes a card payment from processing to succeeded, with its audit trail', async () => {
    const token = await tokenize(stack, MAGIC_CARDS.visa.number);
    const created = await api(stack, 'POST', '/v1/payments', {
      body: paymentBody(token),
      idempotencyKey: randomUUID(),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/v1/payments/${created.body.id}`);
    expect(created.body).toMatchObject({
      object: 'payment',
      status: 'processing',
      amount: 72500,
      currency: 'THB',
    });
    expect(JSON.stringify(created.body)).not.toContain(token);

    const done = await waitForStatus(created.body.id, ['succeeded', 'failed', 'canceled']);
    expect(done).toMatchObject({ status: 'succeeded', amount_captured: 72500 });

    const events = await api(stack, 'GET', `/v1/payments/${created.body.id}/events`);
    expect(events.status).toBe(200);
    expect(events.body.data.map((e: { type: string }) => e.type)).toEqual([
      'payment.created',
      'cost.verified',
      'authorization.requested',
      'payment.authorized',
      'payment.captured',
    ]);
    // cost.verified is recorded with the write-ahead, as a note on the version it verified.
    expect(events.body.data.map((e: { sequence: number }) => e.sequence)).toEqual([1, 1, 2, 3, 4]);

    const page1 = await api(stack, 'GET', `/v1/payments/${created.body.id}/events?limit=2`);
    expect(page1.body).toMatchObject({ has_more: true });
    const page2 = await api(
      stack,
      'GET',
      `/v1/payments/${created.body.id}/events?limit=10&cursor=${page1.body.next_cursor}`,
    );
    expect(page2.body.data.map((e: { type: string }) => e.type)).toEqual([
      'authorization.requested',
      'payment.authorized',
      'payment.captured',
    ]);
    expect(page2.body).toMatchObject({ has_more: false, next_cursor: null });
  });

  describe('idempotency', () => {
    it('replays the stored response for the same key and body, creating one payment', async () => {
      const key = randomUUID();
      const body = paymentBody(await tokenize(stack, MAGIC_CARDS.visa.number));
      const first = await api(stack, 'POST', '/v1/payments', { body, idempotencyKey: key });
      const second = await api(stack, 'POST', '/v1/payments', { body, idempotencyKey: key });
      expect(second.status).toBe(201);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      expect(second.body).toEqual(first.body);
      await stack.runner.waitForExecution(first.body.id, 20_000);
      expect(stack.kbank.charges().filter((c) => c.referenceOrder.startsWith(first.body.id))).toHaveLength(1);
    });

    it('refuses the same key with a different body (422) and writes nothing', async () => {
      const key = randomUUID();
      const token = await tokenize(stack, MAGIC_CARDS.visa.number);
      await api(stack, 'POST', '/v1/payments', { body: paymentBody(token), idempotencyKey: key });
      const before = await itemCount();
      const other = await api(stack, 'POST', '/v1/payments', {
        body: paymentBody(token, { description: 'changed' }),
        idempotencyKey: key,
      });
      expect(other.status).toBe(422);
      expect(other.body.code).toBe('idempotency_key_reused');
      expect(await itemCount()).toBe(before);
    });

    it('answers 409 while a request with the same key is in flight', async () => {
      const key = randomUUID();
      const token = await tokenize(stack, MAGIC_CARDS.visa.number);
      const body = paymentBody(token);
      const { fingerprint } = await import('../../functions/handlers/idempotency.js');
      const { CreatePaymentRequestSchema } = await import('../../schemas/api.js');
      await stack.repo.reserve({
        scope: `${stack.merchant.id}#POST /v1/payments`,
        key,
        fingerprint: fingerprint(CreatePaymentRequestSchema.parse(body)),
        resourceId: 'pay_01JD3Q4V7M0000000000000000',
        now: new Date(),
      });
      const res = await api(stack, 'POST', '/v1/payments', { body, idempotencyKey: key });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('idempotency_key_in_use');
    });

    it('creates exactly one payment from concurrent duplicates', async () => {
      const key = randomUUID();
      const body = paymentBody(await tokenize(stack, MAGIC_CARDS.visa.number));
      const results = await Promise.all(
        Array.from({ length: 8 }, () => api(stack, 'POST', '/v1/payments', { body, idempotencyKey: key })),
      );
      const ids = new Set(results.filter((r) => r.status === 201).map((r) => r.body.id));
      expect(ids.size).toBe(1);
      for (const r of results) expect([201, 409]).toContain(r.status);
    });
  });

  describe('bad input gets a typed problem and writes nothing', () => {
    const cases: [string, (token: string) => Record<string, unknown>, string[]][] = [
      ['a negative amount', (t) => paymentBody(t, { amount: -5 }), ['amount']],
      ['a zero amount', (t) => paymentBody(t, { amount: 0 }), ['amount']],
      ['an oversized amount', (t) => paymentBody(t, { amount: 10_000_000_000 }), ['amount']],
      ['a fractional amount', (t) => paymentBody(t, { amount: 725.5 }), ['amount']],
      ['an unknown currency', (t) => paymentBody(t, { currency: 'XYZ' }), ['currency']],
      ['a lower-case currency', (t) => paymentBody(t, { currency: 'thb' }), ['currency']],
      ['an amount that is not the lines’ total', (t) => paymentBody(t, { amount: 100 }), ['amount']],
      ['a wrong type', (t) => paymentBody(t, { amount: '72500' }), ['amount']],
      ['an unknown field', (t) => paymentBody(t, { surprise: true }), ['']],
      ['a token that is not a KBank token', () => paymentBody('4111111111111111'), ['payment_method.token']],
      ['no order lines', (t) => paymentBody(t, { order: { id: 'o', lines: [] } }), ['order.lines']],
    ];
    it.each(cases)('%s', async (_name, build, fields) => {
      const before = await itemCount();
      const res = await api(stack, 'POST', '/v1/payments', {
        body: build('tokn_test_abc'),
        idempotencyKey: randomUUID(),
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.body).toMatchObject({
        status: 400,
        code: 'validation_failed',
        type: '/problems/validation_failed',
      });
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(fields));
      expect(await itemCount()).toBe(before);
    });

    it('malformed JSON', async () => {
      const before = await itemCount();
      const res = await api(stack, 'POST', '/v1/payments', {
        rawBody: '{"amount": 1,',
        idempotencyKey: randomUUID(),
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('malformed_json');
      expect(await itemCount()).toBe(before);
    });

    it('a missing Idempotency-Key', async () => {
      const res = await api(stack, 'POST', '/v1/payments', { body: paymentBody('tokn_test_abc') });
      expect(res.status).toBe(400);
      expect(res.body.errors[0].field).toBe('Idempotency-Key');
    });

    it('an oversized body', async () => {
      const before = await itemCount();
      const res = await api(stack, 'POST', '/v1/payments', {
        body: paymentBody('tokn_test_abc', { description: 'x'.repeat(70_000) }),
        idempotencyKey: randomUUID(),
      });
      expect(res.status).toBe(413);
      expect(await itemCount()).toBe(before);
    });

    it('a body that is not JSON', async () => {
      const res = await api(stack, 'POST', '/v1/payments', {
        rawBody: 'amount=1',
        idempotencyKey: randomUUID(),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      });
      expect(res.status).toBe(415);
    });

    it('never leaks a stack trace or an internal name', async () => {
      const res = await api(stack, 'POST', '/v1/payments', { rawBody: '{', idempotencyKey: randomUUID() });
      expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts|Error:|dynamodb|TransactWrite/i);
    });
  });

  describe('authentication and isolation', () => {
    it('refuses a missing or unknown key with 401', async () => {
      expect(
        (await api(stack, 'GET', '/v1/payments/pay_01JD3Q4V7M0000000000000000', { key: null })).status,
      ).toBe(401);
      expect(
        (await api(stack, 'GET', '/v1/payments/pay_01JD3Q4V7M0000000000000000', { key: randomApiKey() }))
          .status,
      ).toBe(401);
    });

    it("shows another merchant's payment as not found (404, not 403)", async () => {
      const token = await tokenize(stack, MAGIC_CARDS.visa.number);
      const created = await api(stack, 'POST', '/v1/payments', {
        body: paymentBody(token),
        idempotencyKey: randomUUID(),
      });
      const otherKey = randomApiKey();
      await stack.repo.putApiKey(hashApiKey(otherKey), { id: 'merchant_other', name: 'Other' });
      const peek = await api(stack, 'GET', `/v1/payments/${created.body.id}`, { key: otherKey });
      expect(peek.status).toBe(404);
      expect(peek.body.code).toBe('resource_not_found');
      const trail = await api(stack, 'GET', `/v1/payments/${created.body.id}/events`, { key: otherKey });
      expect(trail.status).toBe(404);
    });

    it('scopes idempotency keys per merchant', async () => {
      const key = randomUUID();
      const otherKey = randomApiKey();
      await stack.repo.putApiKey(hashApiKey(otherKey), { id: 'merchant_third', name: 'Third' });
      const a = await api(stack, 'POST', '/v1/payments', {
        body: paymentBody(await tokenize(stack, MAGIC_CARDS.visa.number)),
        idempotencyKey: key,
      });
      const b = await api(stack, 'POST', '/v1/payments', {
        body: paymentBody(await tokenize(stack, MAGIC_CARDS.visa.number)),
        idempotencyKey: key,
        key: otherKey,
      });
      expect(a.status).toBe(201);
      expect(b.status).toBe(201);
      expect(a.body.id).not.toBe(b.body.id);
    });

    it('answers an unknown or malformed payment id with 404', async () => {
      expect((await api(stack, 'GET', '/v1/payments/not-an-id')).status).toBe(404);
      expect((await api(stack, 'GET', '/v1/payments/pay_01JD3Q4V7M0000000000000000')).status).toBe(404);
    });
  });

  it('serves the committed OpenAPI document', async () => {
    const res = await api(stack, 'GET', '/openapi.json', { key: null });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining(['/v1/payments', '/v1/payments/{id}', '/v1/payments/{id}/events', '/v1/health']),
    );
  });
});
