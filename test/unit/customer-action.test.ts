/**
 * The customer-action paths against in-memory ports, for what the simulator cannot produce on demand:
 * money KBank took for a payment that had ended, a cancel refused because the customer paid at the last
 * moment, a QR for the wrong amount, lost answers when opening an order.
 */
import { KbankOutcomeUnknown, KbankRejected } from '../../functions/core/errors.js';
import { chargeVerdict } from '../../functions/core/flows/customer-charges.js';
import { DEFAULT_POLICY, type SagaDeps } from '../../functions/core/flows/payment-step.js';
import { ulid } from '../../functions/core/ids.js';
import { type Attempt, type Payment, parseReferenceOrder } from '../../functions/core/payment.js';
import type { Kbank, KbankQrCharge } from '../../functions/core/ports.js';
import { buildPromptPayPayload } from '../../functions/core/promptpay.js';
import {
  LAST_TOKEN_WAIT_RECEIVE,
  processCallback,
} from '../../functions/core/use-cases/callbacks/kbank-callbacks.js';
import { authorize } from '../../functions/core/use-cases/payment-saga/authorize.js';
import { resolveAction } from '../../functions/core/use-cases/payment-saga/resolve-action.js';
import { fixedClock, fixedCost, MemoryRepository, scriptedKbank } from '../support/fakes.js';
import { aPayment } from '../support/payments.js';

const AMOUNT = 70900;

function qrPayload(amount: number): string {
  return buildPromptPayPayload({
    merchant: { kind: 'billPayment', billerId: '099999999999901', reference1: 'REF1' },
    amount,
    merchantName: 'SHOP',
    merchantCity: 'BANGKOK',
  });
}

function qrCharge(overrides: Partial<KbankQrCharge> = {}): KbankQrCharge {
  return {
    chargeId: 'chrg_test_qr',
    referenceOrder: 'set-by-test',
    status: 'success',
    state: 'Authorized',
    amount: AMOUNT,
    currency: 'THB',
    orderId: 'order_test_1',
    ...overrides,
  };
}

async function setup(kbank: Partial<Kbank>, status?: Payment['status']) {
  const repo = new MemoryRepository();
  const { payment, audit } = aPayment({
    amount: AMOUNT,
    paymentMethod: { type: 'qr_promptpay' },
    actionWindowSeconds: 600,
    // VerifyCost's confirmation is on the record (tests of its fold into the write-ahead: saga-steps).
    verifiedAt: '2026-01-01T00:00:00.000Z',
  });
  await repo.create(payment, audit);
  const resumed: string[] = [];
  const deps: SagaDeps = {
    repo,
    kbank: scriptedKbank(kbank),
    cost: fixedCost(AMOUNT),
    clock: fixedClock(),
    policy: DEFAULT_POLICY,
    tasks: {
      succeed: async (token) => {
        resumed.push(token);
        return true;
      },
      fail: async () => true,
    },
  };
  if (status) {
    const attempt: Attempt = {
      paymentId: payment.id,
      no: 1,
      referenceOrder: `${payment.id}-1`,
      state: 'awaiting_customer',
      chargeCalls: 1,
      orderId: 'order_test_1',
      createdAt: payment.createdAt,
      updatedAt: payment.createdAt,
    };
    const stored = {
      ...payment,
      status,
      attemptCount: 1,
      nextAction: {
        type: 'display_qr' as const,
        qrPayload: qrPayload(AMOUNT),
        expiresAt: '2026-11-22T04:10:00.000Z',
      },
      ...(status === 'requires_action' ? { actionToken: 'token-1' } : {}),
    };
    repo.payments.set(payment.id, stored);
    repo.attempts.set(`${payment.id}#1`, attempt);
  }
  return { repo, deps, id: payment.id, reference: `${payment.id}-1`, resumed };
}

