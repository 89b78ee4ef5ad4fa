/**
 * Merchant webhooks as a merchant sees them, on the local stack: an endpoint registered at a real local
 * HTTP receiver gets signed `payment.succeeded` and `refund.succeeded` deliveries of a card payment and its
 * refund made through the API; a receiver that fails N times sees the event once (dedupe on its id) with
 * N + 1 attempts recorded; a receiver down for the whole (shrunk) schedule ends in the DLQ with
 * `webhook.delivery_failed`; rotation signs with both secrets; another merchant's endpoints are 404.
 */
import { randomUUID } from 'node:crypto';
import { hashApiKey } from '../../functions/core/api-keys.js';
import { verifySignature } from '../../functions/core/webhooks/signature.js';
import { MAGIC_CARDS } from '../../local/kbank-simulator.js';
import type { LocalStack } from '../../local/stack.js';
import { randomApiKey } from '../../local/stack.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../local/webhook-receiver.js';
import { api, paymentBody, startTestStack, tokenize } from '../support/stack.js';

/** Six attempts, 20 ms apart (±20 %): the whole schedule in well under a second. */
const SCHEDULE = [1, 1, 1, 1, 1];
const SCALE = 0.02;

let stack: LocalStack;
const receivers: WebhookReceiver[] = [];
const other = { id: 'merchant_other', key: randomApiKey() };

beforeAll(async () => {
  stack = await startTestStack({ webhookRetryScheduleSeconds: SCHEDULE, webhookRetryScale: SCALE });
  await stack.repo.putApiKey(hashApiKey(other.key), { id: other.id, name: 'Other Merchant' });
});
afterAll(async () => {
  for (const receiver of receivers) await receiver.close();
  await stack?.close();
});

async function receiver(options: Parameters<typeof startWebhookReceiver>[0] = {}) {
  const started = await startWebhookReceiver(options);
  receivers.push(started);
  return started;
}

async function register(url: string, events: string[], key?: string) {
  const created = await api(stack, 'POST', '/v1/webhook_endpoints', {
    body: { url, events },
    idempotencyKey: randomUUID(),
    ...(key ? { key } : {}),
  });
  expect(created.status).toBe(201);
  return created.body as { id: string; secret: string };
}

