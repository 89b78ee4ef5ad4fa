/**
 * The local stack's usage counters (local/counters.ts) against what a payment really did: its execution's
 * states, its audit trail, the events on the bus and the requests this test made; the request units
 * against DynamoDB Local's own figures where those are right; and the reset.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { CountersSnapshot, Usage, UsageBySource } from '../../local/counters.js';
import { MAGIC_CARDS } from '../../local/kbank-simulator.js';
import type { LocalStack } from '../../local/stack.js';
import { api, paymentBody, startTestStack, tokenize } from '../support/stack.js';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ countUsage: true });
});
afterAll(async () => {
  await stack?.close();
});

/** State name → its Task resource, from the ASL file the runner executes. */
const RESOURCES = new Map(
  Object.entries(
    (
      JSON.parse(readFileSync(new URL('../../statemachines/payment.asl.json', import.meta.url), 'utf8')) as {
        States: Record<string, { Resource?: string }>;
      }
    ).States,
  ).map(([name, state]) => [name, state.Resource ?? '']),
);

async function counters(query = ''): Promise<CountersSnapshot> {
  return (await fetch(`${stack.apiUrl}/_local/counters${query}`)).json() as Promise<CountersSnapshot>;
}

const sum = (bySource: UsageBySource, pick: (usage: Usage, source: string) => number) =>
  Object.entries(bySource).reduce((total, [source, usage]) => total + pick(usage, source), 0);

async function cardPayment(): Promise<string> {
  const token = await tokenize(stack, MAGIC_CARDS.visa.number);
  const created = await api(stack, 'POST', '/v1/payments', {
    body: paymentBody(token),
    idempotencyKey: randomUUID(),
  });
  expect(created.status).toBe(201);
  const done = await stack.runner.waitForExecution(created.body.id, 20_000);
  expect(done.status).toBe('SUCCEEDED');
  // Its capture booked on the settlement too: that work is the payment's as well.
  await stack.settlementEvents.idle();
  return created.body.id as string;
}

