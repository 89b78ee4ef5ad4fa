/** Refunds in the core: the money rules, the inquiry's arithmetic, and the use cases on in-memory fakes. */
import {
  IdempotencyMismatchError,
  KbankOutcomeUnknown,
  KbankRejected,
  KbankUnavailable,
  OutcomeStillUnknown,
  PaymentNotRefundable,
  RefundExceedsRefundable,
  StaleWriteError,
} from '../../functions/core/errors.js';
import { type ContentionPolicy, retryOnStaleWrite } from '../../functions/core/flows/contention.js';
import type { RefundSagaDeps } from '../../functions/core/flows/refund-step.js';
import { ulidIds } from '../../functions/core/ids.js';
import type { Attempt } from '../../functions/core/payment.js';
import { changePointsEvent, refundPointsEvent } from '../../functions/core/points-views.js';
import type { Clock, KbankGateway } from '../../functions/core/ports.js';
import {
  refundableAmount,
  refundVerdict,
  reserveRefund,
  resolveRefund,
} from '../../functions/core/refund.js';
import { inquireRefund } from '../../functions/core/use-cases/refund-saga/inquire-refund.js';
import { refundAtKbank } from '../../functions/core/use-cases/refund-saga/refund-at-kbank.js';
import { refundUnresolved } from '../../functions/core/use-cases/refund-saga/refund-unresolved.js';
import { createCreateRefundHandler } from '../../functions/handlers/api-create-refund.js';
import { callApi } from '../support/api-calls.js';
import { charge, MemoryIdempotency, scriptedKbank } from '../support/fakes.js';
import { capturedPayment, MemoryRefundRepository } from '../support/refund-fakes.js';

const NOW = new Date('2026-11-22T04:00:00.000Z');

/** Virtual time: sleeping advances it, nothing really waits. */
function virtualContention(overrides: Partial<ContentionPolicy> = {}) {
  let now = 0;
  const slept: number[] = [];
  const policy: ContentionPolicy = {
    baseDelayMs: 10,
    maxDelayMs: 500,
    budgetMs: 20_000,
    random: () => 0.5,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
    ...overrides,
  };
  return { policy, slept };
}

describe("a refund's points event", () => {
  it('is built the same from the change that gave the points back and from the refund as recorded', () => {
    // 10000: 40 points (4000) and 6000 by card, all refunded: 6000 to the card, then the 40 points.
    const split = capturedPayment({
      points: { customerId: 'cus-42', points: 40, value: 4000, status: 'committed' },
    });
    const { change, refund } = reserveRefund(split, { refundId: 're_1' }, NOW);
    expect(refund).toMatchObject({ amount: 10000, points: 40, pointsValue: 4000 });
    const later = new Date(NOW.getTime() + 1234);
    const done = resolveRefund(change.next, refund, { status: 'succeeded' }, later);
    const fromChange = changePointsEvent(done.change);
    expect(fromChange).toMatchObject({
      event_id: `evt_${done.change.points?.entry.id}`,
      type: 'points.refunded',
      sequence: done.refund.paymentSeq,
      occurred_at: later.toISOString(),
      merchant_id: 'merchant_1',
      customer_id: 'cus-42',
      payment_id: split.id,
      refund_id: 're_1',
      movement: { type: 'refund', points: 40, available: 40, held: 0 },
    });
    expect(refundPointsEvent(done.change.next, done.refund)).toEqual(fromChange);
    // Nothing to announce for a refund still open, or one of a payment without points.
    expect(refundPointsEvent(change.next, refund)).toBeNull();
    const card = reserveRefund(capturedPayment(), { refundId: 're_2' }, NOW);
    const cardDone = resolveRefund(card.change.next, card.refund, { status: 'succeeded' }, later);
    expect(refundPointsEvent(cardDone.change.next, cardDone.refund)).toBeNull();
    expect(changePointsEvent(cardDone.change)).toBeNull();
  });
});

