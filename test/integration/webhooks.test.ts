/**
 * Merchant webhooks against DynamoDB Local and real HTTP receivers: one delivery per (endpoint, event)
 * however often the event comes, one record per attempt however often SQS redelivers its message, the
 * schedule run to the end (DLQ, failure notice) with the clock injected, paging of the history; the
 * sender follows no redirect, keeps 1 KiB of the answer, stops at its timeout and, with the public policy,
 * refuses loopback and private addresses (also when a name resolves to one).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDocumentClient } from '../../functions/adapters/dynamo-repository.js';
import { DynamoWebhookStore } from '../../functions/adapters/dynamo-webhooks.js';
import { createWebhookSender, publicOnlyLookup } from '../../functions/adapters/webhook-sender.js';
import { ulidIds } from '../../functions/core/ids.js';
import type { EventPublisher } from '../../functions/core/ports.js';
import { type DeliverDeps, deliver } from '../../functions/core/use-cases/webhooks/deliver.js';
import {
  type FanOutDeps,
  fanOut,
  REQUEUE_AFTER_MS,
} from '../../functions/core/use-cases/webhooks/fan-out.js';
import { listDeliveries } from '../../functions/core/use-cases/webhooks/read-deliveries.js';
import type { BusEvent, WebhookEndpoint, WebhookQueue } from '../../functions/core/webhooks/endpoints.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../local/webhook-receiver.js';
import { createLocalWebhookSecrets } from '../../local/webhooks.js';
import type { WebhookDeliveryMessage } from '../../schemas/webhooks.js';
import { freshTable } from '../support/dynamodb.js';

let store: DynamoWebhookStore;
let now = Date.parse('2026-11-22T04:00:00.000Z');
const clock = { now: () => new Date(now) };
const receivers: WebhookReceiver[] = [];
const servers: Server[] = [];

beforeAll(async () => {
  const { client, tableName } = await freshTable('webhooks');
  store = new DynamoWebhookStore(createDocumentClient(client), tableName);
});
afterAll(async () => {
  for (const receiver of receivers) await receiver.close();
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A queue that keeps what is sent, for the test to hand to `deliver` as SQS would. */
function recordingQueue() {
  const sent: { message: WebhookDeliveryMessage; delayMs: number }[] = [];
  const dead: { message: WebhookDeliveryMessage; reason: string }[] = [];
  const queue: WebhookQueue = {
    send: async (message, delayMs) => {
      sent.push({ message, delayMs });
    },
    deadLetter: async (message, reason) => {
      dead.push({ message, reason });
    },
  };
  return { queue, sent, dead };
}

function recordingBus() {
  const published: { type: string; detail: Record<string, unknown> }[] = [];
  const events: EventPublisher = { publish: async (entries) => void published.push(...entries) };
  return { events, published };
}

async function endpointAt(url: string, merchantId: string, secret: string): Promise<WebhookEndpoint> {
  const endpoint: WebhookEndpoint = {
    id: ulidIds('we'),
    merchantId,
    url,
    events: ['payment.succeeded'],
    description: null,
    status: 'enabled',
    disabledReason: null,
    health: { consecutiveFailures: 0, failingSince: null },
    secretRotatedAt: null,
    previousSecretExpiresAt: null,
    createdAt: clock.now().toISOString(),
    updatedAt: clock.now().toISOString(),
  };
  await store.putEndpoint(endpoint);
  await secrets.put(endpoint.id, { current: secret });
  return endpoint;
}

