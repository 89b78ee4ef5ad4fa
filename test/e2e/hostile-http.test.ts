/**
 * Hostile HTTP against the local API: oversized bodies on every route, endless uploads, paths that do not
 * decode, and failures the server answers itself. Nothing of it reaches a handler, writes, or crashes.
 */
import { randomUUID } from 'node:crypto';
import { type IncomingHttpHeaders, request } from 'node:http';
import { connect } from 'node:net';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { MAX_BODY_BYTES } from '../../functions/handlers/http.js';
import { startApiServer } from '../../local/api-server.js';
import type { LocalStack } from '../../local/stack.js';
import { api, startTestStack } from '../support/stack.js';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

async function itemCount(): Promise<number> {
  const { Count } = await stack.dynamodb.send(
    new ScanCommand({ TableName: stack.tableName, Select: 'COUNT', ConsistentRead: true }),
  );
  return Count ?? 0;
}

const PAY = 'pay_01JD3Q4V7M0000000000000000';

/** Every route of the API, the extras and a route that does not exist. */
const ROUTES: [string, string][] = [
  ['GET', '/v1/health'],
  ['POST', '/v1/payments'],
  ['GET', '/v1/payments'],
  ['GET', `/v1/payments/${PAY}`],
  ['PATCH', `/v1/payments/${PAY}`],
  ['GET', `/v1/payments/${PAY}/events`],
  ['POST', `/v1/payments/${PAY}/capture`],
  ['POST', `/v1/payments/${PAY}/cancel`],
  ['POST', `/v1/payments/${PAY}/refunds`],
  ['GET', `/v1/payments/${PAY}/refunds`],
  ['GET', `/v1/payments/${PAY}/qr`],
  ['POST', '/v1/webhooks/kbank'],
  ['POST', '/v1/webhooks/kbank/return'],
  ['GET', '/openapi.json'],
  ['POST', '/v1/nowhere'],
];

