/** Finding charges as each endpoint may see them, and the rules on charges every operation shares (expiry, waiting states, refunds). */
import { randomBytes, randomInt } from 'node:crypto';
import type { SimContext } from './context.js';
import { SimError } from './replies.js';
import type { SimCharge, SimRefund } from './types.js';
import { kbankTimestamp } from './wire.js';

/** `<prefix>_test_` + random hex, KBank's id style. */
export function testId(prefix: string, bytes = 12): string {
  return `${prefix}_test_${randomBytes(bytes).toString('hex')}`;
}

/** Six digits, as KBank's approval codes. */
export function approvalCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/** What a new charge is made from; the rest starts empty (nothing settled or refunded). */
export type NewCharge = Pick<
  SimCharge,
  | 'referenceOrder'
  | 'amount'
  | 'currency'
  | 'state'
  | 'behaviour'
  | 'brand'
  | 'cardMasking'
  | 'sourceId'
  | 'refs'
> & { description?: string; metadata?: Record<string, string>; created?: Date };

/** A new charge with a fresh id, `status: "success"`, created now unless said otherwise. Not yet stored. */
export function newCharge(ctx: SimContext, init: NewCharge): SimCharge {
  const { description, metadata, created, ...fields } = init;
  const charge: SimCharge = {
    id: testId('chrg'),
    ...fields,
    status: 'success',
    created: kbankTimestamp(created ?? ctx.now()),
    settledAmount: 0,
    refundedAmount: 0,
  };
  if (description !== undefined) charge.description = description;
  if (metadata !== undefined) charge.metadata = metadata;
  return charge;
}

/** An order that was not paid in time becomes `Expired` when next looked at (no timers). */
export function refresh(ctx: SimContext, charge: SimCharge): SimCharge {
  if (
    charge.orderId !== undefined &&
    charge.state === 'Initialize' &&
    charge.expiresAt !== undefined &&
    ctx.now().getTime() >= Date.parse(charge.expiresAt)
  ) {
    charge.state = 'Expired';
    charge.status = 'fail';
    charge.failureCode = 'order_expired';
    charge.failureMessage = 'the QR was not paid in time';
    ctx.state.putCharge(charge);
  }
  return charge;
}

/** The card endpoints never show QR / WeChat charges (they live under /qr/v2). */
export function cardPath(charge: SimCharge | undefined): SimCharge | undefined {
  return charge && charge.orderId === undefined ? charge : undefined;
}

export function anyCharge(ctx: SimContext, chargeId: string): SimCharge {
  const charge = ctx.state.charge(chargeId);
  if (!charge) throw new SimError(404, 'charge_not_found', 'no such charge');
  return refresh(ctx, charge);
}

export function orderCharge(ctx: SimContext, orderId: string): SimCharge {
  const charge = ctx.state.chargeByOrder(orderId);
  if (!charge) throw new SimError(404, 'order_not_found', 'no such order');
  return refresh(ctx, charge);
}

/** A QR / WeChat charge by charge id or order id. */
export function qrCharge(ctx: SimContext, chargeIdOrOrderId: string): SimCharge {
  const byId = ctx.state.charge(chargeIdOrOrderId);
  if (byId?.orderId !== undefined) return refresh(ctx, byId);
  const charge = ctx.state.chargeByOrder(chargeIdOrOrderId);
  if (!charge) throw new SimError(404, 'charge_not_found', 'no such charge or order');
  return refresh(ctx, charge);
}

/** A QR / WeChat charge by charge id only: the refund path names a charge [ours], never an order. */
export function qrChargeById(ctx: SimContext, chargeId: string): SimCharge {
  const charge = ctx.state.charge(chargeId);
  if (charge?.orderId === undefined) throw new SimError(404, 'charge_not_found', 'no such charge');
  return refresh(ctx, charge);
}

/** Only an order still waiting for payment can be paid, shown, cancelled or abandoned. */
export function requireOpen(charge: SimCharge): void {
  if (charge.state === 'Expired') throw new SimError(400, 'order_expired', 'the order has expired');
  if (charge.state !== 'Initialize') {
    throw new SimError(400, 'invalid_state', `the order is ${charge.state}, not waiting for payment`);
  }
}

export function requireNewReference(ctx: SimContext, referenceOrder: string): void {
  if (ctx.state.hasReference(referenceOrder)) {
    throw new SimError(400, 'duplicate_reference_order', 'a charge with this reference_order already exists');
  }
}

/** A 3-D Secure card charge or an Alipay charge whose customer has not finished yet (orders: requireOpen). */
export function awaitsCustomer(charge: SimCharge): boolean {
  return charge.behaviour === 'three_d_secure'
    ? charge.state === 'Pre-Authorized'
    : charge.sourceType === 'alipay' && charge.state === 'Initialize';
}

/** Applies a refund of `amount` (already checked): `Refund Sent`, the total, and the refund on the daily list. */
export function applyRefund(ctx: SimContext, charge: SimCharge, amount: number): void {
  const refund: SimRefund = { id: testId('rfnd'), amount, created: kbankTimestamp(ctx.now()) };
  charge.state = 'Refund Sent';
  charge.refundedAmount += amount;
  charge.refunds = [...(charge.refunds ?? []), refund];
  ctx.state.putCharge(charge);
}
