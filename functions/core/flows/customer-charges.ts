/**
 * The KBank charge library for payments the customer completes away from us (a Thai QR or WeChat Pay QR to
 * scan, an Alipay page, a 3-D Secure challenge): opening the order or charge, KBank's view of it, ending it
 * before the customer pays, and giving back money taken for a payment that no longer wants it. The payment
 * waits `requires_action` meanwhile (requires-action.ts), and only an inquiry at KBank decides the outcome.
 */

import { KbankOutcomeUnknown, KbankRejected } from '../errors.js';
import { type Attempt, isQrMethod, type NextAction, type Payment } from '../payment.js';
import type { Kbank, KbankCharge, KbankQrCharge, KbankQrSourceType } from '../ports.js';
import { parseEmvQr } from '../promptpay.js';
import type { CostVerification } from '../saga-contract.js';
import { DEFAULT_QR_WINDOW_SECONDS } from '../time-windows.js';
import { holdsCharge, recordCallFailure, writeAttemptAhead } from './attempts.js';
import { record, result, type SagaDeps, type StepResult } from './payment-step.js';
import { kbankAmount } from './points-tender.js';
import { recordRequiresAction } from './requires-action.js';

/** What a charge's KBank state means for a payment waiting on the customer. */
export type ChargeVerdict = 'paid' | 'failed' | 'expired' | 'pending';

export function chargeVerdict(charge: Pick<KbankQrCharge, 'status' | 'state'>): ChargeVerdict {
  switch (charge.state) {
    case 'Authorized':
    case 'Settled':
      return charge.status === 'success' ? 'paid' : 'failed';
    case 'Initialize':
    case 'Pre-Authorized':
      return 'pending';
    case 'Expired':
      return 'expired';
    default:
      // Declined, Voided, Reversed, Refund Sent: no money is held for this payment.
      return 'failed';
  }
}

/** When the customer's time runs out: our window, or KBank's own expiry if that comes first. */
function actionExpiry(deps: SagaDeps, payment: Payment, kbankExpiresAt?: string): string {
  const window = payment.actionWindowSeconds ?? DEFAULT_QR_WINDOW_SECONDS;
  const ours = deps.clock.now().getTime() + window * 1000;
  const theirs = kbankExpiresAt ? Date.parse(kbankExpiresAt) : Number.NaN;
  return new Date(Number.isNaN(theirs) ? ours : Math.min(ours, theirs)).toISOString();
}

const QR_SOURCE: Record<string, KbankQrSourceType> = { qr_promptpay: 'qr', wechat_pay: 'wechat' };

/**
 * Authorize for QR and wallet methods: write the attempt ahead, open the QR order (or the Alipay charge)
 * at KBank, and record `requires_action` with what the customer must do. An order whose creation we
 * did not see answered was never shown to anyone, so it can never be paid: it is abandoned (it expires
 * at KBank) and the next try opens a new one under the next reference.
 */
export async function authorizeWithCustomer(
  deps: SagaDeps,
  payment: Payment,
  attempt: Attempt | null,
  verification?: CostVerification | null,
): Promise<StepResult<'retry' | 'declined' | 'requires_action' | 'unknown'>> {
  if (attempt && (attempt.state === 'pending' || attempt.state === 'unknown')) {
    await record(
      deps,
      payment,
      { type: 'authorization.abandoned', detail: { referenceOrder: attempt.referenceOrder } },
      { ...attempt, state: 'abandoned' },
    );
    return result('retry', null, payment);
  }
  const resend = attempt?.state === 'not_found';
  const no = resend && attempt ? attempt.no : payment.attemptCount + 1;
  if (no > deps.policy.maxChargeCalls || (attempt && attempt.chargeCalls >= deps.policy.maxChargeCalls)) {
    const failed = await record(deps, payment, {
      type: 'payment.failed',
      status: 'failed',
      patch: {
        failure: { code: 'processor_unavailable', message: 'The payment processor could not be reached.' },
      },
      detail: { attempts: payment.attemptCount },
    });
    return result('declined', 'payment.failed', failed);
  }
  const { requested, sending } = await writeAttemptAhead(
    deps,
    payment,
    resend ? attempt : null,
    { method: payment.paymentMethod.type },
    verification,
  );
  try {
    const opened = await openAtKbank(deps.kbank, requested, sending.referenceOrder);
    return await recordRequiresAction(
      deps,
      requested,
      sending,
      { ...opened.action, expiresAt: actionExpiry(deps, requested, opened.kbankExpiresAt) } as NextAction,
      opened.seen,
    );
  } catch (error) {
    if (!(error instanceof KbankOutcomeUnknown || holdsCharge(error))) {
      return recordCallFailure(deps, requested, sending, error);
    }
    // Never shown to the customer, so never payable: abandon it; the next try opens a new order.
    const abandoned = await record(
      deps,
      requested,
      {
        type: 'authorization.abandoned',
        detail: { referenceOrder: sending.referenceOrder, reason: error.message },
      },
      { ...sending, state: 'abandoned' },
    );
    return result('retry', null, abandoned);
  }
}