describe('chargeVerdict and references', () => {
  it('maps KBank states to what they mean for a waiting payment', () => {
    expect(chargeVerdict({ status: 'success', state: 'Authorized' })).toBe('paid');
    expect(chargeVerdict({ status: 'fail', state: 'Authorized' })).toBe('failed');
    expect(chargeVerdict({ status: 'success', state: 'Initialize' })).toBe('pending');
    expect(chargeVerdict({ status: 'success', state: 'Pre-Authorized' })).toBe('pending');
    expect(chargeVerdict({ status: 'fail', state: 'Expired' })).toBe('expired');
    expect(chargeVerdict({ status: 'success', state: 'Voided' })).toBe('failed');
  });

  it('reads our payment and attempt from a reference_order, and nothing else', () => {
    const id = `pay_${ulid()}`;
    expect(parseReferenceOrder(`${id}-2`)).toEqual({ paymentId: id, no: 2 });
    expect(parseReferenceOrder('order-1001')).toBeNull();
    expect(parseReferenceOrder(`${id}-0`)).toBeNull();
    expect(parseReferenceOrder(`${id}-1-1`)).toBeNull();
  });
});

describe('Authorize (QR)', () => {
  it('refuses to show a QR whose amount is not the payment amount: failed, nothing to pay', async () => {
    const { deps, repo, id } = await setup({
      createQrOrder: async (request) => ({
        orderId: 'order_test_1',
        referenceOrder: request.referenceOrder,
        qrPayload: qrPayload(AMOUNT - 1),
      }),
    });
    const result = await authorize(deps, { paymentId: id });
    expect(result.outcome).toBe('declined');
    expect(await repo.get(id)).toMatchObject({ status: 'failed', failure: { code: 'qr_amount_mismatch' } });
  });

  it('abandons an order whose creation answer was lost and opens the next one under a new reference', async () => {
    const references: string[] = [];
    let calls = 0;
    const { deps, repo, id } = await setup({
      createQrOrder: async (request) => {
        references.push(request.referenceOrder);
        calls++;
        if (calls === 1) throw new KbankOutcomeUnknown('timeout');
        return {
          orderId: 'order_test_2',
          referenceOrder: request.referenceOrder,
          qrPayload: qrPayload(AMOUNT),
        };
      },
    });
    expect((await authorize(deps, { paymentId: id })).outcome).toBe('retry');
    const second = await authorize(deps, { paymentId: id });
    expect(second.outcome).toBe('requires_action');
    expect(second.waitSeconds).toBe(600);
    expect(references).toEqual([`${id}-1`, `${id}-2`]);
    expect((await repo.getAttempt(id, 1))?.state).toBe('abandoned');
    expect(await repo.get(id)).toMatchObject({
      status: 'requires_action',
      nextAction: { type: 'display_qr', qrPayload: qrPayload(AMOUNT) },
    });
  });
});

