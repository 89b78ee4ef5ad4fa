/**
 * Searching payments through the local API over HTTP: real authorizer, handler, saga and DynamoDB Local.
 * Payments are created with the KBank simulator's test cards and listed once their sagas have finished.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { hashApiKey } from '../../functions/core/api-keys.js';
import { MAGIC_CARDS } from '../../local/kbank-simulator.js';
import { type LocalStack, randomApiKey } from '../../local/stack.js';
import { api, paymentBody, startTestStack, tokenize } from '../support/stack.js';

interface Listed {
  id: string;
  status: string;
  created_at: string;
}

let stack: LocalStack;
let otherKey: string;
/** The demo merchant's payments as created, with the status each saga ended in. */
const created: Listed[] = [];
let otherPaymentId: string;

async function createPayment(card: string, key?: string): Promise<string> {
  const token = await tokenize(stack, card);
  const res = await api(stack, 'POST', '/v1/payments', {
    body: paymentBody(token),
    idempotencyKey: randomUUID(),
    ...(key ? { key } : {}),
  });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function finished(id: string, key?: string): Promise<Listed> {
  await stack.runner.waitForExecution(id, 20_000);
  const { body } = await api(stack, 'GET', `/v1/payments/${id}`, key ? { key } : {});
  return { id: body.id, status: body.status, created_at: body.created_at };
}

/** Newest first, ties on the same millisecond by id descending: the order the API promises. */
const newestFirst = (payments: Listed[]) =>
  [...payments]
    .sort((x, y) =>
      x.created_at === y.created_at ? (x.id < y.id ? 1 : -1) : x.created_at < y.created_at ? 1 : -1,
    )
    .map((p) => p.id);

const list = (query = '', key?: string) => api(stack, 'GET', `/v1/payments${query}`, key ? { key } : {});

beforeAll(async () => {
  stack = await startTestStack();
  const cards = [
    MAGIC_CARDS.visa,
    MAGIC_CARDS.declined,
    MAGIC_CARDS.mastercard,
    MAGIC_CARDS.insufficientFunds,
    MAGIC_CARDS.jcb,
  ];
  for (const card of cards) created.push(await finished(await createPayment(card.number)));

  otherKey = randomApiKey();
  await stack.repo.putApiKey(hashApiKey(otherKey), { id: 'merchant_search_other', name: 'Other' });
  otherPaymentId = (await finished(await createPayment(MAGIC_CARDS.visa.number, otherKey), otherKey)).id;
});
afterAll(async () => {
  await stack?.close();
});

describe('GET /v1/payments', () => {
  it('lists the merchant’s payments newest first, as payment resources', async () => {
    expect(created.map((p) => p.status)).toEqual(['succeeded', 'failed', 'succeeded', 'failed', 'succeeded']);
    const res = await list();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ object: 'list', has_more: false, next_cursor: null });
    expect(res.body.data.map((p: Listed) => p.id)).toEqual(newestFirst(created));
    expect(res.body.data.map((p: Listed) => p.status)).toEqual(
      newestFirst(created).map((id) => created.find((p) => p.id === id)?.status),
    );
    expect(res.body.data[0]).toMatchObject({ object: 'payment', amount: 72500, currency: 'THB' });
    expect(JSON.stringify(res.body)).not.toContain('tokn_');
  });

  it('filters by one status or a comma-separated list', async () => {
    const failed = await list('?status=failed');
    expect(failed.status).toBe(200);
    expect(failed.body.data.map((p: Listed) => p.id)).toEqual(
      newestFirst(created.filter((p) => p.status === 'failed')),
    );
    expect(failed.body.data).toHaveLength(2);

    const both = await list('?status=failed,succeeded');
    expect(both.body.data.map((p: Listed) => p.id)).toEqual(newestFirst(created));
    const none = await list('?status=processing,canceled');
    expect(none.body).toMatchObject({ data: [], has_more: false, next_cursor: null });
  });

  it('pages with limit and cursor, without repeating or skipping a payment', async () => {
    const seen: string[] = [];
    let query = '?limit=2&status=succeeded,failed';
    for (let i = 0; i < 10; i++) {
      const page = await list(query);
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((p: Listed) => p.id));
      if (!page.body.has_more) break;
      expect(page.body.data).toHaveLength(2);
      query = `?limit=2&status=succeeded,failed&cursor=${encodeURIComponent(page.body.next_cursor)}`;
    }
    expect(seen).toEqual(newestFirst(created));
  });

  it('bounds by created_gte (inclusive) and created_lt (exclusive)', async () => {
    const [oldest, second, , fourth] = [...created].sort((x, y) => (x.created_at < y.created_at ? -1 : 1));
    if (!oldest || !second || !fourth) throw new Error('expected five payments');
    const res = await list(
      `?created_gte=${encodeURIComponent(second.created_at)}&created_lt=${encodeURIComponent(fourth.created_at)}`,
    );
    expect(res.status).toBe(200);
    const want = created.filter((p) => p.created_at >= second.created_at && p.created_at < fourth.created_at);
    expect(res.body.data.map((p: Listed) => p.id)).toEqual(newestFirst(want));
    const ids = res.body.data.map((p: Listed) => p.id);
    expect(ids).toContain(second.id);
    expect(ids).not.toContain(fourth.id);
    expect(ids).not.toContain(oldest.id);
  });

  it('shows each merchant only its own payments', async () => {
    const mine = await list();
    expect(mine.body.data.map((p: Listed) => p.id)).not.toContain(otherPaymentId);
    const theirs = await list('', otherKey);
    expect(theirs.status).toBe(200);
    expect(theirs.body.data.map((p: Listed) => p.id)).toEqual([otherPaymentId]);
  });

  it("refuses another merchant's cursor with 400", async () => {
    const page = await list('?limit=1');
    expect(page.body.has_more).toBe(true);
    const res = await list(`?cursor=${encodeURIComponent(page.body.next_cursor)}`, otherKey);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'cursor' }] });
  });

  it('requires an API key', async () => {
    const res = await api(stack, 'GET', '/v1/payments', { key: null });
    expect(res.status).toBe(401);
  });

  describe('refuses an invalid query with 400 validation_failed naming the field', () => {
    it.each([
      ['an unknown status', '?status=paid', 'status'],
      ['one unknown status in a list', '?status=failed,paid', 'status'],
      ['an empty status', '?status=', 'status'],
      ['a zero limit', '?limit=0', 'limit'],
      ['a limit over 100', '?limit=101', 'limit'],
      ['a fractional limit', '?limit=2.5', 'limit'],
      ['a date without a time', '?created_gte=2026-11-01', 'created_gte'],
      ['a date-time without a zone', '?created_lt=2026-11-01T00:00:00', 'created_lt'],
      ['an empty range', '?created_gte=2026-11-02T00:00:00Z&created_lt=2026-11-01T00:00:00Z', 'created_lt'],
      ['a cursor it never issued', '?cursor=bm90LWEtY3Vyc29y', 'cursor'],
      ['an unknown parameter', '?starting_after=pay_01JD3Q4V7M0000000000000000', ''],
    ])('%s', async (_name, query, field) => {
      const res = await list(query);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ status: 400, code: 'validation_failed' });
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    });
  });
});
