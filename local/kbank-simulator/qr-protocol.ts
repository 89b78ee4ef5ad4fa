/** The Thai QR / WeChat protocol: orders (one charge each), their QR, cancel and refund. */
import { randomBytes } from 'node:crypto';
import { buildPromptPayPayload } from '../../functions/core/promptpay.js';
import {
  kbankCreateQrOrderRequestSchema,
  kbankCreateQrRequestSchema,
  kbankQrRefundRequestSchema,
  kbankQrVoidRequestSchema,
} from '../../schemas/kbank.js';
import { applyRefund, newCharge, orderCharge, requireNewReference, requireOpen, testId } from './charges.js';
import type { SimContext } from './context.js';
import { invalidRequest, parseAmount, type Reply, SimError } from './replies.js';
import type { SimCharge } from './types.js';
import { toOrderWire, toWire } from './wire.js';

/** What makes a charge an order: its id, the code the customer scans, and when it stops being payable. */
export function orderFields(
  ctx: SimContext,
  sourceType: 'qr' | 'wechat',
  amount: number,
  referenceOrder: string,
  created: Date,
): Pick<SimCharge, 'orderId' | 'qrPayload' | 'expiresAt'> {
  const qrReference = `SIM${randomBytes(8).toString('hex').toUpperCase()}`;
  return {
    orderId: testId('order'),
    qrPayload:
      sourceType === 'qr'
        ? thaiQrPayload(ctx, amount, qrReference, referenceOrder)
        : `weixin://wxpay/bizpayurl?pr=${qrReference}`,
    expiresAt: new Date(created.getTime() + ctx.config.qrExpiryMs).toISOString(),
  };
}

/** A bill-payment Thai QR for the configured merchant; reference 2 is our reference_order, cleaned. */
function thaiQrPayload(ctx: SimContext, amount: number, reference1: string, referenceOrder: string): string {
  const { promptPay } = ctx.config;
  const reference2 = referenceOrder
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, '')
    .slice(0, 20);
  return buildPromptPayPayload({
    merchant: {
      kind: 'billPayment',
      billerId: promptPay.billerId,
      reference1,
      ...(reference2 ? { reference2 } : {}),
    },
    amount,
    merchantName: promptPay.merchantName,
    merchantCity: promptPay.merchantCity,
  });
}

/** `POST /qr/v2/order`: THB only; the order's charge waits in `Initialize`. */
export function createQrOrder(ctx: SimContext, json: unknown): Reply {
  const currency = (json as { currency?: unknown } | null)?.currency;
  if (typeof currency === 'string' && currency !== 'THB') {
    throw new SimError(400, 'invalid_currency', 'QR and WeChat orders are THB only');
  }
  const parsed = kbankCreateQrOrderRequestSchema.safeParse(json);
  if (!parsed.success) throw invalidRequest(parsed.error);
  const request = parsed.data;
  const amount = parseAmount(request.amount, 'THB');
  requireNewReference(ctx, request.reference_order);

  const created = ctx.now();
  const charge = newCharge(ctx, {
    referenceOrder: request.reference_order,
    amount,
    currency: 'THB',
    state: 'Initialize',
    behaviour: 'await_customer',
    brand: request.source_type === 'qr' ? 'PromptPay' : 'WeChat Pay',
    cardMasking: '',
    sourceId: testId('src', 8),
    refs: { ref_1: request.ref_1 },
    description: request.description,
    metadata: request.metadata,
    created,
  });
  charge.sourceType = request.source_type;
  Object.assign(charge, orderFields(ctx, request.source_type, amount, request.reference_order, created));
  ctx.state.putCharge(charge);
  return { status: 200, body: toOrderWire(charge) };
}

/** `POST /qr/v2/qr`: the QR of an open order, when the body matches it. */
export function createQr(ctx: SimContext, json: unknown): Reply {
  const parsed = kbankCreateQrRequestSchema.safeParse(json);
  if (!parsed.success) throw invalidRequest(parsed.error);
  const request = parsed.data;
  const charge = orderCharge(ctx, request.order_id);
  if (parseAmount(request.amount, 'THB') !== charge.amount) {
    throw new SimError(400, 'amount_mismatch', 'amount differs from the order');
  }
  if (request.reference_order !== charge.referenceOrder) {
    throw new SimError(400, 'reference_order_mismatch', 'reference_order differs from the order');
  }
  if (request.sof !== (charge.sourceType === 'wechat' ? 'WeChat' : 'ThaiQR')) {
    throw new SimError(400, 'invalid_sof', 'sof does not match the order source_type');
  }
  requireOpen(charge);
  return {
    status: 200,
    body: {
      id: charge.id,
      object: 'qr',
      order_id: charge.orderId,
      qr_code: charge.qrPayload,
      expire_time: charge.expiresAt,
    },
  };
}

/** `POST /qr/v2/qr/{id}/void`: cancels an order still waiting for payment. */
export function cancelQr(ctx: SimContext, charge: SimCharge, json: unknown): Reply {
  const parsed = kbankQrVoidRequestSchema.safeParse(json);
  if (!parsed.success) throw invalidRequest(parsed.error);
  requireOpen(charge);
  charge.state = 'Voided';
  if (parsed.data.reason !== undefined) charge.voidReason = parsed.data.reason;
  ctx.state.putCharge(charge);
  return { status: 200, body: toWire(charge) };
}

/**
 * [ours: KBank publishes no QR refund] Gives back money paid to an order, e.g. one paid after the
 * merchant's payment had expired: only once paid (a cancel is for before), whole or in parts up to the
 * paid amount, reported like a card refund (`Refund Sent`, `refund_info`). No notify, like the card refund.
 */
export function refundQr(ctx: SimContext, charge: SimCharge, json: unknown): Reply {
  const parsed = kbankQrRefundRequestSchema.safeParse(json);
  if (!parsed.success) throw invalidRequest(parsed.error);
  if (charge.state !== 'Authorized' && charge.state !== 'Refund Sent') {
    throw new SimError(400, 'invalid_state', `cannot refund a charge in state ${charge.state}`);
  }
  const amount = parseAmount(parsed.data.amount, charge.currency);
  if (charge.refundedAmount + amount > charge.amount) {
    throw new SimError(400, 'amount_exceeds_refundable', 'refunds would exceed the paid amount');
  }
  applyRefund(ctx, charge, amount);
  return { status: 200, body: toWire(charge) };
}
