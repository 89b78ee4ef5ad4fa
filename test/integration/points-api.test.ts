/**
 * The points API through its real handlers against DynamoDB Local: grants under an Idempotency-Key, a
 * customer's balance and its ledger paged both ways, another merchant's customer invisible, and every bad
 * request a typed problem that writes nothing.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { GrantPointsApiDeps } from '../../functions/adapters/dependencies.js';
import { DynamoPointsLedger, DynamoPointsPrograms } from '../../functions/adapters/dynamo-points.js';
import { createDocumentClient, dynamoTable } from '../../functions/adapters/dynamo-repository.js';
import { ulid } from '../../functions/core/ids.js';
import { createGetCustomerPointsHandler } from '../../functions/handlers/api-get-customer-points.js';
import { createGrantPointsHandler } from '../../functions/handlers/api-grant-points.js';
import { createListPointsMovementsHandler } from '../../functions/handlers/api-list-points-movements.js';
import { lambdaContext } from '../../local/lambda-context.js';
import { freshTable } from '../support/dynamodb.js';

let deps: GrantPointsApiDeps;
let ledger: DynamoPointsLedger;
/** What the grants put on the bus; `busDown` makes it refuse. */
const published: { type: string; detail: Record<string, unknown> }[] = [];
let busDown = false;
const NOW = new Date('2026-12-02T04:00:00.000Z');

beforeAll(async () => {
  const { client, tableName } = await freshTable('points_api');
  const db = createDocumentClient(client);
  ledger = new DynamoPointsLedger(db, tableName);
  const programs = new DynamoPointsPrograms(db, tableName);
  await programs.setProgram({ merchantId: 'm1', currency: 'THB', valuePerPoint: 100 });
  await programs.setProgram({ merchantId: 'm2', currency: 'THB', valuePerPoint: 25 });
  let tick = 0;
  deps = {
    ledger,
    programs,
    idempotency: dynamoTable(db, tableName),
    // Each call a millisecond later, so movements sort in the order they were made.
    clock: { now: () => new Date(NOW.getTime() + tick++) },
    events: {
      publish: async (entries) => {
        if (busDown) throw new Error('the bus is down');
        published.push(...entries);
      },
    },
  };
});

type Handler = (event: APIGatewayProxyEvent, context: never) => Promise<APIGatewayProxyResult>;

interface Call {
  merchantId?: string;
  customerId: string;
  key?: string;
  body?: unknown;
  query?: Record<string, string>;
}

async function call(handler: Handler, c: Call) {
  const event = {
    httpMethod: c.body === undefined ? 'GET' : 'POST',
    path: `/v1/customers/${c.customerId}/points`,
    headers: {
      'Content-Type': 'application/json',
      ...(c.key === undefined ? {} : { 'Idempotency-Key': c.key }),
    },
    multiValueHeaders: {},
    queryStringParameters: c.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: { customer_id: c.customerId },
    stageVariables: null,
    body: c.body === undefined ? null : JSON.stringify(c.body),
    isBase64Encoded: false,
    requestContext: { authorizer: { merchantId: c.merchantId ?? 'm1' } },
  } as unknown as APIGatewayProxyEvent;
  const raw = await handler(event, lambdaContext('points-api-test') as never);
  return {
    status: raw.statusCode,
    body: JSON.parse(raw.body),
    replayed: raw.headers?.['Idempotent-Replayed'] === 'true',
  };
}

const grant = (c: Call) => call(createGrantPointsHandler(() => deps) as unknown as Handler, c);
const balance = (c: Call) => call(createGetCustomerPointsHandler(() => deps) as unknown as Handler, c);
const movements = (c: Call) => call(createListPointsMovementsHandler(() => deps) as unknown as Handler, c);

const newCustomer = () => `cus-${ulid().toLowerCase()}`;