async function cardPayment(): Promise<string> {
  const token = await tokenize(stack, MAGIC_CARDS.visa.number);
  const created = await api(stack, 'POST', '/v1/payments', {
    body: paymentBody(token),
    idempotencyKey: randomUUID(),
  });
  expect(created.status).toBe(201);
  expect((await stack.runner.waitForExecution(created.body.id, 20_000)).status).toBe('SUCCEEDED');
  return created.body.id;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

type Delivery = {
  id: string;
  event_id: string;
  event_type: string;
  status: string;
  attempts: { attempt: number; status_code: number | null; manual: boolean; latency_ms: number }[];
};

async function deliveries(endpointId: string): Promise<Delivery[]> {
  const page = await api(stack, 'GET', `/v1/webhook_endpoints/${endpointId}/deliveries?limit=100`);
  expect(page.status).toBe(200);
  return page.body.data;
}

describe('merchant webhooks on the local stack', () => {
  it('delivers signed payment.succeeded and refund.succeeded of a card payment and its refund', async () => {
    const listener = await receiver();
    const endpoint = await register(listener.url, ['payment.succeeded', 'refund.*']);
    expect(endpoint.secret).toMatch(/^whsec_/);
    listener.setSecret(endpoint.secret);

    const paymentId = await cardPayment();
    const succeeded = await until('payment.succeeded', async () =>
      listener.received.find((d) => d.event?.type === 'payment.succeeded' && d.event.data.id === paymentId),
    );
    expect(succeeded.verified).toBe(true);
    const shown = (await api(stack, 'GET', `/v1/payments/${paymentId}`)).body;
    expect(succeeded.event?.data).toEqual({ ...shown, updated_at: succeeded.event?.data.updated_at });
    expect(succeeded.event?.data.status).toBe('succeeded');
    expect(succeeded.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+$/);

    const refund = await api(stack, 'POST', `/v1/payments/${paymentId}/refunds`, {
      body: { amount: 35000 },
      idempotencyKey: randomUUID(),
    });
    expect(refund.status).toBe(202);
    const refunded = await until('refund.succeeded', async () =>
      listener.received.find(
        (d) => d.event?.type === 'refund.succeeded' && d.event.data.id === refund.body.id,
      ),
    );
    expect(refunded.verified).toBe(true);
    expect(refunded.event?.data).toMatchObject({ id: refund.body.id, payment_id: paymentId, amount: 35000 });
    expect(refunded.event?.sequence).toBeGreaterThan(succeeded.event?.sequence ?? Number.POSITIVE_INFINITY);
    // Only what it subscribed to: no payment.created, authorized, ….
    expect(new Set(listener.received.map((d) => d.event?.type))).toEqual(
      new Set(['payment.succeeded', 'refund.succeeded']),
    );

    const history = await deliveries(endpoint.id);
    expect(history.map((d) => [d.event_type, d.status, d.attempts.length])).toEqual([
      ['refund.succeeded', 'delivered', 1],
      ['payment.succeeded', 'delivered', 1],
    ]);
    // The secret is in no answer but the creation's.
    const read = await api(stack, 'GET', `/v1/webhook_endpoints/${endpoint.id}`);
    const listed = await api(stack, 'GET', '/v1/webhook_endpoints');
    for (const text of [read.text, listed.text, JSON.stringify(history)]) {
      expect(text).not.toContain(endpoint.secret);
      expect(text).not.toContain(endpoint.secret.slice(6));
    }
  });

  it('retries a receiver that fails 3 times: it acts on the event once, 4 attempts are recorded', async () => {
    const flaky = await receiver({ failFirst: 3 });
    const endpoint = await register(flaky.url, ['payment.succeeded']);
    flaky.setSecret(endpoint.secret);
    const paymentId = await cardPayment();
    const [delivery] = await until('the delivery', async () => {
      const found = await deliveries(endpoint.id);
      return found[0]?.status === 'delivered' ? found : undefined;
    });
    expect(delivery?.attempts.map((a) => a.status_code)).toEqual([503, 503, 503, 200]);
    expect(flaky.received).toHaveLength(4);
    expect(new Set(flaky.received.map((d) => d.id))).toEqual(new Set([delivery?.event_id]));
    expect(flaky.accepted()).toEqual([delivery?.event_id]);
    expect(flaky.received.at(-1)?.event?.data.id).toBe(paymentId);

    // A manual resend: recorded as a manual attempt; the receiver's dedupe keeps it from acting twice.
    const resent = await api(
      stack,
      'POST',
      `/v1/webhook_endpoints/${endpoint.id}/deliveries/${delivery?.id}/retry`,
      {
        idempotencyKey: randomUUID(),
      },
    );
    expect(resent.status).toBe(202);
    const after = await until('the manual attempt', async () => {
      const [found] = await deliveries(endpoint.id);
      return found && found.attempts.length === 5 ? found : undefined;
    });
    expect(after.attempts.at(-1)).toMatchObject({ manual: true, status_code: 200 });
    expect(flaky.accepted()).toHaveLength(1);
    expect(flaky.received.at(-1)?.duplicate).toBe(true);
  });

  it('gives up on a receiver down for the whole schedule: DLQ, failed delivery, webhook.delivery_failed', async () => {
    const down = await receiver({ alwaysFail: true });
    const endpoint = await register(down.url, ['payment.succeeded']);
    await cardPayment();
    const [delivery] = await until('the failed delivery', async () => {
      const found = await deliveries(endpoint.id);
      return found[0]?.status === 'failed' ? found : undefined;
    });
    expect(delivery?.attempts).toHaveLength(SCHEDULE.length + 1);
    expect(delivery?.attempts.every((a) => a.status_code === 503)).toBe(true);
    expect(down.received).toHaveLength(SCHEDULE.length + 1);
    expect(stack.webhookDeliveries.deadLetters()).toContainEqual(
      expect.objectContaining({ delivery_id: delivery?.id, reason: 'retry schedule spent' }),
    );
    const notice = await stack.bus.waitFor(
      (event) => event.detailType === 'webhook.delivery_failed' && event.detail.delivery_id === delivery?.id,
      5000,
    );
    expect(notice.detail).toMatchObject({
      endpoint_id: endpoint.id,
      webhook_event_id: delivery?.event_id,
      attempts: SCHEDULE.length + 1,
      last_status_code: 503,
    });
    // Still enabled: one event's failures are far from the disabling threshold (5 days, 20 in a row).
    expect((await api(stack, 'GET', `/v1/webhook_endpoints/${endpoint.id}`)).body.status).toBe('enabled');
  });

  it('signs with both secrets after a rotation, and a replayed creation does not show the secret again', async () => {
    const listener = await receiver();
    const key = randomUUID();
    const body = { url: listener.url, events: ['payment.*'] };
    const created = await api(stack, 'POST', '/v1/webhook_endpoints', { body, idempotencyKey: key });
    expect(created.status).toBe(201);
    const replayed = await api(stack, 'POST', '/v1/webhook_endpoints', { body, idempotencyKey: key });
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(replayed.body).toEqual({ ...created.body, secret: null });

    const rotated = await api(stack, 'POST', `/v1/webhook_endpoints/${created.body.id}/rotate_secret`, {
      idempotencyKey: randomUUID(),
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(created.body.secret);
    expect(
      Date.parse(rotated.body.previous_secret_expires_at) - Date.parse(rotated.body.secret_rotated_at),
    ).toBe(24 * 3600 * 1000);
    listener.setSecret(rotated.body.secret);
    const paymentId = await cardPayment();
    const delivery = await until('a delivery', async () =>
      listener.received.find((d) => d.event?.type === 'payment.succeeded' && d.event.data.id === paymentId),
    );
    expect(delivery.headers['webhook-signature']?.split(' ')).toHaveLength(2);
    const nowSeconds = Math.floor(Date.now() / 1000);
    for (const secret of [created.body.secret, rotated.body.secret]) {
      expect(verifySignature(secret, delivery.headers, delivery.body, { nowSeconds })).toBe(delivery.id);
    }
  });

  it("keeps another merchant's endpoints invisible (404) and refuses bad URLs without writing anything", async () => {
    const listener = await receiver();
    const mine = await register(listener.url, ['*']);
    const before = (await api(stack, 'GET', '/v1/webhook_endpoints')).body.data.length;
    for (const [method, path] of [
      ['GET', `/v1/webhook_endpoints/${mine.id}`],
      ['DELETE', `/v1/webhook_endpoints/${mine.id}`],
      ['GET', `/v1/webhook_endpoints/${mine.id}/deliveries`],
      ['POST', `/v1/webhook_endpoints/${mine.id}/rotate_secret`],
    ] as const) {
      const answer = await api(stack, method, path, { key: other.key, idempotencyKey: randomUUID() });
      expect([method, path, answer.status, answer.body.code]).toEqual([
        method,
        path,
        404,
        'resource_not_found',
      ]);
    }
    expect((await api(stack, 'GET', '/v1/webhook_endpoints', { key: other.key })).body.data).toEqual([]);

    for (const url of [
      'http://10.0.0.7/hook',
      'ftp://127.0.0.1/',
      'https://169.254.169.254/latest',
      'not a url',
    ]) {
      const refused = await api(stack, 'POST', '/v1/webhook_endpoints', {
        body: { url, events: ['*'] },
        idempotencyKey: randomUUID(),
      });
      expect([url, refused.status, refused.body.code]).toEqual([url, 400, 'validation_failed']);
      expect(refused.headers.get('content-type')).toBe('application/problem+json');
    }
    const unknownType = await api(stack, 'POST', '/v1/webhook_endpoints', {
      body: { url: listener.url, events: ['payment.exploded'] },
      idempotencyKey: randomUUID(),
    });
    expect(unknownType.status).toBe(400);
    expect((await api(stack, 'GET', '/v1/webhook_endpoints')).body.data).toHaveLength(before);

    // Deleted: gone for its merchant too.
    expect((await api(stack, 'DELETE', `/v1/webhook_endpoints/${mine.id}`)).status).toBe(200);
    expect((await api(stack, 'GET', `/v1/webhook_endpoints/${mine.id}`)).status).toBe(404);
    expect((await api(stack, 'GET', '/v1/webhook_endpoints')).body.data).toHaveLength(before - 1);
  });
});
