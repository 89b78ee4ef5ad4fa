/**
 * Unauthenticated writes cannot starve the saga: loops of forged notifies (no credentials, wrong checksum)
 * run against live payments while the customer pays and the merchant captures, through the real local
 * stack. Forged notifies are recorded as bounded notes that take no version, so every status change and
 * every merchant request goes through on its first try.
 */
import { randomUUID } from 'node:crypto';
import { kbankChecksum } from '../../functions/adapters/kbank-client.js';
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

async function waitFor(id: string, statuses: string[], needsToken: 'actionToken' | 'captureToken') {
  for (let i = 0; i < 1000; i++) {
    const payment = await stack.repo.get(id);
    if (payment && statuses.includes(payment.status) && payment[needsToken]) return payment;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`payment ${id} never reached ${statuses.join('/')}`);
}

/** Forged notifies for the payment's current charge, in `loops` parallel loops, until `stop()`. */
function flood(id: string, loops = 3) {
  let running = true;
  let sent = 0;
  const refused: number[] = [];
  const loop = async () => {
    const payment = await stack.repo.get(id);
    const attempt = await stack.repo.getAttempt(id, payment?.attemptCount ?? 1);
    while (running) {
      const forged = {
        id: attempt?.chargeId ?? 'chrg_test_forged',
        object: 'charge',
        amount: '1.00',
        currency: 'THB',
        status: 'success',
        transaction_state: 'Authorized',
        reference_order: attempt?.referenceOrder,
        checksum: kbankChecksum(
          { id: 'x', amount: 100, currency: 'THB', status: 'success', transactionState: 'Authorized' },
          `skey_guess_${sent}`,
        ),
      };
      const answer = await api(stack, 'POST', '/v1/webhooks/kbank', { body: forged, key: null });
      refused.push(answer.status);
      sent++;
    }
  };
  const loops$ = Promise.all(Array.from({ length: loops }, loop));
  return {
    /** Resolves once `n` forged notifies were refused. */
    async until(n: number) {
      while (sent < n) await new Promise((resolve) => setTimeout(resolve, 5));
    },
    async stop() {
      running = false;
      await loops$;
      return { sent, refused };
    },
  };
}

it('a paid Thai QR succeeds while forged notifies flood it, and they take no version', async () => {
  const created = await api(stack, 'POST', '/v1/payments', {
    body: paymentBody('unused', { payment_method: { type: 'qr_promptpay' } }),
    idempotencyKey: randomUUID(),
  });
  const id: string = created.body.id;
  await waitFor(id, ['requires_action'], 'actionToken');
  const view = await api(stack, 'GET', `/v1/payments/${id}`);
  const attack = flood(id);
  await attack.until(30);
  const seqBefore = (await stack.repo.get(id))?.seq;

  const scanned = await fetch(`${stack.kbankUrl}/_sim/qr/scan`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ payload: view.body.next_action.qr_payload, action: 'pay' }),
  });
  expect(scanned.status).toBe(200);
  const execution = await stack.runner.waitForExecution(id, 30_000);
  await stack.callbacks.idle();
  const { sent, refused } = await attack.stop();

  expect(execution.status).toBe('SUCCEEDED');
  const payment = await stack.repo.get(id);
  expect(payment?.status).toBe('succeeded');
  expect(sent).toBeGreaterThanOrEqual(30);
  expect(new Set(refused)).toEqual(new Set([401]));
  const trail = (await stack.repo.listAudit(id, { limit: 100 })).entries;
  const versions = trail.filter((entry) => !entry.noteId);
  // Only real changes took versions: consecutive, and none of them a rejected notify.
  expect(versions.map((entry) => entry.seq)).toEqual(versions.map((_, i) => i + 1));
  expect(versions.some((entry) => entry.type === 'notification.rejected')).toBe(false);
  expect(trail.filter((entry) => entry.type === 'notification.rejected').length).toBeGreaterThan(0);
  // What happened after the flood began was the saga's doing only: a handful of versions, not hundreds.
  expect((payment?.seq ?? 0) - (seqBefore ?? 0)).toBeLessThan(5);
});

it("the merchant's capture is accepted on the first try while forged notifies flood the payment", async () => {
  const token = await tokenize(stack, MAGIC_CARDS.visa.number);
  const created = await api(stack, 'POST', '/v1/payments', {
    body: paymentBody(token, { capture: 'manual' }),
    idempotencyKey: randomUUID(),
  });
  const id: string = created.body.id;
  await waitFor(id, ['requires_capture'], 'captureToken');
  const attack = flood(id);
  await attack.until(30);
  const captured = await api(stack, 'POST', `/v1/payments/${id}/capture`, {
    body: { amount: 50000 },
    idempotencyKey: randomUUID(),
  });
  expect(captured.status).toBe(202);
  const execution = await stack.runner.waitForExecution(id, 30_000);
  await attack.stop();
  expect(execution.status).toBe('SUCCEEDED');
  expect(await stack.repo.get(id)).toMatchObject({ status: 'succeeded', amountCaptured: 50000 });
  const charge = stack.kbank.charges().find((c) => c.referenceOrder.startsWith(id));
  expect(charge?.state).toBe('Settled');
});
