/**
 * Use case: the daily KBank reconciliation. KBank's transaction list for one business day (Asia/Bangkok)
 * is compared with our payments, attempts and refunds:
 * - matched: KBank and we agree on whether money is held, and on the captured and refunded totals;
 * - in flight: the payment is still open (the sweep's and the saga's business, not ours);
 * - orphan: KBank holds a charge none of our attempts recorded. Policy: a charge whose reference_order
 *   names one of our payments is attached to it (a note on its trail) and then treated like any of its
 *   charges; one that names no payment of ours cannot be ours to keep (every charge we make is written
 *   ahead under its payment) and its money is given back;
 * - state mismatch: KBank holds money for a payment that ended without it (failed, expired, canceled, or an
 *   earlier attempt): the money is given back as a late payment is (shared marker: never twice), or we
 *   recorded money KBank does not hold: reported;
 * - amount mismatch: captured or refunded totals differ (no refund of that payment in flight): reported.
 *   Only KBank's part is compared: a split payment's points and the points its refunds gave back are
 *   ours alone (flows/points-tender.ts kbankTotals), and a points payment has no KBank charge at all;
 * - missing: an attempt of that day holds money by our records but KBank's list (and an inquiry) has none:
 *   reported.
 * Each run is stored with its counts and exceptions and announced (`reconciliation.completed`, one
 * `reconciliation.exception` per exception); what is only reported is for an operator (alarmed).
 */
import type { ReconciliationException } from '../../../../schemas/events.js';
import { chargeVerdict } from '../../flows/customer-charges.js';
import { reverseLatePayment } from '../../flows/late-payments.js';
import { recordNote } from '../../flows/notes.js';
import { kbankTotals } from '../../flows/points-tender.js';
import { ulid } from '../../ids.js';
import { type Attempt, isTerminal, type Payment, parseReferenceOrder } from '../../payment.js';
import type {
  Clock,
  EventPublisher,
  Kbank,
  KbankCharge,
  KbankQrCharge,
  KbankTransaction,
} from '../../ports.js';
import {
  MAX_STORED_EXCEPTIONS,
  type PaymentRepository,
  type ReconciliationRun,
  type ReconciliationStore,
} from '../../repository.js';

export interface ReconcileDeps {
  repo: PaymentRepository & ReconciliationStore;
  kbank: Kbank;
  events: EventPublisher;
  clock: Clock;
  /** What to do with a charge that names no payment of ours: give it back (default) or only report it. */
  unownedOrphans?: 'reverse' | 'report';
}

export type ReconcileCounts = Record<
  'transactions' | 'refunds' | 'matched' | 'in_flight' | ReconciliationException['kind'],
  number
>;

export async function reconcileKbank(deps: ReconcileDeps, date: string): Promise<ReconciliationRun> {
  const startedAt = deps.clock.now().toISOString();
  const transactions = await deps.kbank.listTransactions(date);
  const counts: ReconcileCounts = {
    transactions: transactions.length,
    refunds: 0,
    matched: 0,
    in_flight: 0,
    orphan: 0,
    state_mismatch: 0,
    amount_mismatch: 0,
    missing: 0,
  };
  const exceptions: ReconciliationException[] = [];
  const found = (exception: ReconciliationException) => {
    counts[exception.kind]++;
    exceptions.push(exception);
  };
  const listed = new Set<string>();

  for (const transaction of transactions) {
    if (transaction.kind === 'refund') {
      // Refunds are compared through their charge's refunded total, below.
      counts.refunds++;
      continue;
    }
    listed.add(transaction.chargeId);
    listed.add(transaction.referenceOrder);
    const verdict = await reconcileCharge(deps, transaction);
    if (verdict === 'matched' || verdict === 'in_flight') counts[verdict]++;
    else found(verdict);
  }

  for (const attempt of await deps.repo.listAttemptsOfDay(date)) {
    if (listed.has(attempt.referenceOrder) || (attempt.chargeId && listed.has(attempt.chargeId))) continue;
    const missing = await missingMoney(deps, attempt);
    if (missing) found(missing);
  }

  const run: ReconciliationRun = {
    id: `rec_${ulid(deps.clock.now().getTime())}`,
    date,
    startedAt,
    finishedAt: deps.clock.now().toISOString(),
    counts,
    exceptions: exceptions.slice(0, MAX_STORED_EXCEPTIONS),
  };
  await deps.repo.saveRun(run);
  await announce(deps, run, exceptions);
  return run;
}