interface Opened {
  action: { type: 'display_qr'; qrPayload: string } | { type: 'redirect_to_url'; url: string };
  kbankExpiresAt?: string;
  seen: { chargeId?: string; orderId?: string; kbankState?: string };
}

async function openAtKbank(kbank: Kbank, payment: Payment, referenceOrder: string): Promise<Opened> {
  const description = payment.description ?? `Order ${payment.order.id}`;
  const request = { amount: kbankAmount(payment), currency: payment.currency, referenceOrder, description };
  if (payment.paymentMethod.type === 'alipay') {
    const charge = await kbank.chargeAlipay(request);
    if (!charge.redirectUrl) throw new KbankOutcomeUnknown('Alipay charge without redirect_url');
    return {
      action: { type: 'redirect_to_url', url: charge.redirectUrl },
      seen: { chargeId: charge.chargeId, kbankState: charge.state },
    };
  }
  const sourceType = QR_SOURCE[payment.paymentMethod.type] ?? 'qr';
  const order = await kbank.createQrOrder({ ...request, sourceType });
  const qr = order.qrPayload
    ? { qrPayload: order.qrPayload, expiresAt: order.expiresAt, chargeId: undefined }
    : await kbank.createQr({ ...request, orderId: order.orderId, sourceType });
  if (sourceType === 'qr') requireAmount(qr.qrPayload, kbankAmount(payment));
  const seen: Opened['seen'] = { orderId: order.orderId };
  if (qr.chargeId) seen.chargeId = qr.chargeId;
  const opened: Opened = { action: { type: 'display_qr', qrPayload: qr.qrPayload }, seen };
  const expiresAt = qr.expiresAt ?? order.expiresAt;
  if (expiresAt) opened.kbankExpiresAt = expiresAt;
  return opened;
}

/** A Thai QR must ask the customer for exactly the payment's amount: never show one that does not. */
function requireAmount(qrPayload: string, amount: number): void {
  let shown: number | undefined;
  try {
    shown = parseEmvQr(qrPayload).amountMinor;
  } catch {
    shown = undefined;
  }
  if (shown !== amount) {
    throw new KbankRejected(
      `KBank's QR asks for ${shown ?? 'no valid amount'}, not ${amount}`,
      'qr_amount_mismatch',
      502,
    );
  }
}

/**
 * KBank's current view of the attempt's charge: QR and WeChat orders under /qr, Alipay and cards under
 * /card. Null when KBank has no record of it.
 */
export async function inquireAttempt(
  kbank: Kbank,
  payment: Payment,
  attempt: Attempt,
  chargeId?: string,
): Promise<KbankQrCharge | KbankCharge | null> {
  const id = chargeId ?? attempt.chargeId;
  if (isQrMethod(payment.paymentMethod)) {
    if (id) return kbank.inquireQr({ chargeId: id });
    return attempt.orderId ? kbank.inquireQr({ orderId: attempt.orderId }) : null;
  }
  return kbank.inquireCharge(id ? { chargeId: id } : { referenceOrder: attempt.referenceOrder });
}

/**
 * Ends the customer's step at KBank before they pay: cancels the QR / WeChat order, or voids the Alipay or
 * 3-D Secure charge. Shared by the expiry and the merchant's cancel, which differ only in what they record.
 */
export function cancelAtKbank(
  kbank: Kbank,
  payment: Payment,
  attempt: Attempt,
  chargeId: string,
  reason: string,
): Promise<KbankQrCharge | KbankCharge> {
  return isQrMethod(payment.paymentMethod)
    ? kbank.cancelQr(attempt.orderId ?? chargeId, reason)
    : kbank.voidCharge(chargeId, reason);
}

/** Gives back money KBank took for a payment that no longer wants it (paid after it expired or ended). */
export async function reverseCharge(
  kbank: Kbank,
  payment: Payment,
  charge: KbankQrCharge | KbankCharge,
  reason: string,
): Promise<{ via: 'void' | 'refund'; state: string }> {
  if (isQrMethod(payment.paymentMethod)) {
    const refunded = await kbank.refundQr(charge.chargeId, charge.amount, charge.currency, reason);
    return { via: 'refund', state: refunded.state };
  }
  if (charge.state === 'Settled') {
    const refunded = await kbank.refundCharge(charge.chargeId, charge.amount, charge.currency, reason);
    return { via: 'refund', state: refunded.state };
  }
  const voided = await kbank.voidCharge(charge.chargeId, reason);
  return { via: 'void', state: voided.state };
}
