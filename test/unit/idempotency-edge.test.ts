/**
 * The Idempotency-Key at the API edge (functions/handlers/idempotency.ts): what it stores is the answer
 * as sent, refusals a retry cannot change included; anything else releases the key.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ConflictError, CostServiceUnavailable, StaleWriteError } from '../../functions/core/errors.js';
import { json } from '../../functions/handlers/http.js';
import { keyed, replay } from '../../functions/handlers/idempotency.js';
import { apiEvent } from '../support/api-calls.js';
import { MemoryIdempotency } from '../support/fakes.js';

const event = apiEvent({ merchantId: 'm1', path: '/v1/payments/pay_1/capture', idempotencyKey: 'k' });
const request = (key: string) => ({
  merchantId: 'm1',
  operation: 'POST /v1/payments/{id}/capture',
  key,
  request: { paymentId: 'pay_1' },
  resourceId: 'pay_1',
});

function setup() {
  const idempotency = new MemoryIdempotency();
  const deps = { idempotency, clock: { now: () => new Date('2026-11-22T00:00:00Z') } };
  let runs = 0;
  const run = (answer: () => APIGatewayProxyResult) => async () => {
    runs++;
    return answer();
  };
  return { idempotency, deps, run, runs: () => runs };
}

describe('keyed', () => {
  it('stores the answer as sent and replays it byte for byte, without running again', async () => {
    const { deps, run, runs } = setup();
    const answer = json(202, { id: 'pay_1', status: 'processing' }, { Location: '/v1/payments/pay_1' });
    const first = await keyed(
      deps,
      event,
      request('k1'),
      run(() => answer),
    );
    const again = await keyed(
      deps,
      event,
      request('k1'),
      run(() => json(500, {})),
    );
    expect(first).toBe(answer);
    expect(again).toEqual({
      statusCode: 202,
      headers: { ...answer.headers, 'Idempotent-Replayed': 'true' },
      body: answer.body,
    });
    expect(runs()).toBe(1);
  });

  it('stores a refusal a retry cannot change, as the problem it answered', async () => {
    const { deps, idempotency } = setup();
    const refused = await keyed(deps, event, request('k2'), async () => {
      throw new ConflictError('Payment pay_1 is succeeded; it cannot be captured.', 'payment_not_capturable');
    });
    expect(refused.statusCode).toBe(409);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'payment_not_capturable', instance: event.path });
    const again = await keyed(deps, event, request('k2'), async () => json(202, {}));
    expect(again).toMatchObject({ statusCode: 409, body: refused.body });
    expect(again.headers).toMatchObject({ 'Idempotent-Replayed': 'true' });
    expect([...idempotency.keys.values()][0]?.response?.body).toBe(refused.body);
  });

  it.each([
    ['a lost race', new StaleWriteError('changed since version 7')],
    ['a dependency down', new CostServiceUnavailable('HTTP 503 from 10.0.0.1')],
    ['a bug', new Error('boom')],
  ])('releases the key after %s: the same key runs again at once', async (_name, error) => {
    const { deps, idempotency } = setup();
    await expect(
      keyed(deps, event, request('k3'), async () => {
        throw error;
      }),
    ).rejects.toBe(error);
    expect([...idempotency.keys.values()][0]).toMatchObject({ released: true });
    expect(await keyed(deps, event, request('k3'), async () => json(202, { ok: true }))).toMatchObject({
      statusCode: 202,
    });
  });
});

describe('replay', () => {
  it('answers a key stored before answers were kept as sent (its body an object)', () => {
    expect(replay({ statusCode: 201, body: { id: 'pay_1' } })).toEqual({
      statusCode: 201,
      headers: { 'Content-Type': 'application/json', 'Idempotent-Replayed': 'true' },
      body: '{"id":"pay_1"}',
    });
    expect(replay({ statusCode: 409, body: { code: 'payment_not_capturable' } }).headers).toMatchObject({
      'Content-Type': 'application/problem+json',
    });
  });
});
