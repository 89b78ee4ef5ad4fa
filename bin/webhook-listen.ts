/**
 * `npm run webhook:listen -- --secret whsec_… [--port 4400]`: a local receiver for the local stack's webhook
 * deliveries, as a merchant's developer would run one. Verifies every delivery's signature (the docs'
 * check), prints it, and answers 2xx; with `--register` it first registers itself as an endpoint of the
 * local stack (`--api`, `--key` default to what `npm start` wrote in .local/stack.json; `--events '*'`) and
 * uses the secret it gets.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startWebhookReceiver } from '../local/webhook-receiver.js';

/** What `npm start` wrote: the local stack's API URL and the demo merchant's key, as defaults. */
const local = existsSync('.local/stack.json')
  ? (JSON.parse(readFileSync('.local/stack.json', 'utf8')) as { apiUrl?: string; apiKey?: string })
  : {};

const { values } = parseArgs({
  options: {
    secret: { type: 'string', default: process.env.WEBHOOK_SECRET },
    port: { type: 'string', default: '4400' },
    register: { type: 'boolean', default: false },
    api: { type: 'string', default: local.apiUrl ?? 'http://127.0.0.1:3000' },
    key: { type: 'string', default: process.env.API_KEY ?? local.apiKey },
    events: { type: 'string', default: '*' },
  },
});

const receiver = await startWebhookReceiver({
  port: Number(values.port),
  ...(values.secret ? { secret: values.secret } : {}),
  onDelivery: (delivery) => {
    const verdict = delivery.verified
      ? delivery.duplicate
        ? 'duplicate'
        : 'verified'
      : `REFUSED (${delivery.failure})`;
    const event = delivery.event;
    console.log(
      `${new Date(delivery.at).toISOString()} ${verdict} ${delivery.id}` +
        (event
          ? ` ${event.type} sequence=${event.sequence} ${String(event.data.id ?? '')} ${String(event.data.status ?? '')}`
          : ''),
    );
  },
});
console.log(`listening on ${receiver.url}`);

if (values.register) {
  if (!values.key) throw new Error('--register needs --key (or API_KEY): the merchant API key');
  const answer = await fetch(`${values.api}/v1/webhook_endpoints`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${values.key}`,
      'Content-Type': 'application/json',
      'Idempotency-Key': randomUUID(),
    },
    body: JSON.stringify({ url: receiver.url, events: values.events.split(',') }),
  });
  const endpoint = (await answer.json()) as { id?: string; secret?: string; detail?: string };
  if (!answer.ok || !endpoint.secret)
    throw new Error(`registration refused: ${answer.status} ${endpoint.detail ?? ''}`);
  receiver.setSecret(endpoint.secret);
  // The secret stays in this process: never printed (rotate the endpoint's secret to get one to keep).
  console.log(`registered ${endpoint.id} (its signing secret is held by this listener only)`);
} else if (!values.secret) {
  console.log('no --secret given: deliveries are answered 500 until one is set');
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    void receiver.close().then(() => process.exit(0));
  });
}
