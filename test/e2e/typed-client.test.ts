/**
 * The typed client (clients/typescript) against the local API over HTTP: a card payment, its refund, and the
 * answers a merchant's code branches on (replays under an Idempotency-Key, problems), all typed.
 */
import { randomUUID } from 'node:crypto';
import {
  answer,
  type CreatePaymentRequest,
  createPaymentsClient,
  idempotencyKey,
  must,
  type PaymentStatus,
  type PaymentsClient,
  ProblemError,
} from '../../clients/typescript/index.js';
import { MAGIC_CARDS } from '../../local/kbank-simulator.js';
import type { LocalStack } from '../../local/stack.js';
import { startTestStack, tokenize } from '../support/stack.js';

let stack: LocalStack;
let payments: PaymentsClient;
beforeAll(async () => {
  stack = await startTestStack();
  payments = createPaymentsClient({ baseUrl: stack.apiUrl, apiKey: stack.merchant.apiKey });
});
afterAll(async () => {
  await stack?.close();
});

const order = () => ({
  id: `order-${randomUUID().slice(0, 8)}`,
  lines: [
    { sku: 'SKU-TSHIRT', quantity: 2, unit_amount: 35000 },
    { sku: 'SKU-STICKER', quantity: 1, unit_amount: 2500 },
  ],
});

async function settled(id: string, wanted: PaymentStatus[]) {
  for (let i = 0; i < 100; i++) {
    const payment = must(await payments.GET('/v1/payments/{id}', { params: { path: { id } } }));
    if (wanted.includes(payment.status)) return payment;
    await stack.runner.waitForExecution(id, 5000).catch(() => undefined);
  }
  throw new Error(`payment ${id} never reached ${wanted.join('/')}`);
}

describe('the typed client against the local stack', () => {
  it('takes a card payment to succeeded, replays it under the same key, and refunds part of it', async () => {
    const token = await tokenize(stack, MAGIC_CARDS.visa.number);
    const key = idempotencyKey();
    const body: CreatePaymentRequest = {
      amount: 72500,
      currency: 'THB',
      order: order(),
      customer: { id: 'cus-42' },
      payment_method: { type: 'card', token },
    };
    const created = answer(
      await payments.POST('/v1/payments', { params: { header: { 'Idempotency-Key': key } }, body }),
    );
    if (!created.ok) throw new Error(`refused: ${created.problem.code}`);
    expect(created).toMatchObject({
      status: 201,
      replayed: false,
      data: { status: 'processing', amount: 72500 },
    });

    const again = answer(
      await payments.POST('/v1/payments', { params: { header: { 'Idempotency-Key': key } }, body }),
    );
    expect(again).toMatchObject({ ok: true, status: 201, replayed: true, data: { id: created.data.id } });

    const paid = await settled(created.data.id, ['succeeded', 'failed']);
    expect(paid).toMatchObject({ status: 'succeeded', amount_captured: 72500, amount_refundable: 72500 });

    const refund = must(
      await payments.POST('/v1/payments/{id}/refunds', {
        params: { path: { id: paid.id }, header: { 'Idempotency-Key': idempotencyKey() } },
        body: { amount: 35000, reason: 'customer returned one T-shirt' },
      }),
    );
    expect(refund).toMatchObject({ object: 'refund', payment_id: paid.id, amount: 35000, status: 'pending' });
    await stack.runner.waitForExecution(refund.id, 20_000).catch(() => undefined);

    let refunds = must(
      await payments.GET('/v1/payments/{id}/refunds', { params: { path: { id: paid.id } } }),
    );
    for (let i = 0; i < 50 && refunds.data[0]?.status === 'pending'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      refunds = must(await payments.GET('/v1/payments/{id}/refunds', { params: { path: { id: paid.id } } }));
    }
    expect(refunds.data.map((r) => [r.id, r.status, r.amount])).toEqual([[refund.id, 'succeeded', 35000]]);
    const after = must(await payments.GET('/v1/payments/{id}', { params: { path: { id: paid.id } } }));
    expect(after).toMatchObject({ amount_refunded: 35000, amount_refundable: 37500 });

    const tooMuch = answer(
      await payments.POST('/v1/payments/{id}/refunds', {
        params: { path: { id: paid.id }, header: { 'Idempotency-Key': idempotencyKey() } },
        body: { amount: 50000 },
      }),
    );
    expect(tooMuch).toMatchObject({ ok: false, status: 422, problem: { code: 'refund_exceeds_refundable' } });
  });

  it('surfaces refusals as typed problems: invalid body, unknown payment, wrong key', async () => {
    const invalid = answer(
      await payments.POST('/v1/payments', {
        params: { header: { 'Idempotency-Key': idempotencyKey() } },
        body: {
          amount: 100,
          currency: 'THB',
          order: order(),
          customer: { id: 'cus-42' },
          payment_method: { type: 'qr_promptpay' },
        },
      }),
    );
    if (invalid.ok) throw new Error('an amount that is not the lines’ total was accepted');
    expect(invalid.problem).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(invalid.problem.errors?.map((e) => e.field)).toContain('amount');

    await expect(
      payments
        .GET('/v1/payments/{id}', { params: { path: { id: 'pay_01JD3Q4V7M0000000000000000' } } })
        .then(must),
    ).rejects.toMatchObject({ name: 'ProblemError', status: 404, code: 'resource_not_found' });

    const stranger = createPaymentsClient({ baseUrl: stack.apiUrl, apiKey: 'sk_test_not_a_key' });
    const denied = await stranger
      .GET('/v1/payments', {})
      .then(must)
      .catch((error: unknown) => error);
    expect(denied).toBeInstanceOf(ProblemError);
    expect((denied as ProblemError).problem).toMatchObject({ status: 401, code: 'unauthorized' });
  });
});
