/** The simulator's records as KBank shows them: the charge and order objects, daily-list entries, and KBank's timestamps. */
import type { z } from 'zod';
import { toDecimalString } from '../../functions/core/money.js';
import type { kbankQrChargeSchema, kbankTransactionSchema } from '../../schemas/kbank.js';
import type { SimCharge, SimRefund } from './types.js';

const BANGKOK_OFFSET_MS = 7 * 60 * 60 * 1000;

/** The charge object, as inquiry, every operation and the notify show it. */
export function toWire(charge: SimCharge): z.input<typeof kbankQrChargeSchema> {
  return {
    id: charge.id,
    object: 'charge',
    // KBank shows 2 decimals whatever the currency.
    amount: toDecimalString(charge.amount, charge.currency, 2),
    currency: charge.currency,
    status: charge.status,
    transaction_state: charge.state,
    approval_code: charge.approvalCode ?? null,
    source: isCardCharge(charge)
      ? {
          id: charge.sourceId,
          brand: charge.brand,
          card_masking: charge.cardMasking,
          issuer_bank: 'KBANK SIMULATOR',
        }
      : { id: charge.sourceId, brand: charge.brand, card_masking: null, issuer_bank: null },
    created: charge.created,
    livemode: false,
    failure_code: charge.failureCode ?? null,
    failure_message: charge.failureMessage ?? null,
    redirect_url: charge.redirectUrl ?? null,
    reference_order: charge.referenceOrder,
    ref_1: charge.refs.ref_1 ?? null,
    ref_2: charge.refs.ref_2 ?? null,
    ref_3: charge.refs.ref_3 ?? null,
    metadata: charge.metadata ?? {},
    // [ours] KBank publishes no refund_info format: the refunded total is what our adapter reads.
    refund_info: { refunded_amount: toDecimalString(charge.refundedAmount, charge.currency, 2) },
    ...(charge.orderId ? { order_id: charge.orderId } : {}),
  };
}

export type TransactionWire = z.input<typeof kbankTransactionSchema>;

/** A charge on the daily transaction list [ours]. */
export function toTransactionWire(charge: SimCharge): TransactionWire {
  return {
    object: 'charge',
    id: charge.id,
    charge_id: charge.id,
    order_id: charge.orderId ?? null,
    reference_order: charge.referenceOrder,
    source_type: charge.sourceType ?? 'card',
    amount: toDecimalString(charge.amount, charge.currency, 2),
    currency: charge.currency,
    status: charge.status,
    transaction_state: charge.state,
    refunded_amount: toDecimalString(charge.refundedAmount, charge.currency, 2),
    created: charge.created,
  };
}

/** A refund on the daily transaction list [ours]: its own id, the charge it belongs to, its amount. */
export function toRefundTransactionWire(charge: SimCharge, refund: SimRefund): TransactionWire {
  return {
    ...toTransactionWire(charge),
    object: 'refund',
    id: refund.id,
    amount: toDecimalString(refund.amount, charge.currency, 2),
    status: 'success',
    transaction_state: 'Refund Sent',
    refunded_amount: toDecimalString(refund.amount, charge.currency, 2),
    created: refund.created,
  };
}

/** The order object [ours beyond `id`: KBank publishes nothing else [?]]. */
export function toOrderWire(charge: SimCharge): Record<string, unknown> {
  return {
    id: charge.orderId,
    object: 'order',
    amount: toDecimalString(charge.amount, charge.currency, 2),
    currency: charge.currency,
    description: charge.description ?? null,
    source_type: charge.sourceType,
    reference_order: charge.referenceOrder,
    status: charge.status,
    transaction_state: charge.state,
    qr_code: charge.qrPayload ?? null,
    expire_time: charge.expiresAt ?? null,
    created: charge.created,
    metadata: charge.metadata ?? {},
  };
}

export function isCardCharge(charge: SimCharge): boolean {
  return charge.sourceType === undefined || charge.sourceType === 'card';
}

/** KBank's `created`: 17 digits YYYYMMDDHHmmssSSS. Bangkok time (UTC+7, no DST) [ours]. */
export function kbankTimestamp(date: Date): string {
  const local = new Date(date.getTime() + BANGKOK_OFFSET_MS);
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return [
    local.getUTCFullYear(),
    pad(local.getUTCMonth() + 1),
    pad(local.getUTCDate()),
    pad(local.getUTCHours()),
    pad(local.getUTCMinutes()),
    pad(local.getUTCSeconds()),
    pad(local.getUTCMilliseconds(), 3),
  ].join('');
}