async function reconcileCharge(
  deps: ReconcileDeps,
  transaction: KbankTransaction,
): Promise<'matched' | 'in_flight' | ReconciliationException> {
  const charge = asCharge(transaction);
  const paid = moneyTaken(transaction);
  const held = paid && transaction.refundedAmount < transaction.amount;
  const ids = {
    charge_id: transaction.chargeId,
    reference_order: transaction.referenceOrder,
  };
  const target = parseReferenceOrder(transaction.referenceOrder);
  const payment = target ? await deps.repo.get(target.paymentId) : null;

  if (!target || !payment) {
    if (!held) return 'matched';
    if ((deps.unownedOrphans ?? 'reverse') === 'report') {
      return { kind: 'orphan', ...ids, payment_id: null, action: 'reported', detail: 'no payment of ours' };
    }
    const via = await reverseUnowned(deps.kbank, transaction, charge);
    return {
      kind: 'orphan',
      ...ids,
      payment_id: null,
      action: 'reversed',
      detail: `no payment of ours; ${via}`,
    };
  }

  const attempt = await deps.repo.getAttempt(payment.id, target.no);
  const known =
    (attempt?.chargeId !== undefined && attempt.chargeId === transaction.chargeId) ||
    (attempt?.orderId !== undefined && attempt.orderId === transaction.orderId);
  let attached = false;
  if (!known) {
    // Ours by its reference, but no attempt recorded this charge (its answer was lost): put it on the trail.
    await recordNote(deps, payment, {
      type: 'reconciliation.orphan_attached',
      actor: 'operator',
      detail: {
        chargeId: transaction.chargeId,
        referenceOrder: transaction.referenceOrder,
        kbankState: transaction.state,
        amount: transaction.amount,
      },
    });
    attached = true;
  }
  if (!isTerminal(payment.status)) {
    if (!attached) return 'in_flight';
    // The saga (or the sweep restarting it) inquires by reference_order and records the charge itself.
    await deps.repo.markDue(payment.id, deps.clock.now().toISOString());
    return {
      kind: 'orphan',
      ...ids,
      payment_id: payment.id,
      action: 'handed_to_sweep',
      detail: 'payment open',
    };
  }

  const current = target.no === payment.attemptCount && payment.status === 'succeeded';
  if (current) {
    if (!paid) {
      return {
        kind: 'state_mismatch',
        ...ids,
        payment_id: payment.id,
        action: 'reported',
        detail: `we recorded ${kbankTotals(payment).captured} captured at KBank, KBank's charge is ${transaction.state}`,
      };
    }
    const mismatch = amountMismatch(payment, transaction);
    if (mismatch)
      return {
        kind: 'amount_mismatch',
        ...ids,
        payment_id: payment.id,
        action: 'reported',
        detail: mismatch,
      };
    return attached
      ? {
          kind: 'orphan',
          ...ids,
          payment_id: payment.id,
          action: 'attached',
          detail: 'the payment accounts for it',
        }
      : 'matched';
  }
  if (!held) {
    return attached
      ? { kind: 'orphan', ...ids, payment_id: payment.id, action: 'attached', detail: 'no money held' }
      : 'matched';
  }
  // Money held for a payment that does not want it (ended without it, or an earlier attempt).
  const reversed = await reverseLatePayment(deps, payment, charge);
  return {
    kind: attached ? 'orphan' : 'state_mismatch',
    ...ids,
    payment_id: payment.id,
    action: reversed ? 'reversed' : 'reported',
    detail: reversed
      ? `payment ${payment.status} without this charge: money given back`
      : 'a reversal was already sent, yet KBank still shows the money held',
  };
}

/** KBank took the money (it may have given part or all of it back since: `refundedAmount`). */
function moneyTaken(transaction: KbankTransaction): boolean {
  const taken = ['Authorized', 'Settled', 'Refund Sent'].includes(transaction.state);
  return taken && (transaction.status ?? 'success') === 'success';
}

/**
 * Our captured and refunded totals at KBank (the points of a split left out) against KBank's, unless a
 * refund of the payment is still open.
 */