describe('ResolveAction', () => {
  it('when the cancel is refused because the customer paid at the last moment, the payment succeeds', async () => {
    let inquiries = 0;
    const { deps, repo, id, reference } = await setup(
      {
        inquireQr: async () => {
          inquiries++;
          return qrCharge({
            referenceOrder: reference,
            state: inquiries === 1 ? 'Initialize' : 'Authorized',
          });
        },
        cancelQr: async () => {
          throw new KbankRejected('the order is Authorized', 'invalid_state', 400);
        },
      },
      'requires_action',
    );
    const result = await resolveAction(deps, { paymentId: id, reason: 'timed_out' });
    expect(result.outcome).toBe('paid');
    expect(await repo.get(id)).toMatchObject({ status: 'succeeded', amountCaptured: AMOUNT });
  });

  it('once a cancel was sent without an answer, a payment seen after it is given back and the payment expires', async () => {
    // The customer pays after the cancel left; the cancel's answer is lost and it may still land at KBank.
    const states: KbankQrCharge['state'][] = ['Initialize', 'Authorized'];
    const refunds: number[] = [];
    const { deps, repo, id, reference } = await setup(
      {
        inquireQr: async () =>
          qrCharge({ referenceOrder: reference, state: states.shift() ?? 'Refund Sent' }),
        cancelQr: async () => {
          throw new KbankOutcomeUnknown('KBank qr cancel: no answer in time');
        },
        refundQr: async (chargeId, amount) => {
          refunds.push(amount);
          return qrCharge({ chargeId, referenceOrder: reference, state: 'Refund Sent' });
        },
      },
      'requires_action',
    );
    await expect(resolveAction(deps, { paymentId: id, reason: 'timed_out' })).rejects.toThrow(
      KbankOutcomeUnknown,
    );
    expect((await repo.getAttempt(id, 1))?.expiryCancelSentAt).toBeDefined();
    // The retried step (or a notify waking the saga) sees the charge paid: the expiry still decides.
    const result = await resolveAction(deps, { paymentId: id, reason: 'notified' });
    expect(result.outcome).toBe('expired');
    expect(refunds).toEqual([AMOUNT]);
    expect(await repo.get(id)).toMatchObject({ status: 'expired', amountCaptured: 0 });
    expect(repo.audit.filter((e) => e.paymentId === id).map((e) => e.type)).toEqual([
      'payment.created',
      'action.expiry_cancel_sent',
      'late_payment.detected',
      'payment.expired',
    ]);
    expect(repo.audit.at(-1)?.detail).toMatchObject({
      kbankState: 'Refund Sent',
      reversed: { via: 'refund', amount: AMOUNT },
    });
  });

  it('a lost cancel that lands while the payment is given back ends the payment expired, with nothing held', async () => {
    const states: KbankQrCharge['state'][] = ['Initialize', 'Authorized', 'Voided'];
    const { deps, repo, id, reference } = await setup(
      {
        inquireQr: async () => qrCharge({ referenceOrder: reference, state: states.shift() ?? 'Voided' }),
        cancelQr: async () => {
          throw new KbankOutcomeUnknown('KBank qr cancel: no answer in time');
        },
        // The first cancel landed between the inquiry and the refund: there is nothing left to refund.
        refundQr: async () => {
          throw new KbankRejected('the charge is Voided', 'invalid_state', 400);
        },
      },
      'requires_action',
    );
    await expect(resolveAction(deps, { paymentId: id, reason: 'timed_out' })).rejects.toThrow(
      KbankOutcomeUnknown,
    );
    await expect(resolveAction(deps, { paymentId: id, reason: 'timed_out' })).rejects.toThrow(KbankRejected);
    const result = await resolveAction(deps, { paymentId: id, reason: 'timed_out' });
    expect(result.outcome).toBe('expired');
    expect(await repo.get(id)).toMatchObject({ status: 'expired', amountCaptured: 0 });
    expect(await repo.getAttempt(id, 1)).toMatchObject({ state: 'expired', kbankState: 'Voided' });
  });

  it('a notify that KBank does not confirm keeps the saga waiting for the time left', async () => {
    const { deps, id, reference } = await setup(
      { inquireQr: async () => qrCharge({ referenceOrder: reference, state: 'Initialize' }) },
      'requires_action',
    );
    const result = await resolveAction(deps, { paymentId: id, reason: 'notified' });
    expect(result).toMatchObject({ outcome: 'waiting', waitSeconds: 600 });
  });
});

