/** Test helpers around the real local stack: one per test file, on the shared DynamoDB Local, no sleeping. */
import { randomUUID } from 'node:crypto';
import { tokenizeTestCard } from '../../local/kbank-simulator.js';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/stack.js';

export async function startTestStack(overrides: LocalStackOptions = {}): Promise<LocalStack> {
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  if (!endpoint)
    throw new Error('DYNAMODB_ENDPOINT is not set: run through jest (test/support/global-setup.ts)');
  return startLocalStack({
    dynamodbEndpoint: endpoint,
    tableName: `payments-${randomUUID().slice(0, 8)}`,
    waitScale: 0,
    kbankTimeoutMs: 300,
    kbankHangMs: 1500,
    costTimeoutMs: 1000,
    ...overrides,
  });
}

/** A payment body for the default catalog: two T-shirts and a sticker = 72500 satang. */
export function paymentBody(token: string, overrides: Record<string, unknown> = {}) {
  return {
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
    ...overrides,
  };
}

export function tokenize(stack: LocalStack, pan: string): Promise<string> {
  return tokenizeTestCard(stack.kbankUrl, pan, { publicKey: stack.kbankPublicKey });
}

export async function api(
  stack: LocalStack,
  method: string,
  path: string,
  options: {
    body?: unknown;
    rawBody?: string;
    key?: string | null;
    idempotencyKey?: string;
    headers?: Record<string, string>;
  } = {},
) {
  const headers: Record<string, string> = { ...options.headers };
  const key = options.key === undefined ? stack.merchant.apiKey : options.key;
  if (key) headers.Authorization = `Bearer ${key}`;
  if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;
  if (options.body !== undefined || options.rawBody !== undefined)
    headers['Content-Type'] ??= 'application/json';
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers,
    ...(options.rawBody !== undefined
      ? { body: options.rawBody }
      : options.body !== undefined
        ? { body: JSON.stringify(options.body) }
        : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as any) : null,
    /** The body as sent. */
    text,
  };
}

/** A new customer of the stack's merchant (the demo program: 1 point = 1.00 THB) granted `points`. */
export async function customerWith(stack: LocalStack, points: number): Promise<string> {
  const customerId = `cus-${randomUUID().slice(0, 12)}`;
  const granted = await api(stack, 'POST', `/v1/customers/${customerId}/points/grants`, {
    body: { points, reason: 'test grant' },
    idempotencyKey: randomUUID(),
  });
  if (granted.status !== 201) throw new Error(`granting ${points} points answered ${granted.status}`);
  return customerId;
}
