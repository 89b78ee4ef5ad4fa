/**
 * Payment search against DynamoDB Local, through the use case and the real repository: newest first,
 * status filter over short DynamoDB pages, created-at bounds, cursor pagination without gaps or
 * repeats, and merchant isolation (including cursors).
 */

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import {
  createDocumentClient,
  type DynamoTable,
  dynamoTable,
  type SearchBudget,
} from '../../functions/adapters/dynamo-repository.js';
import { ValidationError } from '../../functions/core/errors.js';
import { ulid } from '../../functions/core/ids.js';
import { applyStep, type PaymentStatus } from '../../functions/core/payment.js';
import type { PaymentSearch } from '../../functions/core/repository.js';
import {
  type SearchPaymentsQuery,
  searchPayments as searchPage,
} from '../../functions/core/use-cases/api/search-payments.js';
import { listView, paymentView } from '../../functions/core/views.js';
import { createListPaymentsHandler } from '../../functions/handlers/api-list-payments.js';
import { lambdaContext } from '../../local/lambda-context.js';
import { freshTable } from '../support/dynamodb.js';
import { aPayment } from '../support/payments.js';

/** The use case's page as the API answers it (the handler's presenter). */
const searchPayments = async (...args: Parameters<typeof searchPage>) =>
  listView(await searchPage(...args), paymentView);

const A = 'merchant_a';
const B = 'merchant_b';
const BASE = Date.parse('2026-03-01T00:00:00.000Z');
const minute = (n: number, seconds = 0) => new Date(BASE + n * 60_000 + seconds * 1000);

interface Seeded {
  id: string;
  merchantId: string;
  createdAt: string;
  status: PaymentStatus;
}

/** Merchant A: 14 payments one minute apart, except #7 which shares #6's millisecond (an id tie-break). */
const A_STATUSES: PaymentStatus[] = [
  'succeeded',
  'failed',
  'processing',
  'succeeded',
  'rejected',
  'succeeded',
  'failed',
  'canceled',
  'succeeded',
  'succeeded',
  'failed',
  'processing',
  'succeeded',
  'succeeded',
];
/** Merchant B: interleaved in time with A, 30 s after each of A's first six. */
const B_STATUSES: PaymentStatus[] = ['failed', 'succeeded', 'failed', 'processing', 'succeeded', 'failed'];

let client: DynamoDBClient;
let tableName: string;
let repo: DynamoTable;
const seeded: Seeded[] = [];

async function seed(merchantId: string, createdAt: Date, status: PaymentStatus): Promise<Seeded> {
  // The id's time is the creation time: the search orders ties by id.
  const { payment, audit } = aPayment({ id: `pay_${ulid(createdAt.getTime())}`, merchantId }, createdAt);
  expect(await repo.create(payment, audit)).toBe(true);
  if (status !== 'processing') {
    await repo.commit(
      applyStep(
        payment,
        { type: `payment.${status}`, actor: 'saga', status },
        new Date(createdAt.getTime() + 5),
      ),
    );
  }
  const row = { id: payment.id, merchantId, createdAt: payment.createdAt, status };
  seeded.push(row);
  return row;
}

/** What the search must answer, computed from the seed: newest first, ties by id descending. */
function expected(filter: {
  merchantId: string;
  statuses?: PaymentStatus[];
  gte?: string;
  lt?: string;
}): string[] {
  return seeded
    .filter(
      (p) =>
        p.merchantId === filter.merchantId &&
        (!filter.statuses || filter.statuses.includes(p.status)) &&
        (!filter.gte || Date.parse(p.createdAt) >= Date.parse(filter.gte)) &&
        (!filter.lt || Date.parse(p.createdAt) < Date.parse(filter.lt)),
    )
    .sort((x, y) =>
      x.createdAt === y.createdAt ? (x.id < y.id ? 1 : -1) : x.createdAt < y.createdAt ? 1 : -1,
    )
    .map((p) => p.id);
}

/** Follows next_cursor to the end; returns every page. */
async function walk(search: PaymentSearch, query: Omit<SearchPaymentsQuery, 'cursor'>) {
  const pages: Awaited<ReturnType<typeof searchPayments>>[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const page = await searchPayments({ search }, { ...query, ...(cursor ? { cursor } : {}) });
    pages.push(page);
    if (!page.has_more) return pages;
    expect(page.next_cursor).toEqual(expect.any(String));
    cursor = page.next_cursor ?? undefined;
  }
  throw new Error('pagination never ended');
}
const idsOf = (pages: { data: { id: string }[] }[]) => pages.flatMap((page) => page.data.map((p) => p.id));

