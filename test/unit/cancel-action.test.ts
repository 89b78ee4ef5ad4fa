/**
 * The merchant's cancel of a payment waiting for the customer, against in-memory ports: the API use case
 * (recorded first against the payment's version, then the parked saga failed with PaymentCanceled) and
 * the saga step that carries it out at KBank, including what the simulator cannot produce on demand: a
 * cancel refused because the customer paid at that moment, a lost answer, a cancel losing its race.
 */
import { KbankOutcomeUnknown, KbankRejected, StaleWriteError } from '../../functions/core/errors.js';
import { DEFAULT_CONTENTION } from '../../functions/core/flows/contention.js';
import { DEFAULT_POLICY, type SagaDeps } from '../../functions/core/flows/payment-step.js';
import {
  type Attempt,
  type Change,
  noteStep,
  type Payment,
  type PaymentMethod,
} from '../../functions/core/payment.js';
import type { Kbank, KbankCharge, KbankQrCharge } from '../../functions/core/ports.js';
import type { CancelPaymentDeps } from '../../functions/core/use-cases/api/cancel-payment.js';
import { awaitAction } from '../../functions/core/use-cases/payment-saga/await-action.js';
import { resolveAction } from '../../functions/core/use-cases/payment-saga/resolve-action.js';
import { createCancelPaymentHandler } from '../../functions/handlers/api-cancel-payment.js';
import { callApi } from '../support/api-calls.js';
import {
  fixedClock,
  fixedCost,
  MemoryIdempotency,
  MemoryRepository,
  scriptedKbank,
} from '../support/fakes.js';
import { aPayment } from '../support/payments.js';

const AMOUNT = 72500;
const MERCHANT = 'm1';

/** Lets a test slip another writer's change in just before a commit (a lost race, on demand). */
class RacingRepository extends MemoryRepository {
  before?: (change: Change) => Promise<void>;
  override async commit(change: Change, attempt?: Attempt) {
    const hook = this.before;
    this.before = undefined;
    if (hook) await hook(change);
    return super.commit(change, attempt);
  }
}

function qrCharge(referenceOrder: string, overrides: Partial<KbankQrCharge> = {}): KbankQrCharge {
  return {
    chargeId: 'chrg_test_qr',
    referenceOrder,
    status: 'success',
    state: 'Initialize',
    amount: AMOUNT,
    currency: 'THB',
    orderId: 'order_test_1',
    ...overrides,
  };
}

function cardCharge(referenceOrder: string, overrides: Partial<KbankCharge> = {}): KbankCharge {
  return {
    chargeId: 'chrg_test_card',
    referenceOrder,
    status: 'success',
    state: 'Pre-Authorized',
    amount: AMOUNT,
    currency: 'THB',
    ...overrides,
  };
}

/** A payment waiting for the customer (saga parked with token-1 unless `token` is null). */
async function waiting(
  kbank: Partial<Kbank>,
  options: { method?: PaymentMethod; token?: string | null; status?: Payment['status'] } = {},
) {
  const repo = new RacingRepository();
  const method = options.method ?? { type: 'qr_promptpay' };
  const { payment, audit } = aPayment(
    { merchantId: MERCHANT, amount: AMOUNT, paymentMethod: method, actionWindowSeconds: 600 },
    new Date('2026-11-22T03:59:00.000Z'),
  );
  await repo.create(payment, audit);
  const qr = method.type === 'qr_promptpay' || method.type === 'wechat_pay';
  const token = options.token === undefined ? 'token-1' : options.token;
  repo.payments.set(payment.id, {
    ...payment,
    status: options.status ?? 'requires_action',
    attemptCount: 1,
    nextAction: qr
      ? { type: 'display_qr', qrPayload: '000201…', expiresAt: '2026-11-22T04:10:00.000Z' }
      : { type: 'redirect_to_url', url: 'https://kbank/3ds', expiresAt: '2026-11-22T04:15:00.000Z' },
    ...(token ? { actionToken: token } : {}),
  });
  const reference = `${payment.id}-1`;
  repo.attempts.set(`${payment.id}#1`, {
    paymentId: payment.id,
    no: 1,
    referenceOrder: reference,
    state: 'awaiting_customer',
    chargeCalls: 1,
    ...(qr ? { orderId: 'order_test_1' } : { chargeId: 'chrg_test_card' }),
    createdAt: payment.createdAt,
    updatedAt: payment.createdAt,
  });
  const failed: { token: string; error: string }[] = [];
  const tasks = {
    succeed: async () => true,
    fail: async (token: string, error: string) => {
      failed.push({ token, error });
      return true;
    },
  };
  const clock = fixedClock();
  const scripted = scriptedKbank(kbank);
  const saga: SagaDeps = {
    repo,
    kbank: scripted,
    cost: fixedCost(AMOUNT),
    clock,
    policy: DEFAULT_POLICY,
    tasks,
  };
  const api: CancelPaymentDeps = {
    repo,
    idempotency: new MemoryIdempotency(),
    tasks,
    clock,
    contention: { ...DEFAULT_CONTENTION, sleep: async () => undefined },
  };
  // Through the API handler: the Idempotency-Key and the problems are the edge's.
  const handler = createCancelPaymentHandler(() => api);
  const cancel = (key: string) =>
    callApi(handler, {
      merchantId: MERCHANT,
      path: `/v1/payments/${payment.id}/cancel`,
      paymentId: payment.id,
      idempotencyKey: key,
    });
  return { repo, saga, api, cancel, failed, id: payment.id, reference, calls: scripted.calls };
}