describe('usage counters', () => {
  it("count a card payment's work as its execution, audit trail, events and requests show it", async () => {
    await fetch(`${stack.apiUrl}/_local/counters/reset`, { method: 'POST' });
    const id = await cardPayment();
    const other = await cardPayment();
    for (let i = 0; i < 2; i++) expect((await api(stack, 'GET', `/v1/payments/${id}`)).status).toBe(200);
    const snapshot = await counters();

    // Read after the snapshot: these requests are counted too, after it.
    const execution = stack.runner.describeExecution(id);
    const audit = await api(stack, 'GET', `/v1/payments/${id}/events?limit=100`);
    const mine = snapshot.payments?.[id] as UsageBySource;
    expect(mine).toBeDefined();

    // Transitions: every state entered, and every retry of one.
    const retries = execution.history.filter((event) => event.type === 'StateRetried');
    expect(mine['states:payment']?.transitions).toBe(execution.enteredStates.length + retries.length);
    expect(execution.transitions).toBe(execution.enteredStates.length + retries.length);

    // Lambda: one invocation per Lambda task state entered or retried, by function, and the API's own.
    const runs = [...execution.enteredStates, ...retries.map((event) => event.stateName ?? '')];
    const lambdaTasks = runs.filter((state) => RESOURCES.get(state)?.includes(':lambda:invoke'));
    expect(sum(mine, (usage, source) => (source.startsWith('saga-') ? usage.lambda.invocations : 0))).toBe(
      lambdaTasks.length,
    );
    expect(mine['api-create-payment']?.lambda.invocations).toBe(1);
    expect(mine['api-get-payment']?.lambda.invocations).toBe(2);

    // Events: each step publishes its own once recorded, in one PutEvents (VerifyCost the creation's), no
    // Emit state runs, and the entries are exactly those the bus holds for the payment.
    expect(runs.filter((state) => RESOURCES.get(state)?.endsWith(':events:putEvents'))).toEqual([]);
    const putEvents = (source: string) => mine[source]?.events ?? { putEventsCalls: 0, entries: 0 };
    expect(['saga-verify-cost', 'saga-authorize', 'saga-capture'].map(putEvents)).toEqual([
      { putEventsCalls: 1, entries: 1 },
      { putEventsCalls: 1, entries: 1 },
      { putEventsCalls: 1, entries: 1 },
    ]);
    expect(sum(mine, (usage) => usage.events.putEventsCalls)).toBe(3);
    expect(sum(mine, (usage) => usage.events.entries)).toBe(stack.bus.events({ paymentId: id }).length);

    // API requests: the POST and the two GETs, each under its route.
    expect(mine['api-create-payment']?.apiRequests).toBe(1);
    expect(mine['api-get-payment']?.apiRequests).toBe(2);
    expect(mine['api-get-payment']?.dynamodb.GetItem?.calls).toBe(2);

    // Every version and its audit entry are one transaction: as many as the trail has versions (the
    // cost.verified note rides in the write-ahead's). The settlements consumer's booking of the capture is
    // one more, of its own (marker, line, totals).
    const SETTLEMENTS = 'settlements-consumer';
    const transactions = sum(mine, (usage, source) =>
      source === SETTLEMENTS ? 0 : (usage.dynamodb.TransactWriteItems?.calls ?? 0),
    );
    const failed = sum(mine, (usage, source) =>
      source === SETTLEMENTS ? 0 : (usage.dynamodb.TransactWriteItems?.failed ?? 0),
    );
    const versions = new Set(audit.body.data.map((entry: { sequence: number }) => entry.sequence));
    expect(audit.body.data.length).toBeGreaterThan(versions.size);
    expect(transactions - failed).toBe(versions.size);
    expect(mine[SETTLEMENTS]?.dynamodb.TransactWriteItems).toMatchObject({ calls: 1, items: 3 });

    // Units: at least 2 WRU per transactional item, at least 1 RRU per strongly consistent read.
    for (const [source, usage] of Object.entries(mine)) {
      const tx = usage.dynamodb.TransactWriteItems;
      if (tx) expect({ source, atLeast: tx.writeUnits >= 2 * tx.items }).toEqual({ source, atLeast: true });
      const reads = usage.dynamodb.GetItem;
      if (reads && source.startsWith('saga-')) expect(reads.readUnits).toBeGreaterThanOrEqual(reads.calls);
      // Exact everywhere but the settlement's totals: an Update inside a transaction returns no item, so
      // the model sizes the booking's one totals update as it was (local/capacity.ts).
      expect(
        sum({ [source]: usage }, (u) => Object.values(u.dynamodb).reduce((n, c) => n + c.estimated, 0)),
      ).toBe(source === SETTLEMENTS ? 1 : 0);
    }

    // The other payment's work is its own: the same path, none of this one's GETs.
    const theirs = snapshot.payments?.[other] as UsageBySource;
    expect(theirs['states:payment']?.transitions).toBe(stack.runner.describeExecution(other).transitions);
    expect(theirs['api-get-payment']).toBeUndefined();
    expect(theirs['api-create-payment']?.apiRequests).toBe(1);

    // The totals are the payments' and the unattributed work's, source by source.
    for (const [source, usage] of Object.entries(snapshot.total)) {
      const parts = [...Object.values(snapshot.payments ?? {}), snapshot.unattributed].map(
        (bySource) => bySource[source]?.apiRequests ?? 0,
      );
      expect(usage.apiRequests).toBe(parts.reduce((a, b) => a + b, 0));
    }
  });

  it('reset zeroes every count, and counting goes on after it', async () => {
    await cardPayment();
    expect(Object.keys((await counters()).total).length).toBeGreaterThan(0);
    const reset = await fetch(`${stack.apiUrl}/_local/counters/reset`, { method: 'POST' });
    expect(reset.status).toBe(200);
    const after = await counters();
    // toEqual, not toMatchObject: an empty object would match anything.
    expect({ total: after.total, payments: after.payments, unattributed: after.unattributed }).toEqual({
      total: {},
      payments: {},
      unattributed: {},
    });
    const { since } = (await reset.json()) as { since: string };
    expect(after.since).toBe(since);

    const id = await cardPayment();
    const again = await counters('?payments=false');
    expect(again.payments).toBeUndefined();
    expect(again.total['states:payment']?.transitions).toBe(stack.runner.describeExecution(id).transitions);
  });

  it('computes the request units DynamoDB Local reports for single-item requests, without changing answers', async () => {
    const TableName = stack.tableName;
    const item = (pk: string, filler: number, indexed: boolean) => ({
      PK: { S: pk },
      SK: { S: 'ITEM' },
      filler: { S: 'x'.repeat(filler) },
      amount: { N: '72500' },
      tags: { L: [{ S: 'a' }, { M: { deep: { BOOL: true } } }] },
      ...(indexed ? { GSI1PK: { S: 'MERCHANT#m' }, GSI1SK: { S: `2026#${pk}` } } : {}),
    });
    const writeUnits = (snapshot: CountersSnapshot, command: string) =>
      snapshot.unattributed.local?.dynamodb[command]?.writeUnits ?? 0;
    const readUnits = (snapshot: CountersSnapshot) =>
      snapshot.unattributed.local?.dynamodb.GetItem?.readUnits ?? 0;
    for (const [filler, indexed] of [
      [10, false],
      [1000, true],
      [2500, true],
      [9000, false],
    ] as const) {
      const pk = `UNITS#${randomUUID()}`;
      await fetch(`${stack.apiUrl}/_local/counters/reset`, { method: 'POST' });
      const put = await stack.dynamodb.send(
        new PutItemCommand({ TableName, Item: item(pk, filler, indexed), ReturnConsumedCapacity: 'TOTAL' }),
      );
      // A replacement that moves the index key: the index pays for a delete and an insert.
      const replaced = await stack.dynamodb.send(
        new PutItemCommand({
          TableName,
          Item: { ...item(pk, filler + 200, indexed), ...(indexed ? { GSI1SK: { S: 'moved' } } : {}) },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      const updated = await stack.dynamodb.send(
        new UpdateItemCommand({
          TableName,
          Key: { PK: { S: pk }, SK: { S: 'ITEM' } },
          UpdateExpression: 'SET filler = :f',
          ExpressionAttributeValues: { ':f': { S: 'y'.repeat(filler + 1100) } },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      const read = await stack.dynamodb.send(
        new GetItemCommand({
          TableName,
          Key: { PK: { S: pk }, SK: { S: 'ITEM' } },
          ConsistentRead: true,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      const snapshot = await counters();
      const label = { filler, indexed };
      expect({ ...label, put: writeUnits(snapshot, 'PutItem') }).toEqual({
        ...label,
        put: (put.ConsumedCapacity?.CapacityUnits ?? 0) + (replaced.ConsumedCapacity?.CapacityUnits ?? 0),
      });
      expect({ ...label, update: writeUnits(snapshot, 'UpdateItem') }).toEqual({
        ...label,
        update: updated.ConsumedCapacity?.CapacityUnits,
      });
      expect({ ...label, read: readUnits(snapshot) }).toEqual({
        ...label,
        read: read.ConsumedCapacity?.CapacityUnits,
      });
      // What the counters asked for to size the writes (ReturnValues) was taken back out of the answers.
      expect(put.Attributes).toBeUndefined();
      expect(updated.Attributes).toBeUndefined();
    }
  });

  it('are off unless asked for: no endpoint, and nothing counted', async () => {
    const quiet = await startTestStack();
    try {
      await fetch(`${quiet.apiUrl}/v1/health`);
      expect((await fetch(`${quiet.apiUrl}/_local/counters`)).status).toBe(404);
      expect((await fetch(`${quiet.apiUrl}/_local/counters/reset`, { method: 'POST' })).status).toBe(404);
      expect(quiet.counters.enabled).toBe(false);
      expect(quiet.counters.snapshot().total).toEqual({});
    } finally {
      await quiet.close();
    }
  });

  it('gives a caller that asks for the old item what it asked for', async () => {
    const Key = { PK: { S: `ASKED#${randomUUID()}` }, SK: { S: 'ITEM' } };
    await stack.dynamodb.send(
      new PutItemCommand({ TableName: stack.tableName, Item: { ...Key, v: { S: 'one' } } }),
    );
    const again = await stack.dynamodb.send(
      new PutItemCommand({
        TableName: stack.tableName,
        Item: { ...Key, v: { S: 'two' } },
        ReturnValues: 'ALL_OLD',
      }),
    );
    expect(again.Attributes?.v).toEqual({ S: 'one' });
    expect(again.ConsumedCapacity).toBeUndefined();
  });
});