const secrets = createLocalWebhookSecrets();
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** `payment.captured` as the bus carries it (the fan-out's payments port is given the merchant directly). */
async function capturedEvent(_merchantId: string): Promise<BusEvent> {
  const stored = { id: ulidIds('pay') };
  return {
    kind: 'payment',
    busType: 'payment.captured',
    detail: {
      event_id: `evt_${stored.id}_5`,
      sequence: 5,
      occurred_at: clock.now().toISOString(),
      payment: { id: stored.id, object: 'payment', status: 'succeeded' } as never,
    },
  };
}

function deps(
  queue: WebhookQueue,
  events: EventPublisher,
  overrides: Partial<DeliverDeps> = {},
): DeliverDeps {
  return {
    webhooks: store,
    secrets,
    queue,
    sender: createWebhookSender('local'),
    events,
    clock,
    random: () => 0.5,
    retryScheduleSeconds: [5, 300, 1800],
    ...overrides,
  };
}

/** Delivers every message queued so far, advancing the clock to each one's due time, until none is left. */
async function drain(d: DeliverDeps, sent: { message: WebhookDeliveryMessage }[]) {
  while (sent.length > 0) {
    const next = sent.shift();
    if (!next) break;
    now = Math.max(now, Date.parse(next.message.due_at));
    await deliver(d, next.message);
  }
}

describe('webhook fan-out and delivery against DynamoDB Local', () => {
  it('makes one delivery per endpoint and event however often the event comes, and queues it once', async () => {
    const merchantId = `m_${ulidIds('we')}`;
    const receiver = await startWebhookReceiver({ nowSeconds: () => Math.floor(now / 1000), secret: SECRET });
    receivers.push(receiver);
    const endpoint = await endpointAt(receiver.url, merchantId, SECRET);
    const event = await capturedEvent(merchantId);
    const { queue, sent } = recordingQueue();
    const fan: FanOutDeps = {
      webhooks: store,
      queue,
      payments: { get: async (id) => ({ id, merchantId }) as never },
      clock,
      newDeliveryId: () => ulidIds('whd'),
    };
    const first = await fanOut(fan, event);
    const again = await fanOut(fan, event);
    expect(first.created).toHaveLength(1);
    expect(again).toMatchObject({ created: [], duplicates: 1 });
    expect(sent).toHaveLength(1);
    // A fan-out that died before queuing: the same event a while later queues the delivery again.
    now += REQUEUE_AFTER_MS + 1;
    await fanOut(fan, event);
    expect(sent).toHaveLength(2);
    const page = await store.listDeliveries(endpoint.id, { limit: 10 });
    expect(page.deliveries).toHaveLength(1);
    expect(JSON.parse(page.deliveries[0]?.body ?? '{}')).toMatchObject({
      id: event.detail.event_id,
      type: 'payment.succeeded',
      sequence: 5,
    });
  });

  it('records one attempt per scheduled attempt however often its message is received', async () => {
    const merchantId = `m_${ulidIds('we')}`;
    const receiver = await startWebhookReceiver({ nowSeconds: () => Math.floor(now / 1000), secret: SECRET });
    receivers.push(receiver);
    const endpoint = await endpointAt(receiver.url, merchantId, SECRET);
    const delivery = {
      id: ulidIds('whd'),
      endpointId: endpoint.id,
      merchantId,
      eventId: 'evt_dup_1',
      eventType: 'payment.succeeded',
      body: '{"id":"evt_dup_1"}',
      status: 'pending' as const,
      scheduledAttempts: 0,
      attempts: [],
      nextAttemptAt: null,
      createdAt: clock.now().toISOString(),
      deliveredAt: null,
      failedAt: null,
    };
    await store.createDelivery(delivery);
    const message = {
      delivery_id: delivery.id,
      endpoint_id: endpoint.id,
      merchant_id: merchantId,
      attempt: 1,
      due_at: clock.now().toISOString(),
    };
    const { queue } = recordingQueue();
    const d = deps(queue, recordingBus().events);
    const outcomes = await Promise.all([deliver(d, message), deliver(d, message), deliver(d, message)]);
    expect(outcomes.filter((o) => o.outcome === 'delivered')).toHaveLength(1);
    expect(await deliver(d, message)).toEqual({ outcome: 'stale' });
    const stored = await store.getDelivery(endpoint.id, delivery.id);
    expect(stored?.attempts).toHaveLength(1);
    expect(stored).toMatchObject({ status: 'delivered', scheduledAttempts: 1 });
    // The receiver saw the concurrent POSTs but acted once: its dedupe on webhook-id.
    expect(receiver.accepted()).toEqual(['evt_dup_1']);
  });

  it('retries a receiver that fails twice on the schedule and records 3 attempts; a dead one ends in the DLQ', async () => {
    const merchantId = `m_${ulidIds('we')}`;
    const flaky = await startWebhookReceiver({
      nowSeconds: () => Math.floor(now / 1000),
      secret: SECRET,
      failFirst: 2,
    });
    const dead = await startWebhookReceiver({
      nowSeconds: () => Math.floor(now / 1000),
      secret: SECRET,
      alwaysFail: true,
    });
    receivers.push(flaky, dead);
    const event = await capturedEvent(merchantId);
    const flakyEndpoint = await endpointAt(flaky.url, merchantId, SECRET);
    const deadEndpoint = await endpointAt(dead.url, merchantId, SECRET);
    const { queue, sent, dead: dlq } = recordingQueue();
    const bus = recordingBus();
    const fan: FanOutDeps = {
      webhooks: store,
      queue,
      payments: { get: async (id) => ({ id, merchantId }) as never },
      clock,
      newDeliveryId: () => ulidIds('whd'),
    };
    const started = now;
    await fanOut(fan, event);
    const d = deps(queue, bus.events, { maxQueueDelayMs: 900_000 });
    await drain(d, sent);

    const [delivered] = (await store.listDeliveries(flakyEndpoint.id, { limit: 10 })).deliveries;
    expect(delivered?.attempts.map((a) => a.statusCode)).toEqual([503, 503, 200]);
    expect(delivered?.status).toBe('delivered');
    expect(flaky.accepted()).toEqual([event.detail.event_id]);

    const [failed] = (await store.listDeliveries(deadEndpoint.id, { limit: 10 })).deliveries;
    expect(failed?.attempts.map((a) => a.statusCode)).toEqual([503, 503, 503, 503]);
    expect(failed?.status).toBe('failed');
    // 5 s + 300 s + 1800 s (jitter at its middle): the schedule ran, on the injected clock.
    expect(Date.parse(failed?.attempts[3]?.at ?? '') - started).toBeGreaterThanOrEqual(2105_000);
    expect(dlq).toEqual([
      { message: expect.objectContaining({ delivery_id: failed?.id }), reason: 'retry schedule spent' },
    ]);
    expect(bus.published).toEqual([
      {
        type: 'webhook.delivery_failed',
        detail: expect.objectContaining({ delivery_id: failed?.id, attempts: 4 }),
      },
    ]);
    const health = await store.getEndpoint(merchantId, deadEndpoint.id);
    expect(health?.health.consecutiveFailures).toBe(4);
    expect((await store.getEndpoint(merchantId, flakyEndpoint.id))?.health.consecutiveFailures).toBe(0);
  });

  it('disables an endpoint that failed every attempt for 5 days and 20 times in a row, with a notice', async () => {
    const merchantId = `m_${ulidIds('we')}`;
    const dead = await startWebhookReceiver({
      nowSeconds: () => Math.floor(now / 1000),
      secret: SECRET,
      alwaysFail: true,
    });
    receivers.push(dead);
    const endpoint = await endpointAt(dead.url, merchantId, SECRET);
    await store.updateHealth(
      endpoint,
      { consecutiveFailures: 19, failingSince: new Date(now - 5 * 86_400_000).toISOString() },
      null,
    );
    const { queue, sent } = recordingQueue();
    const bus = recordingBus();
    const fan: FanOutDeps = {
      webhooks: store,
      queue,
      payments: { get: async (id) => ({ id, merchantId }) as never },
      clock,
      newDeliveryId: () => ulidIds('whd'),
    };
    await fanOut(fan, await capturedEvent(merchantId));
    const first = sent.shift();
    if (!first) throw new Error('nothing queued');
    await deliver(deps(queue, bus.events), first.message);
    const disabled = await store.getEndpoint(merchantId, endpoint.id);
    expect(disabled).toMatchObject({ status: 'disabled' });
    expect(disabled?.disabledReason).toContain('5 days');
    expect(bus.published.map((event) => event.type)).toContain('webhook_endpoint.disabled');
    // Its next attempt is not made: the delivery fails, nothing more is POSTed.
    const before = dead.received.length;
    await drain(deps(queue, bus.events), sent);
    expect(dead.received.length).toBe(before);
  });

  it('pages an endpoint’s deliveries newest first and refuses a forged cursor', async () => {
    const merchantId = `m_${ulidIds('we')}`;
    const endpoint = await endpointAt('http://127.0.0.1:9/', merchantId, SECRET);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      now += 1;
      const id = ulidIds('whd');
      ids.push(id);
      await store.createDelivery({
        id,
        endpointId: endpoint.id,
        merchantId,
        eventId: `evt_page_${i}`,
        eventType: 'payment.succeeded',
        body: '{}',
        status: 'pending',
        scheduledAttempts: 0,
        attempts: [],
        nextAttemptAt: null,
        createdAt: clock.now().toISOString(),
        deliveredAt: null,
        failedAt: null,
      });
    }
    const read = { webhooks: store };
    const first = await listDeliveries(read, { merchantId, endpointId: endpoint.id, limit: 2 });
    expect(first.has_more).toBe(true);
    const second = await listDeliveries(read, {
      merchantId,
      endpointId: endpoint.id,
      limit: 10,
      cursor: first.next_cursor ?? '',
    });
    expect([...first.data, ...second.data].map((d) => d.id)).toEqual([...ids].reverse());
    await expect(
      listDeliveries(read, { merchantId, endpointId: endpoint.id, limit: 2, cursor: 'bm90IGEgY3Vyc29y' }),
    ).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(
      listDeliveries(read, { merchantId: 'someone_else', endpointId: endpoint.id, limit: 2 }),
    ).rejects.toMatchObject({ code: 'resource_not_found' });
  });
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

describe('the webhook sender', () => {
  const sender = createWebhookSender('local');

  it('does not follow a redirect: the 302 is the answer, the target is never called', async () => {
    let targetCalled = false;
    const target = await serve((_req, res) => {
      targetCalled = true;
      res.end('ok');
    });
    const redirecting = await serve((_req, res) => res.writeHead(302, { Location: target }).end());
    const result = await sender.post(redirecting, '{}', {}, 2000);
    expect(result).toMatchObject({ statusCode: 302, error: null });
    expect(targetCalled).toBe(false);
  });

  it('keeps the first 1024 bytes of a long answer and measures the latency', async () => {
    const url = await serve((_req, res) => res.end('x'.repeat(100_000)));
    const result = await sender.post(url, '{}', {}, 2000);
    expect(result.statusCode).toBe(200);
    expect(result.responseExcerpt).toHaveLength(1024);
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('gives up at its timeout on an endpoint that never answers', async () => {
    const url = await serve(() => undefined);
    const started = Date.now();
    const result = await sender.post(url, '{}', {}, 300);
    expect(result).toMatchObject({ statusCode: null, error: 'timeout' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('with the public policy refuses loopback, private and link-local targets, also through a name', async () => {
    const url = await serve((_req, res) => res.end('reached'));
    const strict = createWebhookSender('public');
    for (const target of [url, 'https://127.0.0.1/', 'https://10.1.2.3/', 'https://169.254.169.254/']) {
      expect((await strict.post(target, '{}', {}, 1000)).error).toBe('address_refused');
    }
    const resolved = await new Promise<Error | null>((resolve) =>
      publicOnlyLookup('localhost', {}, (error) => resolve(error)),
    );
    expect(resolved?.name).toBe('AddressRefused');
  });
});
