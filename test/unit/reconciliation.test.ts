/** The janitor's pure rules (deadlines, the restart schedule, run names) and where Reenter hands over. */
import { DEFAULT_POLICY, type SagaDeps } from '../../functions/core/flows/payment-step.js';
import { holdEvent, type Payment, releaseEvent } from '../../functions/core/payment.js';
import {
  bangkokDay,
  executionName,
  nextSweep,
  paymentDueAt,
  refundDueAt,
  type SweepPolicy,
} from '../../functions/core/reconciliation.js';
import type { Refund } from '../../functions/core/refund.js';
import { reenter } from '../../functions/core/use-cases/payment-saga/reenter.js';
import { eventDetail } from '../../functions/core/views.js';
import { fixedClock, MemoryRepository, scriptedKbank } from '../support/fakes.js';
import { aPayment } from '../support/payments.js';

const POLICY: SweepPolicy = { graceSeconds: 300, backoffSeconds: [60, 600] };
const NOW = '2026-12-01T10:00:00.000Z';

function payment(overrides: Partial<Payment> = {}): Payment {
  const { payment: fresh } = aPayment({ id: 'pay_01JD3Q4V7M0000000000000000' }, new Date(NOW));
  return { ...fresh, ...overrides };
}

describe('deadlines', () => {
  it('gives a processing payment the grace period after its last change', () => {
    expect(paymentDueAt(payment(), POLICY)).toBe('2026-12-01T10:05:00.000Z');
  });

  it('waits for the end of a wait that has one: the customer window, the capture window', () => {
    expect(
      paymentDueAt(
        payment({
          status: 'requires_action',
          nextAction: { type: 'display_qr', qrPayload: 'x', expiresAt: '2026-12-01T10:10:00.000Z' },
        }),
        POLICY,
      ),
    ).toBe('2026-12-01T10:15:00.000Z');
    expect(
      paymentDueAt(
        payment({ status: 'requires_capture', captureBefore: '2026-12-07T22:00:00.000Z' }),
        POLICY,
      ),
    ).toBe('2026-12-07T22:05:00.000Z');
  });

  it('is never before the sweep said it would look again, and absent once terminal or unresolved', () => {
    const later = { restarts: 1, sweeps: 1, nextAt: '2026-12-01T11:00:00.000Z' };
    expect(paymentDueAt(payment({ reconciliation: later }), POLICY)).toBe('2026-12-01T11:00:00.000Z');
    expect(paymentDueAt(payment({ status: 'succeeded' }), POLICY)).toBeNull();
    expect(paymentDueAt(payment({ reconciliation: { ...later, unresolvedAt: NOW } }), POLICY)).toBeNull();
    const refund = { status: 'pending', updatedAt: NOW } as Refund;
    expect(refundDueAt(refund, POLICY)).toBe('2026-12-01T10:05:00.000Z');
    expect(refundDueAt({ ...refund, status: 'failed' }, POLICY)).toBeNull();
  });
});

describe('events held on a payment', () => {
  it('make it due at once, terminal or not, until it is given up', () => {
    const held = [eventDetail('payment.captured', payment({ status: 'succeeded', seq: 5 }))];
    expect(paymentDueAt(payment({ status: 'succeeded', undeliveredEvents: held }), POLICY)).toBe(NOW);
    expect(paymentDueAt(payment({ undeliveredEvents: held }), POLICY)).toBe(NOW);
    const backedOff = { restarts: 1, sweeps: 1, nextAt: '2026-12-01T10:01:00.000Z' };
    expect(
      paymentDueAt(
        payment({ status: 'succeeded', undeliveredEvents: held, reconciliation: backedOff }),
        POLICY,
      ),
    ).toBe('2026-12-01T10:01:00.000Z');
    expect(
      paymentDueAt(
        payment({
          status: 'succeeded',
          undeliveredEvents: held,
          reconciliation: { ...backedOff, unresolvedAt: NOW },
        }),
        POLICY,
      ),
    ).toBeNull();
  });

  it('are kept once each, in sequence order, and released one by one', () => {
    const at = (seq: number) => eventDetail('payment.authorized', payment({ seq }));
    const held = holdEvent(holdEvent(holdEvent(undefined, at(7)), at(4)), at(7));
    expect(held.map((event) => event.sequence)).toEqual([4, 7]);
    expect(releaseEvent(held, at(4).event_id)?.map((event) => event.sequence)).toEqual([7]);
    expect(releaseEvent([at(7)], at(7).event_id)).toBeUndefined();
  });
});

