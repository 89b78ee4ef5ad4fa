/**
 * Refunds as a merchant's developer sees them: the local API over HTTP, with the real handlers, both sagas,
 * DynamoDB Local and the KBank simulator behind it. Parallel refunds: refund-concurrency.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { hashApiKey } from '../../functions/core/api-keys.js';
import { MAGIC_CARDS } from '../../local/kbank-simulator.js';
import type { LocalStack } from '../../local/stack.js';
import { randomApiKey } from '../../local/stack.js';
import { api, paymentBody, startTestStack, tokenize } from '../support/stack.js';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

/** A payment on a card, run to the end of its saga. Default: 72500 captured. */
async function payment(pan: string = MAGIC_CARDS.visa.number, overrides: Record<string, unknown> = {}) {
  const token = await tokenize(stack, pan);
  const created = await api(stack, 'POST', '/v1/payments', {
    body: paymentBody(token, overrides),
    idempotencyKey: randomUUID(),
  });
  expect(created.status).toBe(201);
  await stack.runner.waitForExecution(created.body.id, 20_000);
  return (await api(stack, 'GET', `/v1/payments/${created.body.id}`)).body;
}

function refund(paymentId: string, body?: unknown, idempotencyKey: string = randomUUID()) {
  return api(stack, 'POST', `/v1/payments/${paymentId}/refunds`, {
    ...(body === undefined ? {} : { body }),
    idempotencyKey,
  });
}

async function settled(refundId: string) {
  const execution = await stack.refundRunner.waitForExecution(refundId, 20_000);
  expect(execution.status).toBe('SUCCEEDED');
}

