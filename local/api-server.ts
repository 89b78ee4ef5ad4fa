/**
 * The local API Gateway: turns HTTP requests into REST API proxy events for the same handlers, runs the
 * same TOKEN authorizer first on protected routes, and answers like the gateway does.
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
import { problemResponse, toProblem } from '../functions/handlers/http.js';
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

/** API Gateway's own payload limit. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

export async function startApiServer(options: {
  routes: Route[];
  authorizer: AuthorizerHandler;
  /** Extra GET endpoints that are not part of the API (OpenAPI document, local tooling). */
  extras?: Record<string, () => unknown>;
  /** Like API Gateway's authorizer result cache (the CDK stack uses 60 s); 0 disables it. */
  authorizerCacheSeconds?: number;
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
    } catch {
      return null;
    }
    if (cacheMs > 0) {
      if (decisions.size > 10_000) decisions.clear();
      decisions.set(token, { context, until: Date.now() + cacheMs });
    }
    return context;
  }
  const compiled = options.routes.map((route) => ({ route, pattern: compile(route.path) }));

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, problemResponse(toProblem(error, req.url))));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const extra = method === 'GET' ? options.extras?.[url.pathname] : undefined;
    if (extra)
      return send(res, {
        statusCode: 200,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(extra()),
      });

    const matches = compiled.filter(({ pattern }) => pattern.regex.test(url.pathname));
    const match = matches.find(({ route }) => route.method === method);
    if (!match) {
      const problem = matches.length
        ? {
            type: '/problems/method_not_allowed',
            title: 'Method Not Allowed',
            status: 405,
            code: 'method_not_allowed',
          }
        : { type: '/problems/route_not_found', title: 'Not Found', status: 404, code: 'route_not_found' };
      return send(res, problemResponse({ ...problem, instance: url.pathname }));
    }
    const body = await readBody(req);
    if (body === null) {
      return send(
        res,
        problemResponse({
          type: '/problems/payload_too_large',
          title: 'Content Too Large',
          status: 413,
          code: 'payload_too_large',
        }),
      );
    }
    const { route, pattern } = match;
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
        return send(
          res,
          problemResponse({
            type: '/problems/unauthorized',
            title: 'Unauthorized',
            status: 401,
            code: 'unauthorized',
          }),
        );
      }
    }

    const event: APIGatewayProxyEvent = {
      resource: route.path,
      path: url.pathname,
      httpMethod: method,
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      queryStringParameters: url.searchParams.size ? Object.fromEntries(url.searchParams) : null,
      multiValueQueryStringParameters: null,
      pathParameters: pattern.params(url.pathname),
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

function singleHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i];
    const value = req.rawHeaders[i + 1];
    if (name !== undefined && value !== undefined) headers[name] = value;
  }
  return headers;
}

/** The body, or null when it exceeds the gateway's limit. */
async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
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
      return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1] ?? '')]));
    },
  };
}
