/**
 * The refund saga's paths: the real refund ASL run by the ASL runner with the real handlers, DynamoDB
 * Local, and the KBank simulator over HTTP, each refund started through the API as a merchant would.
 * Waits and retry intervals are scaled to zero.
 */
import { randomUUID } from 'node:crypto';
import { MAGIC_CARDS } from '../../local/kbank-simulator.js';
import type { LocalStack } from '../../local/stack.js';
import { api, paymentBody, startTestStack, tokenize } from '../support/stack.js';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

/** A captured payment of 72500 on the given card. */
async function capturedPayment(pan: string): Promise<string> {
  const token = await tokenize(stack, pan);
  const created = await api(stack, 'POST', '/v1/payments', {
    body: paymentBody(token),
    idempotencyKey: randomUUID(),
  });
  expect(created.status).toBe(201);
  const execution = await stack.runner.waitForExecution(created.body.id, 20_000);
  expect(execution.status).toBe('SUCCEEDED');
  expect((await stack.repo.get(created.body.id))?.status).toBe('succeeded');
  return created.body.id;
}

async function requestRefund(paymentId: string, body: Record<string, unknown>) {
  const response = await api(stack, 'POST', `/v1/payments/${paymentId}/refunds`, {
    body,
    idempotencyKey: randomUUID(),
  });
  expect(response.status).toBe(202);
  expect(response.body).toMatchObject({ object: 'refund', status: 'pending', payment_id: paymentId });
  return response.body.id as string;
}

async function outcome(paymentId: string, refundId: string) {
  const execution = await stack.refundRunner.waitForExecution(refundId, 20_000);
  const payment = await stack.repo.get(paymentId);
  const refund = await stack.repo.getRefund(paymentId, refundId);
  const audit = (await stack.repo.listAudit(paymentId, { limit: 100 })).entries;
  const events = stack.bus.events({ paymentId }).filter((event) => event.detailType.startsWith('refund.'));
  const charge = stack.kbank.charges().find((c) => c.referenceOrder.startsWith(paymentId));
  return { execution, payment, refund, audit, events, charge };
}

describe('refund saga', () => {
  it('refunds part of a captured payment: succeeded, amount moved from reserved to refunded, event emitted', async () => {
    const paymentId = await capturedPayment(MAGIC_CARDS.visa.number);
    const refundId = await requestRefund(paymentId, { amount: 20000, reason: 'one T-shirt returned' });
    const run = await outcome(paymentId, refundId);

    expect(run.execution.status).toBe('SUCCEEDED');
    expect(run.execution.enteredStates).toEqual([
      'RefundAtKbank',
      'RefundOutcome',
      'EmitRefundSucceeded',
      'RefundGavePoints',
      'RefundSucceeded',
    ]);
    expect(run.refund).toMatchObject({
      status: 'succeeded',
      amount: 20000,
      kbankCalls: 1,
      kbankState: 'Refund Sent',
    });
    expect(run.payment).toMatchObject({ status: 'succeeded', amountRefunded: 20000, amountRefundPending: 0 });
    expect(run.audit.map((entry) => entry.type).slice(-2)).toEqual(['refund.requested', 'refund.succeeded']);
    expect(run.charge).toMatchObject({ state: 'Refund Sent', refundedAmount: 20000 });

    expect(run.events).toHaveLength(1);
    const last = run.audit.at(-1);
    expect(run.events[0]?.detail).toMatchObject({
      version: '1',
      type: 'refund.succeeded',
      sequence: last?.seq,
      event_id: `evt_${paymentId.slice(4)}_${last?.seq}`,
      payment_id: paymentId,
      refund: { id: refundId, status: 'succeeded', amount: 20000, reason: 'one T-shirt returned' },
    });
  });

  it('records a refund KBank refuses as failed and releases its reservation', async () => {
    const paymentId = await capturedPayment(MAGIC_CARDS.refundFails.number);
    const refundId = await requestRefund(paymentId, {});
    const run = await outcome(paymentId, refundId);

    expect(run.execution.status).toBe('SUCCEEDED');
    expect(run.refund).toMatchObject({ status: 'failed', amount: 72500, failure: { code: 'refund_failed' } });
    expect(run.payment).toMatchObject({ amountRefunded: 0, amountRefundPending: 0 });
    expect(run.audit.map((entry) => entry.type).slice(-2)).toEqual(['refund.requested', 'refund.failed']);
    expect(run.events.map((event) => event.detailType)).toEqual(['refund.failed']);
    expect(run.charge).toMatchObject({ state: 'Settled', refundedAmount: 0 });

    // Released: the whole amount is refundable again.
    const payment = await api(stack, 'GET', `/v1/payments/${paymentId}`);
    expect(payment.body).toMatchObject({ amount_refunded: 0, amount_refundable: 72500 });
  });

  it('resolves a refund whose answer timed out by inquiring the charge, never refunding twice', async () => {
    const paymentId = await capturedPayment(MAGIC_CARDS.refundTimeoutAfterSuccess.number);
    const refundId = await requestRefund(paymentId, { amount: 5000 });
    const run = await outcome(paymentId, refundId);

    expect(run.execution.status).toBe('SUCCEEDED');
    expect(run.execution.enteredStates).toEqual([
      'RefundAtKbank',
      'RefundOutcome',
      'WaitBeforeRefundInquiry',
      'InquireRefund',
      'InquiryOutcome',
      'EmitRefundSucceeded',
      'RefundGavePoints',
      'RefundSucceeded',
    ]);
    expect(run.refund).toMatchObject({ status: 'succeeded', kbankCalls: 1 });
    expect(run.payment).toMatchObject({ amountRefunded: 5000, amountRefundPending: 0 });
    expect(run.charge?.refundedAmount).toBe(5000);
    expect(run.audit.at(-1)).toMatchObject({ type: 'refund.succeeded', detail: { chargeRefunded: 5000 } });
  });

  it('keeps the reservation and ends RefundOutcomeUnknown when KBank cannot account for the refund', async () => {
    const paymentId = await capturedPayment(MAGIC_CARDS.refundTimeoutAfterSuccess.number);
    const refundId = await requestRefund(paymentId, { amount: 7000 });
    // Once KBank has applied the refund (its answer still held), KBank "loses" the charge: every inquiry
    // then answers 404.
    const applied = () =>
      stack.kbank.charges().some((c) => c.referenceOrder.startsWith(paymentId) && c.refundedAmount === 7000);
    const deadline = Date.now() + 5000;
    while (!applied() && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
    stack.kbank.reset();
    const run = await outcome(paymentId, refundId);

    expect(run.execution).toMatchObject({ status: 'FAILED', error: 'RefundOutcomeUnknown' });
    expect(run.execution.enteredStates).toContain('RefundUnresolved');
    expect(run.refund?.status).toBe('unknown');
    expect(run.payment).toMatchObject({ amountRefunded: 0, amountRefundPending: 7000 });
    expect(run.audit.at(-1)).toMatchObject({ type: 'refund.outcome_unknown', detail: { refundId } });
    expect(run.events).toEqual([]);
    const payment = await api(stack, 'GET', `/v1/payments/${paymentId}`);
    expect(payment.body).toMatchObject({ amount_refunded: 0, amount_refundable: 72500 - 7000 });
  });
});