describe('POST /v1/customers/{customer_id}/points/grants', () => {
  it('grants points: the movement and the new balance; the same key replays, another body is 422', async () => {
    const customerId = newCustomer();
    const first = await grant({ customerId, key: 'g-1', body: { points: 500, reason: 'Welcome bonus' } });
    expect(first).toMatchObject({
      status: 201,
      replayed: false,
      body: {
        object: 'points_grant',
        movement: { type: 'grant', points: 500, available: 500, held: 0, reason: 'Welcome bonus' },
        balance: { customer_id: customerId, available: 500, held: 0, currency_value_per_point: 100 },
      },
    });
    expect(first.body.movement.id).toMatch(/^pm_[0-9A-HJKMNP-TV-Z]{26}$/);

    const again = await grant({ customerId, key: 'g-1', body: { points: 500, reason: 'Welcome bonus' } });
    expect(again).toMatchObject({ status: 201, replayed: true, body: first.body });
    const other = await grant({ customerId, key: 'g-1', body: { points: 501, reason: 'Welcome bonus' } });
    expect(other).toMatchObject({ status: 422, body: { code: 'idempotency_key_reused' } });

    const second = await grant({ customerId, key: 'g-2', body: { points: 250, reason: 'Promotion' } });
    expect(second.body.balance).toMatchObject({ available: 750, held: 0 });
    // Each grant announced once (a replay publishes nothing), with its movement.
    expect(published.filter((e) => e.detail.customer_id === customerId)).toEqual([
      {
        type: 'points.granted',
        detail: {
          version: '1',
          event_id: `evt_${first.body.movement.id}`,
          type: 'points.granted',
          sequence: null,
          occurred_at: first.body.movement.created_at,
          merchant_id: 'm1',
          customer_id: customerId,
          payment_id: null,
          refund_id: null,
          movement: first.body.movement,
        },
      },
      expect.objectContaining({ detail: expect.objectContaining({ movement: second.body.movement }) }),
    ]);
    expect((await balance({ customerId })).body).toMatchObject({
      object: 'points_balance',
      customer_id: customerId,
      available: 750,
      held: 0,
      currency: 'THB',
      currency_value_per_point: 100,
    });
  });

  it('a grant the bus refused is recorded once: 503, and the same request again announces it', async () => {
    const customerId = newCustomer();
    busDown = true;
    const refused = await grant({ customerId, key: 'g-down', body: { points: 40, reason: 'Promotion' } });
    busDown = false;
    expect(refused).toMatchObject({ status: 503, body: { code: 'event_not_published' } });
    const again = await grant({ customerId, key: 'g-down', body: { points: 40, reason: 'Promotion' } });
    expect(again).toMatchObject({ status: 201, replayed: false, body: { balance: { available: 40 } } });
    const entries = await ledger.movements('m1', customerId, { limit: 10, order: 'oldest_first' });
    expect(entries.movements.map((m) => m.id)).toEqual([again.body.movement.id]);
    expect(
      published.filter((e) => e.detail.customer_id === customerId).map((e) => e.detail.event_id),
    ).toEqual([`evt_${again.body.movement.id}`]);
  });

  it.each([
    ['zero points', { points: 0, reason: 'x' }, 'points'],
    ['negative points', { points: -5, reason: 'x' }, 'points'],
    ['fractional points', { points: 2.5, reason: 'x' }, 'points'],
    ['points as a string', { points: '10', reason: 'x' }, 'points'],
    ['no reason', { points: 10 }, 'reason'],
    ['a blank reason', { points: 10, reason: '   ' }, 'reason'],
    ['an unknown field', { points: 10, reason: 'x', expires: 'never' }, ''],
  ])('refuses %s with a 400 naming the field, and writes nothing', async (_, body, field) => {
    const customerId = newCustomer();
    const answer = await grant({ customerId, key: `bad-${ulid()}`, body });
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('validation_failed');
    expect(answer.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await ledger.balance('m1', customerId)).toBeNull();
  });

  it('requires an Idempotency-Key, and refuses a malformed customer id as no one’s customer', async () => {
    const customerId = newCustomer();
    const keyless = await grant({ customerId, body: { points: 10, reason: 'x' } });
    expect(keyless).toMatchObject({ status: 400, body: { errors: [{ field: 'Idempotency-Key' }] } });
    const malformed = await grant({ customerId: 'no spaces', key: 'k', body: { points: 10, reason: 'x' } });
    expect(malformed).toMatchObject({ status: 404, body: { code: 'resource_not_found' } });
    expect(await ledger.balance('m1', customerId)).toBeNull();
  });

  it('refuses a merchant without a points program (409 points_not_enabled), writing no balance', async () => {
    const customerId = newCustomer();
    const answer = await grant({
      merchantId: 'm-no-program',
      customerId,
      key: 'g',
      body: { points: 10, reason: 'x' },
    });
    expect(answer).toMatchObject({ status: 409, body: { code: 'points_not_enabled' } });
    expect(await ledger.balance('m-no-program', customerId)).toBeNull();
  });
});