describe('processCallback', () => {
  it('gives back money KBank took for a payment that had expired, once, and records it', async () => {
    const refunds: number[] = [];
    const { deps, repo, id, reference } = await setup(
      {
        inquireQr: async () => qrCharge({ referenceOrder: reference }),
        refundQr: async (chargeId, amount) => {
          refunds.push(amount);
          return qrCharge({ chargeId, referenceOrder: reference, state: 'Refund Sent' });
        },
      },
      'expired',
    );
    const message = {
      source: 'notify' as const,
      paymentId: id,
      attemptNo: 1,
      chargeId: 'chrg_test_qr',
      state: 'Authorized',
      receivedAt: '2026-11-22T04:20:00.000Z',
    };
    expect(await processCallback(deps, message)).toBe('reversed');
    expect(await processCallback(deps, message)).toBe('duplicate');
    expect(refunds).toEqual([AMOUNT]);
    expect(repo.types(id)).toEqual([
      'payment.created',
      'notification.received',
      'late_payment.detected',
      'late_payment.reversed',
      'notification.duplicate',
    ]);
    expect((await repo.get(id))?.status).toBe('expired');
  });

  it('resumes the waiting saga only when KBank confirms a final state', async () => {
    const { deps, id, reference, resumed } = await setup(
      { inquireQr: async () => qrCharge({ referenceOrder: reference, state: 'Initialize' }) },
      'requires_action',
    );
    const message = {
      source: 'notify' as const,
      paymentId: id,
      attemptNo: 1,
      chargeId: 'chrg_test_qr',
      state: 'Authorized',
      receivedAt: '2026-11-22T04:05:00.000Z',
    };
    expect(await processCallback(deps, message)).toBe('recorded');
    expect(resumed).toEqual([]);
  });

  it('ignores a callback whose charge KBank says belongs to another reference', async () => {
    const { deps, repo, id } = await setup(
      { inquireQr: async () => qrCharge({ referenceOrder: 'pay_someone_else-1' }) },
      'requires_action',
    );
    const outcome = await processCallback(deps, {
      source: 'notify',
      paymentId: id,
      attemptNo: 1,
      chargeId: 'chrg_test_other',
      state: 'Authorized',
      receivedAt: '2026-11-22T04:05:00.000Z',
    });
    expect(outcome).toBe('unknown_charge');
    expect(repo.types(id)).toEqual(['payment.created']);
  });
});

describe('a paid callback for a payment whose saga stored no token', () => {
  const paid = (reference: string) => async () =>
    qrCharge({ referenceOrder: reference, state: 'Authorized' });
  const message = (id: string) => ({
    source: 'notify' as const,
    paymentId: id,
    attemptNo: 1,
    chargeId: 'chrg_test_qr',
    state: 'Authorized',
    receivedAt: '2026-11-22T04:00:00.000Z',
  });

  it('is handed back while the token may still come', async () => {
    const { repo, deps, id, reference } = await setup({}, 'requires_action');
    const stored = await repo.get(id);
    if (!stored) throw new Error('no payment');
    // requires_action recorded 5 s ago, no token yet: the saga is about to store it.
    repo.payments.set(id, { ...stored, actionToken: undefined, updatedAt: '2026-11-22T03:59:55.000Z' });
    deps.kbank = scriptedKbank({ inquireQr: paid(reference) });
    await expect(processCallback(deps, message(id))).rejects.toMatchObject({ name: 'SagaNotWaitingYet' });
    await expect(processCallback(deps, message(id), { receiveCount: 3 })).rejects.toMatchObject({
      name: 'SagaNotWaitingYet',
    });
    expect(repo.dueNow).toEqual([]);
  });

  it('is handed to the sweep on its last wait, never left for the dead letters, however fast it came back', async () => {
    const { repo, deps, id, reference } = await setup({}, 'requires_action');
    const stored = await repo.get(id);
    if (!stored) throw new Error('no payment');
    repo.payments.set(id, { ...stored, actionToken: undefined, updatedAt: '2026-11-22T03:59:55.000Z' });
    deps.kbank = scriptedKbank({ inquireQr: paid(reference) });
    expect(await processCallback(deps, message(id), { receiveCount: LAST_TOKEN_WAIT_RECEIVE })).toBe(
      'handed_to_sweep',
    );
    expect(repo.dueNow).toEqual([id]);
    expect(repo.types(id)).toContain('notification.received');
  });

  it('is recorded and handed to the sweep once the saga has clearly been lost', async () => {
    const { repo, deps, id, reference } = await setup({}, 'requires_action');
    const stored = await repo.get(id);
    if (!stored) throw new Error('no payment');
    repo.payments.set(id, { ...stored, actionToken: undefined, updatedAt: '2026-11-22T03:58:00.000Z' });
    deps.kbank = scriptedKbank({ inquireQr: paid(reference) });
    expect(await processCallback(deps, message(id))).toBe('handed_to_sweep');
    expect(repo.dueNow).toEqual([id]);
    expect(repo.types(id)).toContain('notification.received');
  });
});
