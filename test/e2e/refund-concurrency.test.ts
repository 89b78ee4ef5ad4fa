/**
 * Parallel refunds of one payment through the local API: 50 refunds of 300 on a 10000 payment. The database
 * refuses every reservation that no longer fits, so the accepted ones never sum past the captured amount,
 * every other request gets a typed refusal, and once the sagas are done our records agree with KBank's.
 */
import { randomUUID } from 'node:crypto';
import { MAGIC_CARDS } from '../../local/kbank-simulator.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { api, paymentBody, tokenize } from '../support/stack.js';

let stack: LocalStack;
beforeAll(async () => {
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  if (!endpoint) throw new Error('DYNAMODB_ENDPOINT is not set: run through jest');
  stack = await startLocalStack({
    dynamodbEndpoint: endpoint,
    tableName: `payments-${randomUUID().slice(0, 8)}`,
    // KBank's answers are not what this test is about: a generous timeout keeps a busy machine from
    // turning them into lost answers, and a scaled-down (not zero) schedule lets any that happen resolve.
    kbankTimeoutMs: 5000,
    waitScale: 0.02,
    costTimeoutMs: 3000,
  });
});
afterAll(async () => {
  await stack?.close();
});

describe('parallel refunds of one payment', () => {
  it('never refunds more than captured under 50 parallel refunds, and agrees with KBank afterwards', async () => {
    const token = await tokenize(stack, MAGIC_CARDS.mastercard.number);
    const created = await api(stack, 'POST', '/v1/payments', {
      body: paymentBody(token, {
        amount: 10000,
        order: {
          id: `order-${randomUUID().slice(0, 8)}`,
          lines: [{ sku: 'SKU-STICKER', quantity: 4, unit_amount: 2500 }],
        },
      }),
      idempotencyKey: randomUUID(),
    });
    const paymentId: string = created.body.id;
    await stack.runner.waitForExecution(paymentId, 20_000);
    const paid = await api(stack, 'GET', `/v1/payments/${paymentId}`);
    expect(paid.body).toMatchObject({
      status: 'succeeded',
      amount_captured: 10000,
      amount_refundable: 10000,
    });

    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        api(stack, 'POST', `/v1/payments/${paymentId}/refunds`, {
          body: { amount: 300 },
          idempotencyKey: randomUUID(),
        }),
      ),
    );
    const accepted = answers.filter((answer) => answer.status === 202);
    const refused = answers.filter((answer) => answer.status !== 202);
    expect(accepted.length * 300).toBeLessThanOrEqual(10000);
    // Nothing fails at KBank here, so every refund that fitted was accepted: 33 × 300 = 9900.
    expect(accepted).toHaveLength(33);
    for (const answer of refused) {
      expect(answer.status).toBe(422);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      expect(answer.body).toMatchObject({ code: 'refund_exceeds_refundable', status: 422 });
      expect(answer.body.detail).toMatch(/refundable amount/);
    }

    const executions = await Promise.all(
      accepted.map((answer) => stack.refundRunner.waitForExecution(answer.body.id, 60_000)),
    );
    expect(executions.map((execution) => execution.status)).toEqual(executions.map(() => 'SUCCEEDED'));

    const refunds = (await api(stack, 'GET', `/v1/payments/${paymentId}/refunds`)).body.data as {
      status: string;
      amount: number;
    }[];
    const succeeded = refunds.filter((r) => r.status === 'succeeded').reduce((sum, r) => sum + r.amount, 0);
    const charge = stack.kbank.charges().find((c) => c.referenceOrder.startsWith(paymentId));
    const stored = await stack.repo.get(paymentId);
    expect(refunds).toHaveLength(33);
    expect(succeeded).toBe(9900);
    expect(charge?.refundedAmount).toBe(succeeded);
    expect(stored).toMatchObject({ amountRefunded: succeeded, amountRefundPending: 0 });
    expect((await api(stack, 'GET', `/v1/payments/${paymentId}`)).body.amount_refundable).toBe(100);

    const events = stack.bus.events({ paymentId, detailType: 'refund.succeeded' });
    expect(events).toHaveLength(33);
    expect(new Set(events.map((event) => event.detail.event_id)).size).toBe(33);
    expect(new Set(events.map((event) => event.detail.sequence)).size).toBe(33);
  });
});