describe('refund money rules', () => {
  it('refunds only what a succeeded payment captured and has not refunded or reserved', () => {
    expect(refundableAmount(capturedPayment())).toBe(10000);
    expect(refundableAmount(capturedPayment({ amountRefunded: 3000, amountRefundPending: 2000 }))).toBe(5000);
    expect(refundableAmount(capturedPayment({ status: 'processing' }))).toBe(0);
    expect(refundableAmount(capturedPayment({ status: 'canceled' }))).toBe(0);
  });

  it('reserves a refund: pending amount up, next sequence, refund.requested audit, refund pending', () => {
    const payment = capturedPayment({ amountRefunded: 1000 });
    const { change, refund } = reserveRefund(
      payment,
      { refundId: 're_1', amount: 2500, reason: 'damaged' },
      NOW,
    );
    expect(change.next).toMatchObject({
      seq: 6,
      status: 'succeeded',
      amountRefundPending: 2500,
      amountRefunded: 1000,
    });
    expect(change.audit).toMatchObject({
      seq: 6,
      type: 'refund.requested',
      actor: 'api',
      fromStatus: 'succeeded',
      toStatus: 'succeeded',
      detail: { refundId: 're_1', amount: 2500, reason: 'damaged' },
    });
    expect(refund).toMatchObject({
      id: 're_1',
      status: 'pending',
      amount: 2500,
      currency: 'THB',
      kbankCalls: 0,
      paymentSeq: 6,
      merchantId: 'merchant_1',
    });
  });

  it('takes everything still refundable when no amount is given, with a default reason', () => {
    const { refund } = reserveRefund(
      capturedPayment({ amountRefundPending: 4000 }),
      { refundId: 're_1' },
      NOW,
    );
    expect(refund).toMatchObject({ amount: 6000, reason: 'requested_by_customer' });
  });

  it('refuses more than refundable with what is left, and anything once nothing is left', () => {
    const payment = capturedPayment({ amountRefunded: 9000 });
    const over = (() => {
      try {
        reserveRefund(payment, { refundId: 're_1', amount: 1001 }, NOW);
      } catch (error) {
        return error;
      }
    })();
    expect(over).toBeInstanceOf(RefundExceedsRefundable);
    expect(over).toMatchObject({ code: 'refund_exceeds_refundable', refundable: 1000, retryable: false });
    expect(() =>
      reserveRefund(capturedPayment({ amountRefunded: 10000 }), { refundId: 're_1' }, NOW),
    ).toThrow(/refundable amount: 0/);
  });

  it('refuses payments that are not succeeded', () => {
    for (const status of ['processing', 'failed', 'canceled', 'unknown'] as const) {
      expect(() => reserveRefund(capturedPayment({ status }), { refundId: 're_1', amount: 1 }, NOW)).toThrow(
        PaymentNotRefundable,
      );
    }
  });

  it('moves a succeeded refund from reserved to refunded, releases a failed one, holds an unknown one', () => {
    const { change, refund } = reserveRefund(capturedPayment(), { refundId: 're_1', amount: 3000 }, NOW);
    const reserved = change.next;

    const ok = resolveRefund(reserved, refund, { status: 'succeeded', kbankState: 'Refund Sent' }, NOW);
    expect(ok.change.next).toMatchObject({ amountRefunded: 3000, amountRefundPending: 0, seq: 7 });
    expect(ok.change.audit).toMatchObject({
      type: 'refund.succeeded',
      actor: 'saga',
      detail: { refundId: 're_1' },
    });
    expect(ok.refund).toMatchObject({ status: 'succeeded', paymentSeq: 7, kbankState: 'Refund Sent' });

    const failure = { code: 'refund_failed', message: 'no' };
    const failed = resolveRefund(reserved, refund, { status: 'failed', failure }, NOW);
    expect(failed.change.next).toMatchObject({ amountRefunded: 0, amountRefundPending: 0 });
    expect(failed.refund).toMatchObject({ status: 'failed', failure });
    expect(refundableAmount(failed.change.next)).toBe(10000);

    const unknown = resolveRefund(reserved, refund, { status: 'unknown' }, NOW);
    expect(unknown.change.next).toMatchObject({ amountRefunded: 0, amountRefundPending: 3000 });
    expect(unknown.change.audit.type).toBe('refund.outcome_unknown');
    expect(refundableAmount(unknown.change.next)).toBe(7000);
    // An unknown refund is left only by an outcome.
    expect(
      resolveRefund(unknown.change.next, unknown.refund, { status: 'succeeded' }, NOW).refund.status,
    ).toBe('succeeded');
  });

  it('never leaves a final refund, nor releases a reservation that is not there', () => {
    const { change, refund } = reserveRefund(capturedPayment(), { refundId: 're_1', amount: 3000 }, NOW);
    const done = resolveRefund(change.next, refund, { status: 'succeeded' }, NOW);
    expect(() =>
      resolveRefund(
        done.change.next,
        done.refund,
        { status: 'failed', failure: { code: 'x', message: 'x' } },
        NOW,
      ),
    ).toThrow(/cannot go from succeeded/);
    expect(() => resolveRefund(capturedPayment(), refund, { status: 'succeeded' }, NOW)).toThrow(
      /reserves 0/,
    );
  });
});