export function amountMismatch(
  payment: Pick<Payment, 'amountCaptured' | 'amountRefunded' | 'amountRefundPending' | 'points'>,
  transaction: Pick<KbankTransaction, 'state' | 'amount' | 'refundedAmount'>,
): string | null {
  const ours = kbankTotals(payment);
  const capturedOk =
    transaction.state === 'Authorized'
      ? ours.captured === transaction.amount
      : ours.captured <= transaction.amount;
  if (!capturedOk) return `captured ${ours.captured}, KBank ${transaction.state} ${transaction.amount}`;
  if ((payment.amountRefundPending ?? 0) > 0) return null;
  if (ours.refunded !== transaction.refundedAmount) {
    return `refunded ${ours.refunded}, KBank ${transaction.refundedAmount}`;
  }
  return null;
}

/** An attempt of the day that holds money by our records but is not in KBank's list: ask KBank itself. */
async function missingMoney(deps: ReconcileDeps, attempt: Attempt): Promise<ReconciliationException | null> {
  const payment = await deps.repo.get(attempt.paymentId);
  if (payment?.status !== 'succeeded' || attempt.no !== payment.attemptCount) return null;
  // Paid with points only: nothing of it is at KBank.
  if (kbankTotals(payment).captured === 0) return null;
  const qr = payment.paymentMethod.type === 'qr_promptpay' || payment.paymentMethod.type === 'wechat_pay';
  const charge = qr
    ? attempt.orderId || attempt.chargeId
      ? await deps.kbank.inquireQr(
          attempt.chargeId ? { chargeId: attempt.chargeId } : { orderId: attempt.orderId ?? '' },
        )
      : null
    : await deps.kbank.inquireCharge(
        attempt.chargeId ? { chargeId: attempt.chargeId } : { referenceOrder: attempt.referenceOrder },
      );
  // Listed on another day (a charge made around midnight): KBank has it.
  if (charge && chargeVerdict(charge) === 'paid') return null;
  return {
    kind: 'missing',
    charge_id: attempt.chargeId ?? null,
    reference_order: attempt.referenceOrder,
    payment_id: payment.id,
    action: 'reported',
    detail: `we recorded ${kbankTotals(payment).captured} captured at KBank; KBank ${charge ? `shows ${charge.state}` : 'has no such charge'}`,
  };
}

/** Gives back the money of a charge that names no payment of ours, by how KBank took it. */
async function reverseUnowned(
  kbank: Kbank,
  transaction: KbankTransaction,
  charge: KbankQrCharge,
): Promise<string> {
  const reason = 'reconciliation_orphan';
  const left = transaction.amount - transaction.refundedAmount;
  if (transaction.sourceType === 'qr' || transaction.sourceType === 'wechat') {
    await kbank.refundQr(charge.chargeId, left, charge.currency, reason);
    return 'refunded';
  }
  if (transaction.state === 'Settled') {
    await kbank.refundCharge(charge.chargeId, left, charge.currency, reason);
    return 'refunded';
  }
  await kbank.voidCharge(charge.chargeId, reason);
  return 'voided';
}

function asCharge(transaction: KbankTransaction): KbankQrCharge & KbankCharge {
  return {
    chargeId: transaction.chargeId,
    referenceOrder: transaction.referenceOrder,
    status: transaction.status ?? 'success',
    state: transaction.state as KbankCharge['state'],
    amount: transaction.amount,
    currency: transaction.currency,
    refundedAmount: transaction.refundedAmount,
    ...(transaction.orderId ? { orderId: transaction.orderId } : {}),
  };
}

async function announce(
  deps: ReconcileDeps,
  run: ReconciliationRun,
  exceptions: ReconciliationException[],
): Promise<void> {
  const base = {
    version: '1',
    occurred_at: run.finishedAt,
    date: run.date,
    run_id: run.id,
    counts: run.counts,
  };
  const events = [
    {
      type: 'reconciliation.completed',
      detail: { ...base, event_id: `evt_${run.id}`, type: 'reconciliation.completed' },
    },
    ...exceptions.map((exception, i) => ({
      type: 'reconciliation.exception',
      detail: { ...base, event_id: `evt_${run.id}_${i + 1}`, type: 'reconciliation.exception', exception },
    })),
  ];
  await deps.events.publish(events);
}