describe('the restart schedule', () => {
  it('restarts under new names on a growing wait, looks again at a running saga, then gives up', () => {
    const now = new Date(NOW);
    const first = nextSweep(undefined, false, now, POLICY);
    expect(first).toEqual({
      kind: 'restart',
      reconciliation: { restarts: 1, sweeps: 1, nextAt: '2026-12-01T10:01:00.000Z' },
    });
    if (first.kind === 'give_up') throw new Error('unexpected');
    const second = nextSweep(first.reconciliation, true, now, POLICY);
    expect(second).toEqual({
      kind: 'look_again',
      reconciliation: { restarts: 1, sweeps: 2, nextAt: '2026-12-01T10:10:00.000Z' },
    });
    if (second.kind === 'give_up') throw new Error('unexpected');
    expect(nextSweep(second.reconciliation, false, now, POLICY)).toEqual({ kind: 'give_up' });
    expect(executionName('pay_X', 0)).toBe('pay_X');
    expect(executionName('pay_X', 2)).toBe('pay_X-r2');
  });

  it("cuts KBank's business day at midnight in Bangkok", () => {
    expect(bangkokDay('2026-12-01T16:59:59.999Z')).toBe('2026-12-01');
    expect(bangkokDay('2026-12-01T17:00:00.000Z')).toBe('2026-12-02');
  });
});

