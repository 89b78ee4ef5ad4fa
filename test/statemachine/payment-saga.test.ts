/**
 * The payment saga's paths: the real ASL file run by the ASL runner with the real handlers, DynamoDB
 * Local, and the KBank and cost simulators over HTTP. Waits and retry intervals are scaled to zero.
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

async function pay(pan: string, overrides: Record<string, unknown> = {}) {
  const token = await tokenize(stack, pan);
  const created = await api(stack, 'POST', '/v1/payments', {
    body: paymentBody(token, overrides),
    idempotencyKey: randomUUID(),
  });
  expect(created.status).toBe(201);
  const id: string = created.body.id;
  const execution = await stack.runner.waitForExecution(id, 20_000);
  if (process.env.DEBUG_SAGA)
    console.log(JSON.stringify({ ...execution, input: undefined, output: undefined }));
  const payment = await stack.repo.get(id);
  const audit = (await stack.repo.listAudit(id, { limit: 100 })).entries.map((entry) => entry.type);
  const events = stack.bus.events({ paymentId: id }).map((event) => event.detailType);
  const charges = stack.kbank.charges().filter((charge) => charge.referenceOrder.startsWith(id));
  return { id, execution, payment, audit, events, charges };
}

describe('payment saga', () => {
  it('approves and captures a good card: succeeded, with every step audited and events published', async () => {
    const run = await pay(MAGIC_CARDS.visa.number);
    expect(run.execution.status).toBe('SUCCEEDED');
    expect(run.payment).toMatchObject({
      status: 'succeeded',
      amountAuthorized: 72500,
      amountCaptured: 72500,
    });
    expect(run.payment?.paymentMethod).toMatchObject({
      card: { masked: expect.stringMatching(/^411111x+1111$/) },
    });
    expect(run.audit).toEqual([
      'payment.created',
      'cost.verified',
      'authorization.requested',
      'payment.authorized',
      'payment.captured',
    ]);
    expect(run.events).toEqual(['payment.created', 'payment.authorized', 'payment.captured']);
    expect(run.charges).toHaveLength(1);
    expect(run.charges[0]).toMatchObject({ state: 'Settled', settledAmount: 72500 });
  });

  it('fails a declined card without capturing, keeping the decline reason', async () => {
    const run = await pay(MAGIC_CARDS.insufficientFunds.number);
    expect(run.execution.status).toBe('SUCCEEDED');
    expect(run.payment).toMatchObject({ status: 'failed', failure: { code: 'insufficient_funds' } });
    expect(run.events).toEqual(['payment.created', 'payment.failed']);
    expect(run.charges[0]?.state).toBe('Declined');
  });

  it('rejects an order the cost service prices differently, without calling KBank', async () => {
    const run = await pay(MAGIC_CARDS.visa.number, {
      amount: 1000,
      order: { id: 'order-cheap', lines: [{ sku: 'SKU-TSHIRT', quantity: 1, unit_amount: 1000 }] },
    });
    expect(run.payment).toMatchObject({ status: 'rejected', failure: { code: 'cost_mismatch' } });
    expect(run.audit).toEqual(['payment.created', 'payment.rejected']);
    expect(run.events).toEqual(['payment.created', 'payment.rejected']);
    expect(run.charges).toHaveLength(0);
  });

  it('fails the payment when the cost service stays unavailable, without calling KBank', async () => {
    const run = await pay(MAGIC_CARDS.visa.number, {
      amount: 10000,
      order: { id: 'order-503', lines: [{ sku: 'SKU-FAIL-503', quantity: 1, unit_amount: 10000 }] },
    });
    expect(run.payment).toMatchObject({ status: 'failed', failure: { code: 'cost_service_unavailable' } });
    expect(run.charges).toHaveLength(0);
  });

  it('inquires after a KBank 5xx, finds no charge, re-sends the same reference and succeeds', async () => {
    const run = await pay(MAGIC_CARDS.unavailableOnce.number);
    expect(run.payment?.status).toBe('succeeded');
    expect(run.audit).toEqual([
      'payment.created',
      'cost.verified',
      'authorization.requested',
      'authorization.outcome_unknown',
      'authorization.not_found',
      'authorization.resent',
      'payment.authorized',
      'payment.captured',
    ]);
    expect(run.charges).toHaveLength(1);
    expect(run.charges[0]?.referenceOrder).toBe(`${run.id}-1`);
  });

  it('takes a charge that lands after the inquiry found nothing, never failing a payment KBank holds money for', async () => {
    const run = await pay(MAGIC_CARDS.landsLate.number);
    expect(run.payment?.status).toBe('succeeded');
    expect(run.audit).toEqual([
      'payment.created',
      'cost.verified',
      'authorization.requested',
      'authorization.outcome_unknown',
      'authorization.not_found',
      'authorization.resent',
      'authorization.outcome_unknown',
      'payment.authorized',
      'payment.captured',
    ]);
    expect(run.charges).toHaveLength(1);
    expect(run.charges[0]).toMatchObject({ referenceOrder: `${run.id}-1`, state: 'Settled' });
  });

  it('resolves a timeout after success by inquiry, never charging twice', async () => {
    const run = await pay(MAGIC_CARDS.timeoutAfterSuccess.number);
    expect(run.payment?.status).toBe('succeeded');
    expect(run.audit).toContain('authorization.outcome_unknown');
    expect(run.audit).not.toContain('authorization.resent');
    expect(run.charges).toHaveLength(1);
    expect(run.charges[0]?.state).toBe('Settled');
  });

  it('voids the authorization when capture fails, ending canceled with payment.voided', async () => {
    const run = await pay(MAGIC_CARDS.settleFails.number);
    expect(run.execution.status).toBe('SUCCEEDED');
    expect(run.payment).toMatchObject({ status: 'canceled', cancellationReason: 'capture_failed' });
    expect(run.audit.slice(-2)).toEqual(['payment.authorized', 'payment.voided']);
    expect(run.events).toEqual(['payment.created', 'payment.authorized', 'payment.voided']);
    expect(run.charges[0]?.state).toBe('Voided');
  });

  it('emits events with an id and a sequence consumers can order on', async () => {
    const run = await pay(MAGIC_CARDS.mastercard.number);
    const details = stack.bus
      .events({ paymentId: run.id })
      .map((event) => event.detail as Record<string, any>);
    // created 1; cost.verified is a note on version 1 (no version of its own); requested 2, authorized 3.
    expect(details.map((d) => d.sequence)).toEqual([1, 3, 4]);
    expect(new Set(details.map((d) => d.event_id)).size).toBe(3);
    for (const detail of details) expect(detail).toMatchObject({ version: '1', payment: { id: run.id } });
  });
});