describe('refundVerdict: what KBank refunded in total says about one refund', () => {
  it.each([
    // chargeRefunded, settled, amount, inFlight, verdict
    [5000, 0, 5000, [], 'applied'],
    [0, 0, 5000, [], 'not_applied'],
    [7000, 2000, 5000, [], 'applied'],
    [2000, 2000, 5000, [], 'not_applied'],
    [3000, 0, 5000, [], 'ambiguous'],
    [1000, 2000, 5000, [], 'ambiguous'],
    [8000, 0, 5000, [3000], 'applied'],
    [3000, 0, 5000, [3000], 'not_applied'],
    [300, 0, 300, [300], 'ambiguous'],
    [600, 0, 300, [300], 'applied'],
    [0, 0, 300, [300, 300], 'not_applied'],
    [900, 0, 300, [300, 300], 'applied'],
  ] as const)(
    'total %i, settled %i, refund %i, others in flight %j → %s',
    (chargeRefunded, settled, amount, inFlight, verdict) => {
      expect(refundVerdict({ chargeRefunded, settled, amount, inFlight })).toBe(verdict);
    },
  );

  it.each([
    // chargeRefunded, settled, amount, inFlight, earlier of the same amount, verdict
    // Two equal refunds in flight, KBank holds one of them: the first in order counts as applied.
    [600, 300, 300, [300], 0, 'applied'],
    [600, 300, 300, [300], 1, 'not_applied'],
    // Both or neither applied: the order does not matter.
    [900, 300, 300, [300], 1, 'applied'],
    [300, 300, 300, [300], 0, 'not_applied'],
    // Three equal ones, two applied: the first two.
    [600, 0, 300, [300, 300], 0, 'applied'],
    [600, 0, 300, [300, 300], 1, 'applied'],
    [600, 0, 300, [300, 300], 2, 'not_applied'],
    // Another amount in flight that may or may not be in the total still leaves it open.
    [600, 0, 300, [300, 300, 600], 0, 'ambiguous'],
    // A total no combination explains stays ambiguous.
    [450, 0, 300, [300], 0, 'ambiguous'],
  ] as const)(
    'total %i, settled %i, refund %i, others in flight %j, %i equal ones before it → %s',
    (chargeRefunded, settled, amount, inFlight, earlierOfSameAmount, verdict) => {
      expect(refundVerdict({ chargeRefunded, settled, amount, inFlight, earlierOfSameAmount })).toBe(verdict);
    },
  );
});