describe('Reenter', () => {
  function setup(stored: Payment) {
    const repo = new MemoryRepository();
    repo.payments.set(stored.id, stored);
    const deps = {
      repo,
      kbank: scriptedKbank({}),
      clock: fixedClock(NOW),
      policy: DEFAULT_POLICY,
    } as unknown as SagaDeps;
    return { repo, deps };
  }

  async function route(stored: Payment) {
    return reenter(setup(stored).deps, { paymentId: stored.id });
  }

  it('hands over where the record says, without calling KBank', async () => {
    expect((await route(payment())).outcome).toBe('verify');
    expect((await route(payment({ attemptCount: 1 }))).outcome).toBe('inquire');
    expect((await route(payment({ status: 'unknown', attemptCount: 1 }))).outcome).toBe('inquire');
    expect((await route(payment({ status: 'requires_action', attemptCount: 1 }))).outcome).toBe(
      'resolve_action',
    );
    expect((await route(payment({ status: 'succeeded' }))).outcome).toBe('done');
    const parked = await route(
      payment({ status: 'requires_capture', attemptCount: 1, captureBefore: '2026-12-01T10:10:00.000Z' }),
    );
    expect(parked).toMatchObject({ outcome: 'await_capture', remainingSeconds: 600 });
    const captureRequested = await route(
      payment({ attemptCount: 1, captureBefore: '2026-12-01T09:00:00.000Z', requestKey: 'k1' }),
    );
    // Past the window: AwaitCapture times out at once and the authorization is voided.
    expect(captureRequested).toMatchObject({ outcome: 'await_capture', remainingSeconds: 1 });
    const canceled = await route(
      payment({ attemptCount: 1, cancellationReason: 'requested_by_merchant', requestKey: 'k2' }),
    );
    expect(canceled.outcome).toBe('cancel_action');
  });

  it('holds the event a run handed over, once, and makes an open payment with nothing to hold due', async () => {
    const stored = payment({ status: 'succeeded', seq: 5 });
    const { repo, deps } = setup(stored);
    const captured = eventDetail('payment.captured', stored);

    expect(await reenter(deps, { paymentId: stored.id, undelivered: captured })).toEqual({
      outcome: 'held',
      event: null,
      waitSeconds: null,
      remainingSeconds: null,
    });
    await reenter(deps, { paymentId: stored.id, undelivered: captured });
    expect((await repo.get(stored.id))?.undeliveredEvents).toEqual([captured]);
    expect(repo.types(stored.id)).toEqual(['event.undelivered']);
    expect(repo.dueNow).toEqual([]);

    await reenter(deps, { paymentId: stored.id, undelivered: null });
    expect(repo.dueNow).toEqual([stored.id]);
  });

  it('hands over a payment the sweep restarted before at its next restart time, not sooner', async () => {
    const nextAt = new Date(Date.now() + 300_000).toISOString();
    const stored = payment({
      status: 'processing',
      seq: 5,
      reconciliation: { restarts: 1, sweeps: 1, nextAt },
    });
    const { repo, deps } = setup(stored);
    await reenter(deps, { paymentId: stored.id, undelivered: null });
    expect(repo.dueAt.get(stored.id)).toBe(nextAt);
  });

  it('publishes the held events first, oldest first, releasing each, then routes from the record', async () => {
    const authorized = eventDetail('payment.authorized', payment({ seq: 4 }));
    const captured = eventDetail('payment.captured', payment({ status: 'succeeded', seq: 6 }));
    const stored = payment({ status: 'succeeded', seq: 8, undeliveredEvents: [authorized, captured] });
    const { repo, deps } = setup(stored);

    expect(await reenter(deps, { paymentId: stored.id })).toMatchObject({
      outcome: 'redeliver',
      event: authorized,
    });
    expect(await reenter(deps, { paymentId: stored.id, delivered: authorized })).toMatchObject({
      outcome: 'redeliver',
      event: captured,
    });
    expect(await reenter(deps, { paymentId: stored.id, delivered: captured })).toMatchObject({
      outcome: 'done',
      event: null,
    });
    expect((await repo.get(stored.id))?.undeliveredEvents).toBeUndefined();
    expect(repo.types(stored.id)).toEqual(['event.redelivered', 'event.redelivered']);
  });

  it("goes on from the step after the redelivered event's own, never back to publishing it again", async () => {
    const authorizedPayment = payment({ attemptCount: 1, amountAuthorized: 500, seq: 4 });
    const authorized = eventDetail('payment.authorized', authorizedPayment);
    const { repo, deps } = setup({ ...authorizedPayment, undeliveredEvents: [authorized] });
    repo.attempts.set(`${authorizedPayment.id}#1`, {
      paymentId: authorizedPayment.id,
      no: 1,
      referenceOrder: `${authorizedPayment.id}-1`,
      state: 'authorized',
      chargeCalls: 1,
      chargeId: 'chrg_1',
      createdAt: NOW,
      updatedAt: NOW,
    });
    expect((await reenter(deps, { paymentId: authorizedPayment.id, delivered: authorized })).outcome).toBe(
      'choose_capture',
    );
    // Without the redelivery, the record alone sends it to the inquiry, as before.
    expect((await route(authorizedPayment)).outcome).toBe('inquire');

    const requestedPayment = payment({
      attemptCount: 1,
      amountAuthorized: 500,
      captureBefore: '2026-12-07T10:00:00.000Z',
      requestKey: 'k1',
      amountToCapture: 400,
      seq: 6,
    });
    const requested = eventDetail('payment.capture_requested', requestedPayment);
    const second = setup({ ...requestedPayment, undeliveredEvents: [requested] });
    expect(
      (await reenter(second.deps, { paymentId: requestedPayment.id, delivered: requested })).outcome,
    ).toBe('capture');
    expect((await route(requestedPayment)).outcome).toBe('await_capture');
  });
});
