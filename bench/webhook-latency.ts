/**
 * `npx tsx bench/webhook-latency.ts [--payments 100] [--concurrency 4]`: webhook delivery latency on the
 * local stack. Registers an endpoint at a local receiver, makes card payments (and a refund of each) through
 * the API, and measures for every delivery the time from the event's publication on the bus to the first
 * delivery attempt (as recorded on the delivery), and to the receiver's arrival. Prints p50 / p99 / max in ms.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { MAGIC_CARDS, tokenizeTestCard } from '../local/kbank-simulator.js';
import { startLocalStack } from '../local/stack.js';
import { startWebhookReceiver } from '../local/webhook-receiver.js';
import { summary } from './stats.js';

const { values } = parseArgs({
  options: {
    payments: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '4' },
    dynamodb: { type: 'string', default: process.env.DYNAMODB_ENDPOINT },
  },
});
const total = Number(values.payments);
const concurrency = Number(values.concurrency);

const stack = await startLocalStack({
  apiPort: 0,
  kbankPort: 0,
  costPort: 0,
  sfnPort: 0,
  dynamodbPort: 0,
  ...(values.dynamodb ? { dynamodbEndpoint: values.dynamodb } : {}),
  tableName: `bench-webhooks-${randomUUID().slice(0, 8)}`,
  waitScale: 0,
});
const receiver = await startWebhookReceiver();
try {
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${stack.merchant.apiKey}`,
        'Content-Type': 'application/json',
        'Idempotency-Key': randomUUID(),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: the API's JSON, read loosely by a benchmark
    return (await response.json()) as Record<string, any>;
  };
  const endpoint = await call('POST', '/v1/webhook_endpoints', {
    url: receiver.url,
    events: ['payment.succeeded', 'refund.succeeded'],
  });
  receiver.setSecret(endpoint.secret);

  const one = async () => {
    const token = await tokenizeTestCard(stack.kbankUrl, MAGIC_CARDS.visa.number, {
      publicKey: stack.kbankPublicKey,
    });
    const created = await call('POST', '/v1/payments', {
      amount: 72500,
      currency: 'THB',
      order: {
        id: `order-${randomUUID().slice(0, 8)}`,
        lines: [
          { sku: 'SKU-TSHIRT', quantity: 2, unit_amount: 35000 },
          { sku: 'SKU-STICKER', quantity: 1, unit_amount: 2500 },
        ],
      },
      customer: { id: 'cus-42', email: 'somchai@example.com' },
      payment_method: { type: 'card', token },
    });
    await stack.runner.waitForExecution(created.id, 30_000);
    const refund = await call('POST', `/v1/payments/${created.id}/refunds`, { amount: 35000 });
    await stack.refundRunner.waitForExecution(refund.id, 30_000);
  };
  const started = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next += 1;
        await one();
      }
    }),
  );
  const expected = 2 * total;
  const deadline = Date.now() + 60_000;
  while (receiver.accepted().length < expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  const published = new Map(
    stack.bus.events().map((event) => [String(event.detail.event_id), Date.parse(event.time)] as const),
  );
  const toAttempt: number[] = [];
  const toArrival: number[] = [];
  let cursor: string | null = null;
  do {
    const page = await call(
      'GET',
      `/v1/webhook_endpoints/${endpoint.id}/deliveries?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
    );
    for (const delivery of page.data) {
      const at = published.get(delivery.event_id);
      const first = delivery.attempts[0];
      if (at === undefined || !first) continue;
      toAttempt.push(Date.parse(first.at) - at);
    }
    cursor = page.has_more ? page.next_cursor : null;
  } while (cursor);
  for (const delivery of receiver.received) {
    const at = published.get(delivery.id);
    if (at !== undefined && delivery.accepted) toArrival.push(delivery.at - at);
  }
  console.log(
    JSON.stringify(
      {
        payments: total,
        concurrency,
        deliveries: { expected, received: receiver.accepted().length },
        seconds: Math.round((Date.now() - started) / 100) / 10,
        publishedToFirstAttemptMs: summary(toAttempt),
        publishedToReceiverMs: summary(toArrival),
      },
      null,
      2,
    ),
  );
} finally {
  await receiver.close();
  await stack.close();
}
