/**
 * The local API Gateway: turns HTTP requests into REST API proxy events for the same handlers, runs the
 * same TOKEN authorizer first on protected routes, holds each merchant to its plan's rate, burst and
 * daily quota like the usage plans do, and answers like the gateway does. Requests that name
 * nothing (a path that does not decode) or carry too much (a body over MAX_BODY_BYTES) are refused before
 * any handler runs.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayTokenAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { type Allowance, admit, DEFAULT_PLAN, isPlanName, type PlanTable } from '../functions/core/plans.js';
import { MAX_BODY_BYTES, problemOf, problemResponse, toProblem } from '../functions/handlers/http.js';
import { logger } from '../functions/handlers/logger.js';
import { lambdaContext } from './lambda-context.js';

type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
type AuthorizerHandler = (
  event: APIGatewayTokenAuthorizerEvent,
  context: Context,
) => Promise<APIGatewayAuthorizerResult>;

export interface Route {
  method: string;
  /** API Gateway resource path, e.g. `/v1/payments/{id}`. */
  path: string;
  name: string;
  handler: ProxyHandler;
  authorized: boolean;
}

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

export async function startApiServer(options: {
  routes: Route[];
  authorizer: AuthorizerHandler;
  /** Extra GET endpoints that are not part of the API (OpenAPI document, local tooling); given the query. */
  extras?: Record<string, (query: URLSearchParams) => unknown>;
  /** Pages served to a GET of their path, outside /v1 (the problem types' pages); undefined: not a page. */
  page?: (path: string) => APIGatewayProxyResult | undefined;
  /** Extra POST endpoints of local tooling (e.g. a reset), not part of the API either. */
  actions?: Record<string, () => unknown>;
  /** Runs around serving each API request, its authorizer included (the local stack counts them there). */
  serve?: <T>(
    request: { route: Route; pathParameters: Record<string, string> | null },
    run: () => Promise<T>,
  ) => Promise<T>;
  /** Like API Gateway's authorizer result cache (the CDK stack uses 60 s); 0 disables it. */
  authorizerCacheSeconds?: number;
  /**
   * The plans' limits, enforced per merchant after its authorizer as API Gateway's usage plans do
   * (functions/core/plans.ts); absent: no limits.
   */
  plans?: PlanTable;
  port?: number;
  host?: string;
}): Promise<ApiServer> {
  const cacheMs = (options.authorizerCacheSeconds ?? 60) * 1000;
  const decisions = new Map<string, { context: Record<string, unknown>; until: number }>();
  /** The authorizer's decision for a token, cached like the gateway caches an Allow policy. */
  async function authorize(token: string, methodArn: string): Promise<Record<string, unknown> | null> {
    const cached = decisions.get(token);
    if (cached && cached.until > Date.now()) return cached.context;
    let context: Record<string, unknown> | null = null;
    try {
      const result = await options.authorizer(
        { type: 'TOKEN', authorizationToken: token, methodArn },
        lambdaContext('api-authorizer'),
      );
      context = { principalId: result.principalId, ...result.context };
    } catch (error) {
      // As API Gateway: exactly `Unauthorized` is a 401; any other failure of the authorizer is a 500.
      if (error instanceof Error && error.message === 'Unauthorized') return null;
      throw error;
    }
    if (cacheMs > 0) {
      if (decisions.size > 10_000) decisions.clear();
      decisions.set(token, { context, until: Date.now() + cacheMs });
    }
    return context;
  }
  const compiled = options.routes.map((route) => ({ route, pattern: compile(route.path) }));
  const allowances = new Map<string, Allowance>();
  /** The 429 a merchant over its plan gets instead of its answer, or null when the request may pass. */
  function overPlan(authorizer: Record<string, unknown>, instance: string): APIGatewayProxyResult | null {
    const plans = options.plans;
    const merchantId = authorizer.principalId;
    if (!plans || typeof merchantId !== 'string') return null;
    const plan = plans[isPlanName(authorizer.plan) ? authorizer.plan : DEFAULT_PLAN];
    const admission = admit(allowances.get(merchantId), plan, Date.now());
    allowances.set(merchantId, admission.allowance);
    if (admission.allowed) return null;
    const detail =
      admission.reason === 'quota_exceeded'
        ? `Your plan allows ${plan.dailyQuota} requests a day (UTC); retry after ${admission.retryAfterSeconds} s.`
        : `Your plan allows ${plan.rateLimit} requests/s with bursts of ${plan.burstLimit}; retry after ${admission.retryAfterSeconds} s with the same Idempotency-Key.`;
    return problemResponse(problemOf(admission.reason, instance, detail), {
      'Retry-After': String(admission.retryAfterSeconds),
    });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // Our own 5xx: the handlers log theirs, this is the only trace of one the server answers itself.
      logger.error('local api failed', { method: req.method, url: req.url, error: error as Error });
      send(res, problemResponse(toProblem(error)));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestUrl(req.url);
    if (!url) {
      // Refused before its body was read: the connection cannot carry another request.
      return sendAndClose(
        req,
        res,
        problemResponse({
          ...problemOf('malformed_path'),
          detail: 'The path is not validly percent-encoded.',
        }),
      );
    }
    // Before routing, on every route (as the gateway's own limit): a larger body is never read to its end.
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body === 'aborted') return;
    if (body === 'too_large') {
      return sendAndClose(
        req,
        res,
        problemResponse({
          ...problemOf('payload_too_large'),
          detail: `Bodies are limited to ${MAX_BODY_BYTES} bytes.`,
          instance: url.pathname,
        }),
      );
    }
    const method = req.method ?? 'GET';
    const page = method === 'GET' ? options.page?.(url.pathname) : undefined;
    if (page) return send(res, page);
    const extra = method === 'GET' ? options.extras?.[url.pathname] : undefined;
    const action = method === 'POST' ? options.actions?.[url.pathname] : undefined;
    if (extra || action)
      return send(res, {
        statusCode: 200,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(extra ? extra(url.searchParams) : action?.()),
      });

    const matches = compiled.filter(({ pattern }) => pattern.regex.test(url.pathname));
    const match = matches.find(({ route }) => route.method === method);
    if (!match) {
      const problem = matches.length ? problemOf('method_not_allowed') : problemOf('route_not_found');
      return send(res, problemResponse({ ...problem, instance: url.pathname }));
    }
    const { route, pattern } = match;
    const pathParameters = pattern.params(url.pathname);
    const run = () => serveRoute(req, res, url, body, route, pathParameters);
    return options.serve ? options.serve({ route, pathParameters }, run) : run();
  }

  async function serveRoute(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    body: Buffer,
    route: Route,
    pathParameters: Record<string, string> | null,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const requestId = randomUUID();
    const headers = singleHeaders(req);

    let authorizer: Record<string, unknown> | null = null;
    if (route.authorized) {
      const token =
        Object.entries(headers).find(([name]) => name.toLowerCase() === 'authorization')?.[1] ?? '';
      authorizer = await authorize(
        token,
        `arn:aws:execute-api:local:000000000000:local/v1/${method}${url.pathname}`,
      );
      if (!authorizer) {
        return send(res, problemResponse(problemOf('unauthorized')));
      }
      const refusal = overPlan(authorizer, url.pathname);
      if (refusal) return send(res, refusal);
    }

    const event: APIGatewayProxyEvent = {
      resource: route.path,
      path: url.pathname,
      httpMethod: method,
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      queryStringParameters: url.searchParams.size ? Object.fromEntries(url.searchParams) : null,
      multiValueQueryStringParameters: null,
      pathParameters,
      stageVariables: null,
      body: body.length ? body.toString('utf8') : null,
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        authorizer,
        protocol: 'HTTP/1.1',
        httpMethod: method,
        identity: {
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        } as APIGatewayProxyEvent['requestContext']['identity'],
        path: url.pathname,
        stage: 'v1',
        requestId,
        requestTimeEpoch: Date.now(),
        resourceId: route.name,
        resourcePath: route.path,
      },
    };
    const result = await route.handler(event, lambdaContext(route.name));
    send(res, result, requestId);
  }

  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, result: APIGatewayProxyResult, requestId?: string): void {
  if (res.headersSent) return;
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(result.headers ?? {})) headers[key] = String(value);
  if (requestId) headers['X-Request-Id'] = requestId;
  res.writeHead(result.statusCode, headers);
  res.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
}