/** Any method with a body (fetch refuses a GET with one; API Gateway passes it on). */
function withBody(
  method: string,
  path: string,
  body: string,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${stack.apiUrl}${path}`,
      {
        method,
        headers: {
          Authorization: `Bearer ${stack.merchant.apiKey}`,
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
          'Idempotency-Key': randomUUID(),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    // The server may close before taking all of the body: the answer is what counts.
    req.on('error', (error) => (req.writableEnded ? undefined : reject(error)));
    req.end(body);
  });
}

/** Raw HTTP/1.1 over a socket: what fetch would not send, and what happens to the connection. */
function rawRequest(
  head: string,
  write?: (socket: ReturnType<typeof connect>) => void,
): Promise<{ response: string; sent: number }> {
  const { hostname, port } = new URL(stack.apiUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let response = '';
    let sent = 0;
    socket.on('data', (chunk) => {
      response += chunk.toString('latin1');
    });
    // The server ends the connection; a write racing that is refused (EPIPE/ECONNRESET): both mean "closed".
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ response, sent }));
    socket.on('connect', () => {
      socket.write(head);
      if (!write) return;
      const chunk = Buffer.alloc(64 * 1024, 'a');
      const pump = () => {
        // Without an end, the test's own bound: a server that kept reading would never close.
        while (!socket.destroyed && sent < 256 * 1024 * 1024) {
          sent += chunk.length;
          if (!socket.write(`${chunk.length.toString(16)}\r\n${chunk.toString('latin1')}\r\n`)) {
            socket.once('drain', pump);
            return;
          }
        }
        if (!socket.destroyed) reject(new Error(`the server read ${sent} bytes without closing`));
      };
      pump();
    });
  });
}

describe('oversized bodies', () => {
  it.each(ROUTES)('%s %s answers 413 payload_too_large and writes nothing', async (method, path) => {
    const before = await itemCount();
    const res = await withBody(
      method,
      path,
      JSON.stringify({ amount: 100, pad: 'x'.repeat(MAX_BODY_BYTES) }),
    );
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(res.body)).toMatchObject({
      type: '/problems/payload_too_large',
      status: 413,
      code: 'payload_too_large',
    });
    expect(await itemCount()).toBe(before);
  });

  it('refuses before the authorizer: no API key is needed to be told 413', async () => {
    const res = await api(stack, 'POST', '/v1/payments', {
      rawBody: 'x'.repeat(MAX_BODY_BYTES + 1),
      key: null,
    });
    expect(res.status).toBe(413);
  });

  it('lets a body of exactly the limit through to the handler', async () => {
    const res = await api(stack, 'POST', `/v1/payments/${PAY}/capture`, {
      rawBody: `{"amount":1${' '.repeat(MAX_BODY_BYTES - 13)}}`,
      idempotencyKey: randomUUID(),
    });
    // The handler read it: a well-formed body for a payment that does not exist.
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('resource_not_found');
  });

  it('stops reading an endless chunked upload, answers 413 and closes the connection', async () => {
    const before = await itemCount();
    const { response, sent } = await rawRequest(
      'POST /v1/webhooks/kbank HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
        'Transfer-Encoding: chunked\r\n\r\n',
      () => undefined,
    );
    expect(response).toMatch(/^HTTP\/1\.1 413 /);
    expect(response).toMatch(/connection: close/i);
    expect(response).toContain('"code":"payload_too_large"');
    // Far less than the test's own bound (256 MB): only what the sockets' buffers held.
    expect(sent).toBeLessThan(64 * 1024 * 1024);
    expect(await itemCount()).toBe(before);
  });

  it('answers 413 from a declared Content-Length alone, without waiting for the body', async () => {
    const { response } = await rawRequest(
      `POST /v1/payments HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${
        10 * 1024 * 1024 * 1024
      }\r\n\r\n{"amount":`,
    );
    expect(response).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('still serves the next request normally', async () => {
    expect((await api(stack, 'GET', '/v1/health', { key: null })).status).toBe(200);
  });
});

describe('paths that do not decode', () => {
  it.each([
    ['GET', `/v1/payments/%E0%A4%A`],
    ['GET', '/v1/payments/%zz'],
    ['GET', '/v1/payments/pay_%C0%AF'],
    ['POST', '/v1/payments/%zz/capture'],
    ['POST', '/v1/payments/%E0%A4%A/refunds'],
    ['PATCH', '/v1/payments/%'],
    ['GET', '/v1/health%'],
    ['GET', '/%FF%FE/nowhere'],
  ])('%s %s answers 400 malformed_path, not 500', async (method, path) => {
    const before = await itemCount();
    const res = await api(stack, method, path, {
      idempotencyKey: randomUUID(),
      ...(method === 'GET' ? {} : { body: { amount: 100 } }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.body).toEqual({
      type: '/problems/malformed_path',
      title: 'Bad Request',
      status: 400,
      code: 'malformed_path',
      detail: 'The path is not validly percent-encoded.',
    });
    expect(await itemCount()).toBe(before);
  });

  it('treats //host/path as a path, not as another host', async () => {
    const { response } = await rawRequest(
      'GET //v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    );
    expect(response).toMatch(/^HTTP\/1\.1 404 /);
    expect(response).toContain('"code":"route_not_found"');
  });

  it('still decodes a well-formed escape in a path parameter', async () => {
    // %5F is "_": the handler sees the decoded id, which names no payment of ours.
    const res = await api(stack, 'GET', '/v1/payments/pay%5F01JD3Q4V7M0000000000000000');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('resource_not_found');
  });
});

describe('failures the server answers itself', () => {
  /**
   * Powertools writes JSON lines to stdout, errors to stderr; collect both while `run` runs. They are the
   * errors this test provokes, so they are held for its assertions, not printed as if something failed.
   */
  async function logged(run: () => Promise<void>): Promise<Record<string, unknown>[]> {
    const lines: string[] = [];
    const streams = [process.stdout, process.stderr];
    const writes = streams.map((stream) => stream.write);
    for (const stream of streams) {
      stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        lines.push(String(chunk));
        const done = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
        done?.();
        return true;
      }) as typeof stream.write;
    }
    try {
      await run();
    } finally {
      streams.forEach((stream, i) => {
        stream.write = writes[i] ?? stream.write;
      });
    }
    return lines
      .flatMap((line) => line.split('\n'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  }

  it('logs a 500 from a failing authorizer and a throwing route, and answers without internals', async () => {
    const server = await startApiServer({
      routes: [
        {
          method: 'GET',
          path: '/v1/boom',
          name: 'boom',
          authorized: false,
          handler: async () => {
            throw new Error('ECONNREFUSED arn:aws:dynamodb:local:000000000000:table/payments-abc');
          },
        },
        {
          method: 'GET',
          path: '/v1/guarded',
          name: 'guarded',
          authorized: true,
          handler: async () => ({ statusCode: 200, body: '{}' }),
        },
      ],
      authorizer: async () => {
        throw new Error('ProvisionedThroughputExceededException: table payments-abc');
      },
    });
    try {
      const answers: { status: number; body: string }[] = [];
      const lines = await logged(async () => {
        for (const path of ['/v1/boom', '/v1/guarded']) {
          const res = await fetch(`${server.url}${path}`, { headers: { Authorization: 'Bearer sk_test_x' } });
          answers.push({ status: res.status, body: await res.text() });
        }
      });
      for (const answer of answers) {
        expect(answer.status).toBe(500);
        expect(JSON.parse(answer.body)).toMatchObject({ status: 500, code: 'internal_error' });
        expect(answer.body).not.toMatch(/arn:|payments-abc|ECONNREFUSED|Exception|at .*\.ts/);
      }
      const errors = lines.filter((line) => line.level === 'ERROR' && line.message === 'local api failed');
      expect(errors.map((line) => line.url)).toEqual(['/v1/boom', '/v1/guarded']);
      expect(JSON.stringify(errors)).toContain('ProvisionedThroughputExceededException');
    } finally {
      await server.close();
    }
  });
});