describe('POST /v1/payments/{id}/cancel of a payment waiting for the customer', () => {
  it('records the cancel first, then fails the parked wait with PaymentCanceled: 202 processing', async () => {
    const { repo, cancel, failed, id } = await waiting({});
    const { response, replayed } = await cancel('key-1');
    expect(replayed).toBe(false);
    expect(response.statusCode).toBe(202);
    expect(response.body).toMatchObject({
      status: 'processing',
      cancellation_reason: 'requested_by_merchant',
      next_action: null,
    });
    expect(await repo.get(id)).toMatchObject({
      status: 'processing',
      cancellationReason: 'requested_by_merchant',
      requestKey: 'key-1',
    });
    expect(repo.audit.at(-1)).toMatchObject({
      type: 'payment.cancel_requested',
      actor: 'api',
      fromStatus: 'requires_action',
      toStatus: 'processing',
      detail: { nextAction: 'display_qr' },
    });
    expect(failed).toEqual([{ token: 'token-1', error: 'PaymentCanceled' }]);
  });

  it('replays the same key without recording or resuming twice', async () => {
    const { repo, cancel, failed, id } = await waiting({});
    await cancel('key-1');
    const again = await cancel('key-1');
    expect(again.replayed).toBe(true);
    expect(again.response.statusCode).toBe(202);
    expect(repo.types(id).filter((type) => type === 'payment.cancel_requested')).toHaveLength(1);
    expect(failed).toHaveLength(1);
  });

  it('answers another key with 409 payment_cancel_in_progress, writes nothing, and replays that refusal', async () => {
    const { repo, cancel, id } = await waiting({});
    await cancel('key-1');
    const before = repo.types(id);
    const refused = await cancel('key-2');
    expect(refused).toMatchObject({
      replayed: false,
      response: { statusCode: 409, body: { code: 'payment_cancel_in_progress' } },
    });
    expect(repo.types(id)).toEqual(before);
    const replay = await cancel('key-2');
    expect(replay).toMatchObject({
      replayed: true,
      response: { statusCode: 409, body: { code: 'payment_cancel_in_progress' } },
    });
    expect(replay.raw.body).toBe(refused.raw.body);
  });

  it.each(['succeeded', 'expired', 'failed', 'canceled'] as const)(
    'refuses a %s payment with 409 payment_not_cancelable and writes nothing',
    async (status) => {
      const { repo, cancel, failed, id } = await waiting({}, { status });
      const before = structuredClone(await repo.get(id));
      expect((await cancel('key-1')).response).toMatchObject({
        statusCode: 409,
        body: { code: 'payment_not_cancelable', detail: expect.stringContaining(status) },
      });
      expect(await repo.get(id)).toEqual(before);
      expect(failed).toEqual([]);
    },
  );

  it('before the saga stored its token: recorded, and the next wait fails itself instead of parking', async () => {
    const { repo, saga, cancel, failed, id } = await waiting({}, { token: null });
    expect((await cancel('key-1')).response.statusCode).toBe(202);
    expect(failed).toEqual([]);
    const types = repo.types(id);
    expect(await awaitAction(saga, { paymentId: id, taskToken: 'token-2' })).toEqual({ outcome: 'waiting' });
    expect(failed).toEqual([{ token: 'token-2', error: 'PaymentCanceled' }]);
    expect(repo.types(id)).toEqual(types);
  });

  it('losing the version to a note (the saga storing its token) re-reads and fails the new token', async () => {
    const { repo, cancel, failed, id } = await waiting({}, { token: null });
    repo.before = async (change) => {
      const stored = (await repo.get(change.previous.id)) as Payment;
      const noted = noteStep(
        stored,
        { type: 'action.wait_started', actor: 'saga', patch: { actionToken: 'token-2' } },
        new Date(),
      );
      repo.payments.set(stored.id, noted.next);
      repo.audit.push(noted.audit);
    };
    expect((await cancel('key-1')).response.statusCode).toBe(202);
    expect(repo.types(id).slice(-2)).toEqual(['action.wait_started', 'payment.cancel_requested']);
    expect(failed).toEqual([{ token: 'token-2', error: 'PaymentCanceled' }]);
  });

  it('losing the version to the customer payment being recorded: 409 payment_not_cancelable, the payment stands', async () => {
    const { repo, cancel, failed, id } = await waiting({});
    repo.before = async (change) => {
      const stored = (await repo.get(change.previous.id)) as Payment;
      repo.payments.set(stored.id, { ...stored, status: 'succeeded', seq: stored.seq + 1 });
    };
    expect((await cancel('key-1')).response).toMatchObject({
      statusCode: 409,
      body: { code: 'payment_not_cancelable' },
    });
    expect((await repo.get(id))?.status).toBe('succeeded');
    expect(repo.types(id)).not.toContain('payment.cancel_requested');
    expect(failed).toEqual([]);
  });
});

