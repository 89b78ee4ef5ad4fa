/**
 * The Payments API's TypeScript client: openapi-fetch over the types openapi-typescript makes from
 * docs/openapi.json (schema.ts), with the merchant's key sent on every request, a fresh Idempotency-Key a
 * call away, and answers turned into typed values (the resource, or the RFC 9457 problem).
 *
 *   const payments = createPaymentsClient({ baseUrl: 'http://127.0.0.1:3000', apiKey: 'sk_test_…' });
 *   const created = answer(await payments.POST('/v1/payments', {
 *     params: { header: { 'Idempotency-Key': idempotencyKey() } },
 *     body: { amount: 72500, currency: 'THB', order, customer, payment_method: { type: 'card', token } },
 *   }));
 *   if (created.ok) console.log(created.data.status, created.replayed);
 *   else console.log(created.problem.code, created.problem.errors);
 */
import { randomUUID } from 'node:crypto';
import createClient, { type Client } from 'openapi-fetch';
import type { components, operations, paths } from './schema.js';

export type { components, operations, paths };

type Schemas = components['schemas'];
export type Payment = Schemas['Payment'];
export type PaymentList = Schemas['PaymentList'];
export type PaymentEvent = Schemas['PaymentEvent'];
export type PaymentQr = Schemas['PaymentQr'];
export type Refund = Schemas['Refund'];
export type Problem = Schemas['Problem'];
export type CreatePaymentRequest = Schemas['CreatePaymentRequest'];
export type PaymentStatus = Payment['status'];
export type PaymentsClient = Client<paths>;

export interface PaymentsClientOptions {
  /** The API's base URL, without /v1 (every path starts with it): `http://127.0.0.1:3000` locally. */
  baseUrl: string;
  /** The merchant's secret key `sk_…`. Keep it on your server: never send it to a browser. */
  apiKey: string;
  /** Another fetch (tests, proxies). Default: the global one. */
  fetch?: (request: Request) => Promise<Response>;
}

export function createPaymentsClient(options: PaymentsClientOptions): PaymentsClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  client.use({
    onRequest({ request }) {
      request.headers.set('Authorization', `Bearer ${options.apiKey}`);
      return request;
    },
  });
  return client;
}

/** A new Idempotency-Key. Keep it with the request: a retry of the same request sends the same key. */
export const idempotencyKey = (): string => randomUUID();

/** An answer as a value: the resource (and whether it is a replay of an earlier request), or the problem. */
export type Answer<T> =
  | { ok: true; status: number; data: T; replayed: boolean }
  | { ok: false; status: number; problem: Problem };

/** What openapi-fetch returns: the data of a success or the error of a refusal, and the response. */
type FetchResult = { data?: unknown; error?: unknown; response: Response };
/** The resource type of a FetchResult (its error branch has no data). */
type DataOf<R extends FetchResult> = NonNullable<R['data']>;

/** Turns what openapi-fetch returned into an Answer. */
export function answer<R extends FetchResult>(result: R): Answer<DataOf<R>> {
  const { response } = result;
  if (response.ok) {
    return {
      ok: true,
      status: response.status,
      data: result.data as DataOf<R>,
      replayed: response.headers.get('Idempotent-Replayed') === 'true',
    };
  }
  return { ok: false, status: response.status, problem: asProblem(result.error, response) };
}

/** Thrown by `must`: the problem the API answered with, typed. */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(`${status} ${problem.code}${problem.detail ? `: ${problem.detail}` : ''}`);
  }
  get code(): string {
    return this.problem.code;
  }
}

/** The resource, or a ProblemError: for code that treats every refusal as an exception. */
export function must<R extends FetchResult>(result: R): DataOf<R> {
  const value = answer(result);
  if (!value.ok) throw new ProblemError(value.status, value.problem);
  return value.data;
}

/** Every error answer is a problem; a proxy's HTML error page becomes one too, so callers see one shape. */
function asProblem(error: unknown, response: Response): Problem {
  if (error && typeof error === 'object' && typeof (error as Problem).code === 'string')
    return error as Problem;
  return {
    type: 'about:blank',
    title: response.statusText || 'Error',
    status: response.status,
    code: 'unexpected_response',
    detail: typeof error === 'string' ? error.slice(0, 200) : 'The answer was not a problem document.',
  };
}