describe('refunds through the local API', () => {
  it('takes several partial refunds, then the remainder, and nothing more', async () => {
    const paid = await payment();
    expect(paid).toMatchObject({ status: 'succeeded', amount_refunded: 0, amount_refundable: 72500 });

    const first = await refund(paid.id, { amount: 10000, reason: 'a sticker was missing' });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({
      object: 'refund',
      payment_id: paid.id,
      amount: 10000,
      currency: 'THB',
      status: 'pending',
      reason: 'a sticker was missing',
      failure: null,
    });
    expect(first.body.id).toMatch(/^re_[0-9A-HJKMNP-TV-Z]{26}$/);
    await settled(first.body.id);
    const second = await refund(paid.id, { amount: 20000 });
    expect(second.status).toBe(202);
    await settled(second.body.id);

    // No body at all: everything still refundable.
    const rest = await refund(paid.id);
    expect(rest.status).toBe(202);
    expect(rest.body).toMatchObject({ amount: 42500, reason: 'requested_by_customer' });
    await settled(rest.body.id);

    const after = await api(stack, 'GET', `/v1/payments/${paid.id}`);
    expect(after.body).toMatchObject({
      status: 'succeeded',
      amount_captured: 72500,
      amount_refunded: 72500,
      amount_refundable: 0,
    });
    expect(after.body.links.refunds).toBe(`/v1/payments/${paid.id}/refunds`);

    const list = await api(stack, 'GET', `/v1/payments/${paid.id}/refunds`);
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ object: 'list', has_more: false, next_cursor: null });
    expect(list.body.data.map((r: { id: string }) => r.id)).toEqual([
      first.body.id,
      second.body.id,
      rest.body.id,
    ]);
    expect(list.body.data.map((r: { status: string }) => r.status)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
    ]);

    const page = await api(stack, 'GET', `/v1/payments/${paid.id}/refunds?limit=2`);
    expect(page.body).toMatchObject({ has_more: true });
    const next = await api(stack, 'GET', `/v1/payments/${paid.id}/refunds?cursor=${page.body.next_cursor}`);
    expect(next.body.data.map((r: { id: string }) => r.id)).toEqual([rest.body.id]);

    const more = await refund(paid.id, { amount: 1 });
    expect(more.status).toBe(422);
    expect(more.headers.get('content-type')).toContain('application/problem+json');
    expect(more.body).toMatchObject({ code: 'refund_exceeds_refundable', status: 422 });
    expect(more.body.detail).toContain('refundable amount: 0');

    const charge = stack.kbank.charges().find((c) => c.referenceOrder.startsWith(paid.id));
    expect(charge).toMatchObject({ refundedAmount: 72500, state: 'Refund Sent' });
    const trail = await api(stack, 'GET', `/v1/payments/${paid.id}/events`);
    expect(trail.body.data.map((e: { type: string }) => e.type).slice(-6)).toEqual([
      'refund.requested',
      'refund.succeeded',
      'refund.requested',
      'refund.succeeded',
      'refund.requested',
      'refund.succeeded',
    ]);
  });

  it('refuses what cannot be refunded with a typed problem, writing nothing', async () => {
    const paid = await payment();
    const auditBefore = (await api(stack, 'GET', `/v1/payments/${paid.id}/events`)).body.data.length;

    const over = await refund(paid.id, { amount: 72501 });
    expect(over.status).toBe(422);
    expect(over.body).toMatchObject({
      code: 'refund_exceeds_refundable',
      type: '/problems/refund_exceeds_refundable',
    });
    expect(over.body.detail).toContain('72500');
    for (const amount of [0, -5, 12.5, '100']) {
      const invalid = await refund(paid.id, { amount });
      expect(invalid.status).toBe(400);
      expect(invalid.body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'amount' }] });
    }
    expect((await refund(paid.id, { amount: 100, currency: 'THB' })).status).toBe(400);
    const noKey = await api(stack, 'POST', `/v1/payments/${paid.id}/refunds`, { body: { amount: 100 } });
    expect(noKey.status).toBe(400);

    expect((await api(stack, 'GET', `/v1/payments/${paid.id}/refunds`)).body.data).toEqual([]);
    expect((await api(stack, 'GET', `/v1/payments/${paid.id}/events`)).body.data).toHaveLength(auditBefore);
    expect((await api(stack, 'GET', `/v1/payments/${paid.id}`)).body.amount_refundable).toBe(72500);

    const declined = await payment(MAGIC_CARDS.declined.number);
    expect(declined.status).toBe('failed');
    const notRefundable = await refund(declined.id, { amount: 100 });
    expect(notRefundable.status).toBe(409);
    expect(notRefundable.body.code).toBe('payment_not_refundable');

    const otherKey = randomApiKey();
    await stack.repo.putApiKey(hashApiKey(otherKey), { id: 'merchant_other_refunds', name: 'Other' });
    const foreign = await api(stack, 'POST', `/v1/payments/${paid.id}/refunds`, {
      body: { amount: 100 },
      idempotencyKey: randomUUID(),
      key: otherKey,
    });
    expect(foreign.status).toBe(404);
    expect(foreign.body.code).toBe('resource_not_found');
    expect((await api(stack, 'GET', `/v1/payments/${paid.id}/refunds`, { key: otherKey })).status).toBe(404);
    expect((await refund('pay_01JD3Q4V7M0000000000000000', { amount: 100 })).status).toBe(404);
  });

  it('replays a refund for the same Idempotency-Key and body, refusing the key with another body', async () => {
    const paid = await payment();
    const key = randomUUID();
    const first = await refund(paid.id, { amount: 3000 }, key);
    expect(first.status).toBe(202);
    const again = await refund(paid.id, { amount: 3000 }, key);
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);

    const reused = await refund(paid.id, { amount: 4000 }, key);
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('idempotency_key_reused');

    await settled(first.body.id);
    const list = await api(stack, 'GET', `/v1/payments/${paid.id}/refunds`);
    expect(list.body.data).toHaveLength(1);
    expect((await api(stack, 'GET', `/v1/payments/${paid.id}`)).body.amount_refunded).toBe(3000);
    expect(stack.kbank.charges().find((c) => c.referenceOrder.startsWith(paid.id))?.refundedAmount).toBe(
      3000,
    );

    // A refusal is stored under its key too: the same request gets the same answer.
    const refusalKey = randomUUID();
    const refused = await refund(paid.id, { amount: 999_999 }, refusalKey);
    expect(refused.status).toBe(422);
    const refusedAgain = await refund(paid.id, { amount: 999_999 }, refusalKey);
    expect(refusedAgain.status).toBe(422);
    expect(refusedAgain.headers.get('idempotent-replayed')).toBe('true');
    expect(refusedAgain.body).toEqual(refused.body);
  });
});
