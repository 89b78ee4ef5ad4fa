/**
 * A merchant's webhook receiver, as small as one can be: verifies each POST with the signing secret
 * (functions/core/webhooks/signature.ts, the same check as the docs' snippet), deduplicates on the
 * `webhook-id`, and answers 2xx. `npm run webhook:listen` prints what it receives; tests use it to fail a
 * number of times first, or to stay down.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature, WebhookVerificationError } from '../functions/core/webhooks/signature.js';

export interface ReceivedDelivery {
  /** The `webhook-id` (the event id). */
  id: string;
  /** Time it arrived (ms since the epoch). */
  at: number;
  headers: Record<string, string | undefined>;
  body: string;
  /** The parsed body when it verified. */
  event: {
    id: string;
    type: string;
    created: string;
    data: Record<string, unknown>;
    sequence: number;
  } | null;
  verified: boolean;
  /** Why it did not verify. */
  failure?: string;
  /** Answered 2xx and seen for the first time: what a merchant's system acts on. */
  accepted: boolean;
  /** The same id was accepted before: answered 2xx, not acted on again. */
  duplicate: boolean;
}

export interface WebhookReceiverOptions {
  /** Set (e.g. from the endpoint's creation) before the first delivery, or later with `setSecret`. */
  secret?: string;
  /** 0: any free port. */
  port?: number;
  host?: string;
  /** Answer 503 to the first N deliveries (verified or not): a receiver that is down for a while. */
  failFirst?: number;
  /** Answer 503 to everything. */
  alwaysFail?: boolean;
  /** Receiver clock in Unix seconds (the signature's tolerance is checked against it). */
  nowSeconds?: () => number;
  onDelivery?: (delivery: ReceivedDelivery) => void;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedDelivery[];
  /** The ids acted on, once each. */
  accepted(): string[];
  setSecret(secret: string): void;
  setAlwaysFail(fail: boolean): void;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

export async function startWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  let secret = options.secret;
  let alwaysFail = options.alwaysFail ?? false;
  let failuresLeft = options.failFirst ?? 0;
  const received: ReceivedDelivery[] = [];
  const seen = new Set<string>();
  const nowSeconds = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));

  const server = createServer(async (request, response) => {
    const body = await readBody(request);
    const headers = {
      'webhook-id': request.headers['webhook-id'] as string | undefined,
      'webhook-timestamp': request.headers['webhook-timestamp'] as string | undefined,
      'webhook-signature': request.headers['webhook-signature'] as string | undefined,
    };
    const delivery: ReceivedDelivery = {
      id: headers['webhook-id'] ?? '',
      at: Date.now(),
      headers,
      body,
      event: null,
      verified: false,
      accepted: false,
      duplicate: false,
    };
    received.push(delivery);
    const answer = (status: number, text: string) => {
      response.writeHead(status, { 'content-type': 'text/plain' }).end(text);
      options.onDelivery?.(delivery);
    };
    if (alwaysFail || failuresLeft > 0) {
      failuresLeft = Math.max(0, failuresLeft - 1);
      answer(503, 'down for maintenance');
      return;
    }
    if (!secret) {
      delivery.failure = 'no secret configured';
      answer(500, 'no secret configured');
      return;
    }
    try {
      verifySignature(secret, headers, body, { nowSeconds: nowSeconds() });
      delivery.verified = true;
      delivery.event = JSON.parse(body) as ReceivedDelivery['event'];
    } catch (error) {
      delivery.failure = error instanceof WebhookVerificationError ? error.reason : 'not JSON';
      answer(400, delivery.failure);
      return;
    }
    if (seen.has(delivery.id)) {
      delivery.duplicate = true;
      answer(200, 'duplicate');
      return;
    }
    seen.add(delivery.id);
    delivery.accepted = true;
    answer(200, 'ok');
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    received,
    accepted: () => received.filter((delivery) => delivery.accepted).map((delivery) => delivery.id),
    setSecret: (value) => {
      secret = value;
    },
    setAlwaysFail: (fail) => {
      alwaysFail = fail;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