/**
 * Answers a request whose body was not read to its end, then drops the connection: otherwise Node would
 * go on reading (and discarding) whatever the client still sends.
 */
function sendAndClose(req: IncomingMessage, res: ServerResponse, result: APIGatewayProxyResult): void {
  if (res.headersSent) return;
  res.setHeader('Connection', 'close');
  res.once('finish', () => req.destroy());
  send(res, result);
}

/**
 * The request target as a URL, or null when its path cannot be decoded (`%zz`, `%E0%A4%A`): the handlers
 * get decoded path parameters, as from API Gateway, so such a path names nothing.
 */
function requestUrl(target: string | undefined): URL | null {
  try {
    // Prefixed, not resolved against a base: `//host/path` is a path here, not another host.
    const url = new URL(target?.startsWith('/') ? `http://localhost${target}` : (target ?? ''));
    decodeURIComponent(url.pathname);
    return url;
  } catch {
    return null;
  }
}

function singleHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i];
    const value = req.rawHeaders[i + 1];
    if (name !== undefined && value !== undefined) headers[name] = value;
  }
  return headers;
}

/**
 * The body, `too_large` as soon as it is known to exceed `limit` (from Content-Length, or once that many
 * bytes arrived: reading stops there), or `aborted` when the client went away first.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large' | 'aborted'> {
  if (Number(req.headers['content-length']) > limit) return Promise.resolve('too_large');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Only the first outcome counts (a promise settles once); `close` also follows a normal `end`.
    const done = (result: Buffer | 'too_large' | 'aborted') => {
      req.off('data', onData);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.pause();
      done('too_large');
    };
    const onEnd = () => done(Buffer.concat(chunks));
    const onClose = () => done('aborted');
    req.on('data', onData).on('end', onEnd).on('close', onClose).on('error', onClose);
  });
}

function compile(path: string) {
  const names: string[] = [];
  const source = path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  const regex = new RegExp(`^${source}$`);
  return {
    regex,
    params(pathname: string): Record<string, string> | null {
      const match = regex.exec(pathname);
      if (!match || names.length === 0) return null;
      // Cannot throw: requestUrl refused every path that does not decode.
      return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1] ?? '')]));
    },
  };
}