describe('CancelAction (ResolveAction with reason canceled)', () => {
  async function requested(
    kbank: Partial<Kbank>,
    options: { method?: PaymentMethod; token?: string | null } = {},
  ) {
    const setup = await waiting(kbank, options);
    await setup.cancel('key-1');
    const step = (reason: 'canceled' | 'notified' | 'timed_out' = 'canceled') =>
      resolveAction(setup.saga, { paymentId: setup.id, reason });
    return { ...setup, step };
  }

  it('QR not paid: cancels the order at KBank by its order id, then canceled', async () => {
    const canceledAt: string[] = [];
    const { repo, id, step, reference } = await requested({
      inquireQr: async () => qrCharge(reference),
      cancelQr: async (orderId, reason) => {
        canceledAt.push(`${orderId}:${reason}`);
        return qrCharge(reference, { state: 'Voided' });
      },
    });
    const result = await step();
    expect(result).toMatchObject({ outcome: 'canceled', event: { type: 'payment.canceled' } });
    expect(canceledAt).toEqual(['order_test_1:requested_by_merchant']);
    expect(await repo.get(id)).toMatchObject({ status: 'canceled', amountCaptured: 0 });
    expect((await repo.get(id))?.actionToken).toBeUndefined();
    expect(await repo.getAttempt(id, 1)).toMatchObject({ state: 'voided', kbankState: 'Voided' });
    expect(repo.audit.at(-1)).toMatchObject({
      type: 'payment.canceled',
      actor: 'saga',
      fromStatus: 'processing',
      toStatus: 'canceled',
      detail: { reason: 'requested_by_merchant', kbankState: 'Voided', referenceOrder: reference },
    });
  });

  it('3-D Secure card not finished: voids the charge', async () => {
    const voided: string[] = [];
    const { repo, id, step, reference } = await requested(
      {
        inquireCharge: async () => cardCharge(reference),
        voidCharge: async (chargeId) => {
          voided.push(chargeId);
          return cardCharge(reference, { state: 'Voided' });
        },
      },
      { method: { type: 'card', token: 'tokn_test_1' } },
    );
    expect((await step()).outcome).toBe('canceled');
    expect(voided).toEqual(['chrg_test_card']);
    expect((await repo.get(id))?.status).toBe('canceled');
  });

  it('QR paid at that very moment (KBank refuses the cancel): the money is refunded, then canceled', async () => {
    let inquiries = 0;
    const refunds: number[] = [];
    const { repo, id, step, reference } = await requested({
      inquireQr: async () =>
        qrCharge(reference, { state: inquiries++ === 0 ? 'Initialize' : 'Authorized', approvalCode: '1' }),
      cancelQr: async () => {
        throw new KbankRejected('the order is Authorized, not waiting for payment', 'invalid_state', 400);
      },
      refundQr: async (chargeId, amount) => {
        refunds.push(amount);
        return qrCharge(reference, { chargeId, state: 'Refund Sent', refundedAmount: amount });
      },
    });
    expect((await step()).outcome).toBe('canceled');
    expect(refunds).toEqual([AMOUNT]);
    expect(await repo.get(id)).toMatchObject({ status: 'canceled', amountCaptured: 0, amountAuthorized: 0 });
    expect(repo.types(id).slice(-3)).toEqual([
      'payment.cancel_requested',
      'late_payment.detected',
      'payment.canceled',
    ]);
    expect(repo.audit.at(-1)?.detail).toMatchObject({
      kbankState: 'Refund Sent',
      reversed: { via: 'refund', amount: AMOUNT },
    });
  });

  it('Alipay already paid when the cancel is carried out: the charge is voided, never captured', async () => {
    const { repo, id, step, reference, calls } = await requested(
      {
        inquireCharge: async () => cardCharge(reference, { state: 'Authorized' }),
        voidCharge: async () => cardCharge(reference, { state: 'Voided' }),
      },
      { method: { type: 'alipay' } },
    );
    expect((await step()).outcome).toBe('canceled');
    expect(calls).toEqual(['inquireCharge', 'voidCharge']);
    expect(repo.audit.at(-1)?.detail).toMatchObject({ reversed: { via: 'void' } });
    expect((await repo.get(id))?.amountCaptured).toBe(0);
  });

  it('a callback waking the saga after the cancel was recorded still ends canceled, not paid', async () => {
    const { repo, id, step, reference } = await requested({
      inquireQr: async () => qrCharge(reference, { state: 'Authorized' }),
      refundQr: async () => qrCharge(reference, { state: 'Refund Sent' }),
    });
    expect((await step('notified')).outcome).toBe('canceled');
    expect((await repo.get(id))?.status).toBe('canceled');
  });

  it('an unclear cancel answer is inquired on the retry, never sent twice', async () => {
    let canceled = false;
    const { repo, id, step, reference, calls } = await requested({
      inquireQr: async () => qrCharge(reference, { state: canceled ? 'Voided' : 'Initialize' }),
      cancelQr: async () => {
        canceled = true;
        throw new KbankOutcomeUnknown('timeout after sending');
      },
    });
    await expect(step()).rejects.toBeInstanceOf(KbankOutcomeUnknown);
    expect((await repo.get(id))?.status).toBe('processing');
    expect((await step()).outcome).toBe('canceled');
    expect(calls).toEqual(['inquireQr', 'cancelQr', 'inquireQr']);
  });

  it('a refused cancel while KBank still shows the order open is retried on the schedule', async () => {
    const { repo, id, step, reference } = await requested({
      inquireQr: async () => qrCharge(reference),
      cancelQr: async () => {
        throw new KbankRejected('try later', 'busy', 400);
      },
    });
    await expect(step()).rejects.toBeInstanceOf(KbankRejected);
    expect((await repo.get(id))?.status).toBe('processing');
  });

  it('is retry-safe: once canceled it answers canceled without calling KBank', async () => {
    const { step, reference, calls } = await requested({
      inquireQr: async () => qrCharge(reference),
      cancelQr: async () => qrCharge(reference, { state: 'Voided' }),
    });
    await step();
    expect(await step()).toMatchObject({ outcome: 'canceled', event: { type: 'payment.canceled' } });
    expect(calls).toEqual(['inquireQr', 'cancelQr']);
  });

  it('a lost race with a note makes the step fail with StaleWriteError, which the state machine retries', async () => {
    const { repo, step, reference } = await requested({
      inquireQr: async () => qrCharge(reference),
      cancelQr: async () => qrCharge(reference, { state: 'Voided' }),
    });
    repo.before = async (change) => {
      const stored = (await repo.get(change.previous.id)) as Payment;
      const noted = noteStep(stored, { type: 'notification.duplicate', actor: 'kbank' }, new Date());
      repo.payments.set(stored.id, noted.next);
    };
    await expect(step()).rejects.toBeInstanceOf(StaleWriteError);
  });
});