/** A repository on the same table with its own budget, and a record of every DynamoDB call it makes. */
function budgetedRepo(budget: SearchBudget) {
  const own = createDocumentClient(client);
  const send = jest.spyOn(own, 'send');
  return { repo: dynamoTable(own, tableName, budget), send };
}

beforeAll(async () => {
  const table = await freshTable('search');
  tableName = table.tableName;
  client = table.client;
  repo = dynamoTable(createDocumentClient(client), tableName);
  for (const [i, status] of A_STATUSES.entries()) await seed(A, minute(i === 7 ? 6 : i), status);
  for (const [i, status] of B_STATUSES.entries()) await seed(B, minute(i, 30), status);
});

describe('searching a merchant’s payments', () => {
  it('lists them newest first, ties on the same millisecond by id, and nothing else', async () => {
    const page = await searchPayments({ search: repo }, { merchantId: A, limit: 100 });
    expect(page.object).toBe('list');
    expect(page.data.map((p) => p.id)).toEqual(expected({ merchantId: A }));
    expect(page.data).toHaveLength(14);
    expect(page).toMatchObject({ has_more: false, next_cursor: null });
    const createdAt = page.data.map((p) => p.created_at);
    expect([...createdAt].sort().reverse()).toEqual(createdAt);
    // The payment resource, not the stored item (no token, no keys).
    expect(JSON.stringify(page.data)).not.toMatch(/tokn_|GSI1|MERCHANT#/);
  });

  it('pages through every limit with no duplicates and no gaps, even across a same-millisecond tie', async () => {
    const all = expected({ merchantId: A });
    for (let limit = 1; limit <= 15; limit++) {
      const pages = await walk(repo, { merchantId: A, limit });
      expect(idsOf(pages)).toEqual(all);
      expect(pages).toHaveLength(Math.max(1, Math.ceil(all.length / limit)));
      for (const page of pages.slice(0, -1)) expect(page.data).toHaveLength(limit);
    }
  });
});

describe('status filter', () => {
  it('returns only the statuses asked for, one or several', async () => {
    const failed = await searchPayments(
      { search: repo },
      { merchantId: A, limit: 100, statuses: ['failed'] },
    );
    expect(failed.data.map((p) => p.id)).toEqual(expected({ merchantId: A, statuses: ['failed'] }));
    expect(failed.data.map((p) => p.status)).toEqual(['failed', 'failed', 'failed']);

    const several = await searchPayments(
      { search: repo },
      { merchantId: A, limit: 100, statuses: ['rejected', 'canceled', 'processing'] },
    );
    expect(several.data.map((p) => p.id)).toEqual(
      expected({ merchantId: A, statuses: ['rejected', 'canceled', 'processing'] }),
    );
    expect(several.data).toHaveLength(4);
  });

  it('keeps querying past short DynamoDB pages so every page but the last is full', async () => {
    // batchSize 1: each Query reads only as many entries as are still wanted, so the filter makes them short.
    const { repo: narrow, send } = budgetedRepo({ maxRounds: 50, batchSize: 1 });
    const want = expected({ merchantId: A, statuses: ['failed', 'rejected'] });
    expect(want).toHaveLength(4);

    const first = await searchPayments(
      { search: narrow },
      { merchantId: A, limit: 2, statuses: ['failed', 'rejected'] },
    );
    expect(first.data.map((p) => p.id)).toEqual(want.slice(0, 2));
    expect(first.has_more).toBe(true);
    // Several round trips for one page: the first Query (3 entries) cannot have held 3 matches.
    expect(send.mock.calls.length).toBeGreaterThan(1);

    const pages = await walk(narrow, { merchantId: A, limit: 2, statuses: ['failed', 'rejected'] });
    expect(idsOf(pages)).toEqual(want);
    expect(pages.map((page) => page.data.length)).toEqual([2, 2]);
    expect(pages.at(-1)).toMatchObject({ has_more: false, next_cursor: null });
  });

  it('stops at its round-trip budget with a short page and a cursor that skips nothing', async () => {
    const { repo: tight, send } = budgetedRepo({ maxRounds: 1, batchSize: 1 });
    const want = expected({ merchantId: A, statuses: ['failed'] });
    const requests: number[] = [];
    const pages: Awaited<ReturnType<typeof searchPayments>>[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 50; i++) {
      const before = send.mock.calls.length;
      const page = await searchPayments(
        { search: tight },
        { merchantId: A, limit: 2, statuses: ['failed'], ...(cursor ? { cursor } : {}) },
      );
      requests.push(send.mock.calls.length - before);
      pages.push(page);
      if (!page.has_more) break;
      cursor = page.next_cursor ?? undefined;
    }
    expect(idsOf(pages)).toEqual(want);
    expect(requests.every((calls) => calls === 1)).toBe(true);
    // The budget really bit: some page came back short although more payments followed.
    expect(pages.some((page) => page.has_more && page.data.length < 2)).toBe(true);
  });

  it('only ever Queries GSI1, newest first; never a Scan or a base-table read', async () => {
    const { repo: watched, send } = budgetedRepo({ maxRounds: 50, batchSize: 1 });
    await walk(watched, {
      merchantId: A,
      limit: 3,
      statuses: ['succeeded'],
      createdGte: minute(1).toISOString(),
    });
    expect(send.mock.calls.length).toBeGreaterThan(0);
    for (const [command] of send.mock.calls) {
      expect((command as object).constructor.name).toBe('QueryCommand');
      expect((command as { input: Record<string, unknown> }).input).toMatchObject({
        IndexName: 'GSI1',
        ScanIndexForward: false,
        KeyConditionExpression: expect.stringMatching(/^GSI1PK = :pk/),
        ExpressionAttributeValues: expect.objectContaining({ ':pk': `MERCHANT#${A}` }),
      });
    }
  });
});

describe('created-at range', () => {
  const at = (i: number) => minute(i).toISOString();

  it('includes created_gte and excludes created_lt exactly', async () => {
    const page = await searchPayments(
      { search: repo },
      { merchantId: A, limit: 100, createdGte: at(3), createdLt: at(9) },
    );
    const ids = page.data.map((p) => p.id);
    expect(ids).toEqual(expected({ merchantId: A, gte: at(3), lt: at(9) }));
    const byMinute = (i: number) => seeded.filter((p) => p.merchantId === A && p.createdAt === at(i));
    expect(ids).toEqual(expect.arrayContaining(byMinute(3).map((p) => p.id)));
    expect(ids).not.toEqual(expect.arrayContaining(byMinute(9).map((p) => p.id)));
    expect(ids).toHaveLength(6); // minutes 3, 4, 5, 6, 6 (tie), 8
  });

  it('takes either bound alone', async () => {
    const since = await searchPayments({ search: repo }, { merchantId: A, limit: 100, createdGte: at(10) });
    expect(since.data.map((p) => p.id)).toEqual(expected({ merchantId: A, gte: at(10) }));
    expect(since.data).toHaveLength(4);
    const before = await searchPayments({ search: repo }, { merchantId: A, limit: 100, createdLt: at(2) });
    expect(before.data.map((p) => p.id)).toEqual(expected({ merchantId: A, lt: at(2) }));
    expect(before.data).toHaveLength(2);
  });

  it('treats offsets and sub-millisecond bounds as the instants they are', async () => {
    const inBangkok = '2026-03-01T07:03:00+07:00'; // minute 3 in UTC
    const withOffset = await searchPayments(
      { search: repo },
      { merchantId: A, limit: 100, createdGte: inBangkok, createdLt: '2026-03-01T07:05:00.000+07:00' },
    );
    expect(withOffset.data.map((p) => p.id)).toEqual(expected({ merchantId: A, gte: at(3), lt: at(5) }));
    expect(withOffset.data).toHaveLength(2);

    const justAfter3 = at(3).replace('.000Z', '.0005Z');
    const upToHalfMs = await searchPayments(
      { search: repo },
      { merchantId: A, limit: 100, createdGte: at(3), createdLt: justAfter3 },
    );
    expect(upToHalfMs.data).toHaveLength(1); // minute 3 itself is before 00:03:00.0005
    const fromHalfMs = await searchPayments(
      { search: repo },
      { merchantId: A, limit: 100, createdGte: justAfter3, createdLt: at(4) },
    );
    expect(fromHalfMs.data).toHaveLength(0);
  });

  it('paginates inside a range with a status filter, the cursor and the lower bound together', async () => {
    const { repo: narrow } = budgetedRepo({ maxRounds: 50, batchSize: 1 });
    const filter = { gte: at(1), lt: at(13), statuses: ['succeeded', 'failed'] as PaymentStatus[] };
    const want = expected({ merchantId: A, ...filter });
    expect(want.length).toBeGreaterThan(4);
    for (const limit of [1, 2, 3]) {
      const pages = await walk(narrow, {
        merchantId: A,
        limit,
        statuses: filter.statuses,
        createdGte: filter.gte,
        createdLt: filter.lt,
      });
      expect(idsOf(pages)).toEqual(want);
    }
  });

  it('answers an empty page when a cursor is already past the lower bound', async () => {
    const first = await searchPayments({ search: repo }, { merchantId: A, limit: 2, createdGte: at(12) });
    expect(first.data).toHaveLength(2);
    expect(first.has_more).toBe(false);
    const page = await searchPayments({ search: repo }, { merchantId: A, limit: 1, createdGte: at(12) });
    expect(page.has_more).toBe(true);
    // Narrowing the range with the same cursor: nothing left between the cursor and created_gte.
    const narrowed = await searchPayments(
      { search: repo },
      { merchantId: A, limit: 5, createdGte: at(13), cursor: page.next_cursor ?? '' },
    );
    expect(narrowed).toMatchObject({ data: [], has_more: false, next_cursor: null });

    // A cursor older than created_gte: the range below it is empty (and BETWEEN would be inverted).
    const older = await searchPayments({ search: repo }, { merchantId: A, limit: 10 });
    const below = await searchPayments(
      { search: repo },
      { merchantId: A, limit: 5, createdGte: at(12), cursor: older.next_cursor ?? '' },
    );
    expect(below).toMatchObject({ data: [], has_more: false, next_cursor: null });
  });
});

describe('merchant isolation', () => {
  it('never shows another merchant’s payments, however the query is shaped', async () => {
    const aIds = new Set(seeded.filter((p) => p.merchantId === A).map((p) => p.id));
    for (const query of [
      {},
      { statuses: ['failed'] as PaymentStatus[] },
      { createdGte: minute(0).toISOString(), createdLt: minute(6).toISOString() },
    ]) {
      const pages = await walk(repo, { merchantId: B, limit: 2, ...query });
      const ids = idsOf(pages);
      expect(ids.length).toBeGreaterThan(0);
      for (const id of ids) expect(aIds.has(id)).toBe(false);
    }
    expect(idsOf(await walk(repo, { merchantId: B, limit: 4 }))).toEqual(expected({ merchantId: B }));
  });

  it('refuses a cursor issued to another merchant', async () => {
    const aPage = await searchPayments({ search: repo }, { merchantId: A, limit: 2 });
    const cursor = aPage.next_cursor ?? '';
    await expect(searchPayments({ search: repo }, { merchantId: B, limit: 2, cursor })).rejects.toThrow(
      ValidationError,
    );

    const handler = createListPaymentsHandler(() => repo);
    const call = async (merchantId: string, query: Record<string, string>) => {
      const event = {
        path: '/v1/payments',
        headers: {},
        queryStringParameters: query,
        requestContext: { authorizer: { merchantId } },
      } as unknown as APIGatewayProxyEvent;
      const result = await handler(event, lambdaContext('api-list-payments'));
      return { status: result.statusCode, body: JSON.parse(result.body) };
    };
    const refused = await call(B, { cursor });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'cursor' }] });
    // The same cursor still works for the merchant it was issued to.
    const accepted = await call(A, { cursor, limit: '2' });
    expect(accepted.status).toBe(200);
    expect(accepted.body.data.map((p: { id: string }) => p.id)).toEqual(
      expected({ merchantId: A }).slice(2, 4),
    );
  });

  it('reads only the caller’s partition even from a cursor forged to name the caller', async () => {
    const aPage = await searchPayments({ search: repo }, { merchantId: A, limit: 3 });
    const body = JSON.parse(Buffer.from(aPage.next_cursor ?? '', 'base64url').toString('utf8'));
    expect(body.m).toBe(A);
    const forged = Buffer.from(JSON.stringify({ ...body, m: B })).toString('base64url');
    const pages = await walk(repo, { merchantId: B, limit: 100 });
    const page = await searchPayments({ search: repo }, { merchantId: B, limit: 100, cursor: forged });
    const position = seeded.find((p) => p.id === body.id);
    // Just a position in B's own payments: B's payments older than it, none of A's.
    expect(page.data.map((p) => p.id)).toEqual(
      idsOf(pages).filter((id) => {
        const p = seeded.find((s) => s.id === id);
        return p !== undefined && position !== undefined && p.createdAt < position.createdAt;
      }),
    );
    expect(page.data.length).toBeGreaterThan(0);
  });

  it('refuses cursors it did not issue', async () => {
    for (const cursor of [
      'nope',
      Buffer.from('{"v":1}').toString('base64url'),
      Buffer.from('null').toString('base64url'),
    ]) {
      await expect(
        searchPayments({ search: repo }, { merchantId: A, limit: 2, cursor }),
      ).rejects.toMatchObject({
        code: 'validation_failed',
        details: [{ field: 'cursor', message: expect.any(String) }],
      });
    }
  });
});