describe("a customer's points are the merchant's own", () => {
  it("hides one merchant's customer from another merchant (404), whose customer of the same id is another", async () => {
    const customerId = newCustomer();
    await grant({ customerId, key: 'm1-grant', body: { points: 300, reason: 'x' } });
    expect(await balance({ merchantId: 'm2', customerId })).toMatchObject({
      status: 404,
      body: { code: 'resource_not_found' },
    });
    expect(await movements({ merchantId: 'm2', customerId })).toMatchObject({ status: 404 });
    await grant({ merchantId: 'm2', customerId, key: 'm2-grant', body: { points: 40, reason: 'y' } });
    expect((await balance({ merchantId: 'm2', customerId })).body).toMatchObject({
      available: 40,
      currency_value_per_point: 25,
    });
    expect((await balance({ customerId })).body).toMatchObject({ available: 300 });
  });

  it('answers 404 for a customer never granted points', async () => {
    expect(await balance({ customerId: newCustomer() })).toMatchObject({
      status: 404,
      body: { code: 'resource_not_found' },
    });
  });
});

describe('GET /v1/customers/{customer_id}/points/transactions', () => {
  it('pages every movement newest first by default, and oldest first on asking', async () => {
    const customerId = newCustomer();
    for (let i = 1; i <= 5; i++) {
      await grant({ customerId, key: `p-${i}`, body: { points: i * 10, reason: `grant ${i}` } });
    }
    const seen: number[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const answer = await movements({
        customerId,
        query: { limit: '2', ...(cursor ? { cursor } : {}) },
      });
      expect(answer.status).toBe(200);
      seen.push(...answer.body.data.map((m: { points: number }) => m.points));
      if (!answer.body.has_more) {
        expect(answer.body.next_cursor).toBeNull();
        break;
      }
      cursor = answer.body.next_cursor;
    }
    expect(seen).toEqual([50, 40, 30, 20, 10]);

    const oldest = await movements({ customerId, query: { order: 'oldest_first', limit: '3' } });
    expect(oldest.body.data.map((m: { points: number }) => m.points)).toEqual([10, 20, 30]);
    const rest = await movements({
      customerId,
      query: { order: 'oldest_first', limit: '3', cursor: oldest.body.next_cursor },
    });
    expect(rest.body).toMatchObject({ has_more: false, next_cursor: null });
    expect(rest.body.data.map((m: { points: number }) => m.points)).toEqual([40, 50]);
  });

  it.each([
    ['a cursor it never returned', { cursor: 'nope' }, 'cursor'],
    ['a limit over 100', { limit: '101' }, 'limit'],
    ['an unknown order', { order: 'random' }, 'order'],
  ])('refuses %s with a 400', async (_, query, field) => {
    const customerId = newCustomer();
    await grant({ customerId, key: 'q', body: { points: 1, reason: 'x' } });
    const answer = await movements({ customerId, query });
    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });
});