describe('retryOnStaleWrite', () => {
  it('retries a lost race after a jittered, growing backoff', async () => {
    const { policy, slept } = virtualContention();
    let calls = 0;
    const result = await retryOnStaleWrite(policy, async () => {
      calls++;
      if (calls < 4) throw new StaleWriteError('lost');
      return 'won';
    });
    expect(result).toBe('won');
    expect(slept).toEqual([5, 10, 20]);
  });

  it('gives up with the last StaleWriteError once the budget is spent, and never retries other errors', async () => {
    const { policy } = virtualContention({ budgetMs: 1000 });
    await expect(
      retryOnStaleWrite(policy, async () => {
        throw new StaleWriteError('lost');
      }),
    ).rejects.toBeInstanceOf(StaleWriteError);
    let calls = 0;
    await expect(
      retryOnStaleWrite(policy, async () => {
        calls++;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(calls).toBe(1);
  });
});

describe('createRefund', () => {
  function setup() {
    const repo = new MemoryRefundRepository();
    const payment = capturedPayment();
    repo.payments.set(payment.id, payment);
    const started: { name: string; input: Record<string, unknown> }[] = [];
    const deps = {
      repo,
      idempotency: new MemoryIdempotency(),
      workflow: {
        start: async (name: string, input: Record<string, unknown>) => void started.push({ name, input }),
      },
      clock: { now: () => NOW } satisfies Clock,
      ids: ulidIds,
      contention: virtualContention().policy,
    };
    // Through the API handler: the Idempotency-Key and the problems are the edge's.
    const handler = createCreateRefundHandler(() => deps);
    const refund = (body: { amount?: number; reason?: string }, key = 'key-1', merchantId = 'merchant_1') =>
      callApi(handler, {
        merchantId,
        path: `/v1/payments/${payment.id}/refunds`,
        paymentId: payment.id,
        idempotencyKey: key,
        body,
      });
    return { repo, payment, started, deps, refund };
  }

  it('reserves the amount, writes the refund ahead, starts its saga named by the refund id, answers 202', async () => {
    const { repo, payment, started, refund } = setup();
    const { response, replayed } = await refund({ amount: 2500 });
    expect(replayed).toBe(false);
    expect(response.statusCode).toBe(202);
    expect(response.body).toMatchObject({
      object: 'refund',
      status: 'pending',
      amount: 2500,
      payment_id: payment.id,
    });
    expect(started).toEqual([
      { name: response.body.id, input: { paymentId: payment.id, refundId: response.body.id } },
    ]);
    expect(await repo.get(payment.id)).toMatchObject({ amountRefundPending: 2500, seq: 6 });
    expect(repo.types(payment.id)).toEqual(['refund.requested']);
  });

  it('replays the same key and request without reserving twice', async () => {
    const { repo, payment, refund } = setup();
    const first = await refund({ amount: 2500 });
    const again = await refund({ amount: 2500 });
    expect(again).toMatchObject({ response: first.response, replayed: true });
    expect(again.raw.body).toBe(first.raw.body);
    expect((await repo.get(payment.id))?.amountRefundPending).toBe(2500);
    expect((await refund({ amount: 2600 })).response).toMatchObject({
      statusCode: 422,
      body: { code: new IdempotencyMismatchError('').code },
    });
  });

  it('stores a refusal under its key, so a retry gets the same refusal', async () => {
    const { refund } = setup();
    const refused = await refund({ amount: 10001 }, 'k2');
    expect(refused).toMatchObject({
      replayed: false,
      response: { statusCode: 422, body: { code: new RefundExceedsRefundable('', 0).code } },
    });
    const again = await refund({ amount: 10001 }, 'k2');
    expect(again).toMatchObject({ replayed: true, response: refused.response });
    expect(again.raw.body).toBe(refused.raw.body);
  });

  it("answers not found for another merchant's payment, writing nothing", async () => {
    const { repo, payment, deps, refund } = setup();
    expect((await refund({ amount: 1 }, 'key-1', 'merchant_2')).response).toMatchObject({
      statusCode: 404,
      body: { code: 'resource_not_found' },
    });
    expect(repo.refunds.size).toBe(0);
    expect((await repo.get(payment.id))?.seq).toBe(5);
    // Not even its Idempotency-Key: the ownership check comes before the key is reserved.
    expect(deps.idempotency.keys.size).toBe(0);
  });

  it('re-reads after a lost race and refuses what no longer fits', async () => {
    const { repo, payment, refund } = setup();
    // Another refund takes 9000 between this request's read and its write (the first read is the
    // ownership check made before the key is reserved).
    const original = repo.get.bind(repo);
    let reads = 0;
    repo.get = async (id: string) => {
      const read = await original(id);
      if (++reads === 2 && read) {
        const { change, refund } = reserveRefund(read, { refundId: 're_other', amount: 9000 }, NOW);
        await repo.commitRefund(change, { next: refund, previousStatus: null, reserve: 9000 });
      }
      return read;
    };
    const refused = await refund({ amount: 2000 });
    expect(refused.response).toMatchObject({
      statusCode: 422,
      body: { code: 'refund_exceeds_refundable', detail: expect.stringContaining('1000') },
    });
    expect((await repo.get(payment.id))?.amountRefundPending).toBe(9000);
  });

  it('is refused by the store itself when a reservation would not fit, whatever the version says', async () => {
    const { repo, payment } = setup();
    const { change, refund } = reserveRefund(payment, { refundId: 're_1', amount: 4000 }, NOW);
    // A change computed as if more were refundable (a bug, a stale cache): same version, too much.
    await expect(
      repo.commitRefund(change, { next: refund, previousStatus: null, reserve: 10001 }),
    ).rejects.toBeInstanceOf(StaleWriteError);
  });
});

describe('refund saga steps', () => {
  const attempt: Attempt = {
    paymentId: capturedPayment().id,
    no: 1,
    referenceOrder: `${capturedPayment().id}-1`,
    state: 'captured',
    chargeCalls: 1,
    chargeId: 'chrg_test_1',
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
  };

  function setup(kbank: Partial<KbankGateway>, now: () => Date = () => NOW) {
    const repo = new MemoryRefundRepository();
    repo.attempts.set(`${attempt.paymentId}#1`, attempt);
    const { change, refund } = reserveRefund(capturedPayment(), { refundId: 're_1', amount: 3000 }, NOW);
    repo.payments.set(change.next.id, change.next);
    repo.refunds.set(refund.id, refund);
    const gateway = scriptedKbank(kbank);
    const deps: RefundSagaDeps = {
      repo,
      kbank: gateway,
      clock: { now },
      policy: { notAppliedAfterMs: 60_000, maxSends: 3, contention: virtualContention().policy },
    };
    const input = { paymentId: change.next.id, refundId: refund.id };
    return { repo, deps, input, gateway };
  }

  const refunded = (total: number) =>
    charge({ chargeId: 'chrg_test_1', state: 'Refund Sent', amount: 10000, refundedAmount: total });

  it('sends once, marked as sent first, and records KBank’s Refund Sent with its event', async () => {
    const { repo, deps, input, gateway } = setup({
      refundCharge: async (chargeId, amount, currency, reason) => {
        expect(repo.refunds.get('re_1')).toMatchObject({ kbankCalls: 1, chargeId: 'chrg_test_1' });
        expect([chargeId, amount, currency, reason]).toEqual([
          'chrg_test_1',
          3000,
          'THB',
          'requested_by_customer',
        ]);
        return refunded(3000);
      },
    });
    const result = await refundAtKbank(deps, input);
    expect(result.outcome).toBe('succeeded');
    expect(result.event).toMatchObject({
      type: 'refund.succeeded',
      sequence: 7,
      payment_id: input.paymentId,
    });
    expect(result.event?.event_id).toBe(`evt_${input.paymentId.slice(4)}_7`);
    expect(await repo.get(input.paymentId)).toMatchObject({ amountRefunded: 3000, amountRefundPending: 0 });
    // A retried step answers from the record, without calling KBank again.
    expect(await refundAtKbank(deps, input)).toEqual(result);
    expect(gateway.calls).toEqual(['refundCharge']);
  });

  it('records a refusal as failed and releases the reservation', async () => {
    const { repo, deps, input } = setup({
      refundCharge: async () => {
        throw new KbankRejected('no', 'refund_failed', 400);
      },
    });
    expect(await refundAtKbank(deps, input)).toMatchObject({
      outcome: 'failed',
      event: { type: 'refund.failed' },
    });
    expect(await repo.get(input.paymentId)).toMatchObject({ amountRefunded: 0, amountRefundPending: 0 });
    expect(repo.refunds.get('re_1')).toMatchObject({ status: 'failed', failure: { code: 'refund_failed' } });
  });

  it('leaves a lost answer to the inquiry, and never sends a refund that may have been sent', async () => {
    const { repo, deps, input, gateway } = setup({
      refundCharge: async () => {
        throw new KbankOutcomeUnknown('timeout');
      },
    });
    expect(await refundAtKbank(deps, input)).toEqual({ outcome: 'unknown', event: null });
    expect(repo.refunds.get('re_1')).toMatchObject({ status: 'pending', kbankCalls: 1 });
    expect(await refundAtKbank(deps, input)).toEqual({ outcome: 'unknown', event: null });
    expect(gateway.calls).toEqual(['refundCharge']);
  });

  it('sends again a refund left unknown once an inquiry found every request not carried out', async () => {
    const { repo, deps, input, gateway } = setup({ refundCharge: async () => refunded(3000) });
    const refund = repo.refunds.get('re_1');
    if (!refund) throw new Error('no refund');
    repo.refunds.set('re_1', { ...refund, status: 'unknown', kbankCalls: 1, notApplied: 1 });
    expect(await refundAtKbank(deps, input)).toMatchObject({ outcome: 'succeeded' });
    expect(gateway.calls).toEqual(['refundCharge']);
    expect(repo.refunds.get('re_1')).toMatchObject({ status: 'succeeded', kbankCalls: 2 });
  });

  it('leaves a refused resend to the inquiry: an earlier request may have been carried out late', async () => {
    let total = 0;
    const { repo, deps, input } = setup({
      refundCharge: async () => {
        throw new KbankRejected('more than refundable', 'amount_exceeds_refundable', 400);
      },
      inquireCharge: async () => refunded(total),
    });
    const refund = repo.refunds.get('re_1');
    if (!refund) throw new Error('no refund');
    repo.refunds.set('re_1', { ...refund, kbankCalls: 1, notApplied: 1, chargeId: 'chrg_test_1' });
    expect(await refundAtKbank(deps, input)).toEqual({ outcome: 'unknown', event: null });
    expect(repo.refunds.get('re_1')).toMatchObject({ status: 'pending', kbankCalls: 2 });
    expect((await repo.listAudit(input.paymentId, { limit: 100 })).entries.at(-1)).toMatchObject({
      type: 'refund.resend_refused',
      detail: { kbankCode: 'amount_exceeds_refundable', sends: 2 },
    });
    // KBank's total shows the first request applied: succeeded, not failed.
    total = 3000;
    expect(await inquireRefund(deps, input)).toMatchObject({ outcome: 'succeeded' });
    expect(await repo.get(input.paymentId)).toMatchObject({ amountRefunded: 3000, amountRefundPending: 0 });
  });

  it('takes the sent mark back when KBank was not reached, so the retry may send', async () => {
    const { repo, deps, input } = setup({
      refundCharge: async () => {
        throw new KbankUnavailable('ECONNREFUSED');
      },
    });
    await expect(refundAtKbank(deps, input)).rejects.toBeInstanceOf(KbankUnavailable);
    expect(repo.refunds.get('re_1')).toMatchObject({ status: 'pending', kbankCalls: 0 });
  });

  async function sent(kbank: Partial<KbankGateway>, now?: () => Date) {
    const context = setup(
      { ...kbank, refundCharge: async () => Promise.reject(new KbankOutcomeUnknown('timeout')) },
      now,
    );
    await refundAtKbank(context.deps, context.input);
    return context;
  }

  it('inquires: a refunded total that includes the refund means succeeded', async () => {
    const { repo, deps, input } = await sent({ inquireCharge: async () => refunded(3000) });
    expect(await inquireRefund(deps, input)).toMatchObject({ outcome: 'succeeded' });
    expect(repo.refunds.get('re_1')?.status).toBe('succeeded');
  });

  it('inquires: not applied long after sending is sent again, up to 3 requests, then failed', async () => {
    let now = NOW;
    const { repo, deps, input, gateway } = await sent(
      { inquireCharge: async () => charge({ chargeId: 'chrg_test_1', state: 'Settled', refundedAmount: 0 }) },
      () => now,
    );
    // Not applied yet, but KBank may still be working on it: ask again later, never send again.
    await expect(inquireRefund(deps, input)).rejects.toBeInstanceOf(OutcomeStillUnknown);
    for (const sends of [1, 2]) {
      now = new Date(now.getTime() + 61_000);
      expect(await inquireRefund(deps, input)).toEqual({ outcome: 'resend', event: null });
      expect(repo.refunds.get('re_1')).toMatchObject({
        status: 'pending',
        kbankCalls: sends,
        notApplied: sends,
      });
      expect(repo.audit.at(-1)).toMatchObject({
        type: 'refund.not_applied',
        detail: { refundId: 're_1', sends, chargeRefunded: 0 },
      });
      expect(await refundAtKbank(deps, input)).toEqual({ outcome: 'unknown', event: null });
      expect(repo.refunds.get('re_1')).toMatchObject({ kbankCalls: sends + 1, sentAt: now.toISOString() });
      // A retried RefundAtKbank never sends the new request twice.
      expect(await refundAtKbank(deps, input)).toEqual({ outcome: 'unknown', event: null });
    }
    expect(gateway.calls.filter((call) => call === 'refundCharge')).toHaveLength(3);
    now = new Date(now.getTime() + 61_000);
    expect(await inquireRefund(deps, input)).toMatchObject({ outcome: 'failed' });
    expect(repo.refunds.get('re_1')).toMatchObject({
      status: 'failed',
      kbankCalls: 3,
      failure: { code: 'refund_not_applied' },
    });
    expect((await repo.get(input.paymentId))?.amountRefundPending).toBe(0);
  });

  it('inquires: a resent refund applied at KBank is succeeded, with no further request', async () => {
    let now = NOW;
    let refundedTotal = 0;
    const { repo, deps, input, gateway } = await sent(
      {
        inquireCharge: async () =>
          charge({ chargeId: 'chrg_test_1', state: 'Settled', refundedAmount: refundedTotal }),
      },
      () => now,
    );
    now = new Date(now.getTime() + 61_000);
    expect(await inquireRefund(deps, input)).toEqual({ outcome: 'resend', event: null });
    await refundAtKbank(deps, input);
    refundedTotal = 3000;
    expect(await inquireRefund(deps, input)).toMatchObject({ outcome: 'succeeded' });
    expect(repo.refunds.get('re_1')).toMatchObject({ status: 'succeeded', kbankCalls: 2 });
    expect(gateway.calls.filter((call) => call === 'refundCharge')).toHaveLength(2);
  });

  it('inquires: an unexplained total, or none at all, is still unknown', async () => {
    for (const answer of [refunded(1234), charge({ chargeId: 'chrg_test_1', state: 'Refund Sent' }), null]) {
      const { deps, input } = await sent({ inquireCharge: async () => answer });
      await expect(inquireRefund(deps, input)).rejects.toBeInstanceOf(OutcomeStillUnknown);
    }
  });

  it('fails a refund that was never sent, releasing its reservation, without asking KBank', async () => {
    const { repo, deps, input, gateway } = setup({});
    expect(await inquireRefund(deps, { ...input, error: { Error: 'KbankUnavailable' } })).toMatchObject({
      outcome: 'failed',
    });
    expect(repo.refunds.get('re_1')).toMatchObject({ failure: { code: 'processor_unavailable' } });
    expect(gateway.calls).toEqual([]);
  });

  it('holds the event of a refund the bus refused on its payment, once, the refund left as recorded', async () => {
    const { repo, deps, input } = setup({ refundCharge: async () => refunded(3000) });
    const done = await refundAtKbank(deps, input);
    expect(done).toMatchObject({ outcome: 'succeeded', event: { type: 'refund.succeeded' } });
    for (let i = 0; i < 2; i++) {
      expect(await refundUnresolved(deps, { ...input, undelivered: done.event })).toEqual({
        outcome: 'held',
        event: null,
      });
    }
    expect((await repo.get(input.paymentId))?.undeliveredEvents).toEqual([done.event]);
    expect(repo.types(input.paymentId).filter((type) => type === 'event.undelivered')).toHaveLength(1);
    expect(repo.refunds.get('re_1')?.status).toBe('succeeded');
  });

  it('records an unresolved refund as unknown, its reservation held', async () => {
    const { repo, deps, input } = await sent({});
    expect(await refundUnresolved(deps, { ...input, error: { Error: 'OutcomeStillUnknown' } })).toEqual({
      outcome: 'unknown',
      event: null,
    });
    expect(repo.refunds.get('re_1')?.status).toBe('unknown');
    expect(await repo.get(input.paymentId)).toMatchObject({ amountRefundPending: 3000, amountRefunded: 0 });
    expect(repo.types(input.paymentId).at(-1)).toBe('refund.outcome_unknown');
    // Idempotent: a retried step writes nothing more.
    await refundUnresolved(deps, input);
    expect(repo.types(input.paymentId).filter((type) => type === 'refund.outcome_unknown')).toHaveLength(1);
  });
});
