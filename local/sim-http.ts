/** The HTTP plumbing the simulators share: bodies read within a limit, JSON or HTML answers (held on demand), listen and close. */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * What a route answers: JSON `body`, or an HTML page when `html` is set, or a redirect to `location`; held
 * `delayMs` first when set.
 */
export interface SimReply {
  status: number;
  body: unknown;
  html?: string;
  location?: string;
  delayMs?: number;
}

export interface SimServer {
  /** Base url, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  /** Stops at once: held answers are dropped and open connections destroyed. Idempotent. */
  close(): Promise<void>;
}

export interface SimServerOptions {
  /** 0 picks a free port. */
  port: number;
  host: string;
  /** Answers one request. It should not reject; if it does, `failure` is answered. */
  handle(req: http.IncomingMessage): Promise<SimReply>;
  /** The answer to a request whose handler rejected. */
  failure: SimReply;
}

/** Largest request body either simulator reads. */
export const MAX_BODY_BYTES = 64 * 1024;

/** The body as UTF-8 text, or undefined once it passes `limit` bytes (the rest is not read). */
export async function readBody(
  req: http.IncomingMessage,
  limit = MAX_BODY_BYTES,
): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Listens on `host:port` and answers each request with `handle`'s reply. */
export async function startSimServer(options: SimServerOptions): Promise<SimServer> {
  const sockets = new Set<Socket>();
  const heldReplies = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    options
      .handle(req)
      .catch(() => options.failure)
      .then((reply) => respond(res, reply));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  function respond(res: http.ServerResponse, reply: SimReply): void {
    if (!reply.delayMs) {
      write(res, reply);
      return;
    }
    const timer = setTimeout(() => {
      heldReplies.delete(timer);
      write(res, reply);
    }, reply.delayMs);
    heldReplies.add(timer);
    // The client gave up (its timeout): nothing to answer, and close() must not wait for this timer.
    res.on('close', () => {
      clearTimeout(timer);
      heldReplies.delete(timer);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        for (const timer of heldReplies) clearTimeout(timer);
        heldReplies.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        // Held answers and keep-alive connections would otherwise keep close() waiting.
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function write(res: http.ServerResponse, reply: SimReply): void {
  if (res.destroyed || res.writableEnded) return;
  const html = reply.html !== undefined;
  const text = html ? (reply.html as string) : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'Content-Type': html ? 'text/html; charset=utf-8' : 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...(reply.location === undefined ? {} : { Location: reply.location }),
  });
  res.end(text);
}
