/** What the customer does somewhere else [ours: the `/_sim/` controls]: pay or decline an order, finish or fail Alipay and 3-D Secure, walk away. */
import { z } from 'zod';
import { approvalCode, awaitsCustomer, refresh, requireOpen } from './charges.js';
import type { SimContext } from './context.js';
import { invalidRequest, type Reply, SimError } from './replies.js';
import type { SimCharge } from './types.js';
import { toWire } from './wire.js';

/**
 * Body of `POST /_sim/qr/scan` [ours]: the payload as shown to the customer (surrounding whitespace from a
 * scanner or a paste is ignored) and what the customer does.
 */
const simQrScanRequestSchema = z
  .object({
    payload: z.string().trim().min(1),
    action: z.enum(['pay', 'decline']).default('pay'),
  })
  .strict();

/** The customer walks away: the order expires now, without a notify. */
export function abandon(ctx: SimContext, charge: SimCharge): SimCharge {
  requireOpen(charge);
  charge.expiresAt = ctx.now().toISOString();
  ctx.state.putCharge(charge);
  return refresh(ctx, charge);
}

/**
 * The customer pays (or the payment fails): a QR / WeChat order, an Alipay charge, or a 3-D Secure card
 * charge. Then the browser return (3-D Secure only) and the notify, both awaited unless held by a fault.
 */
export async function customerAction(
  ctx: SimContext,
  charge: SimCharge,
  success: boolean,
): Promise<SimCharge> {
  const threeDs = charge.behaviour === 'three_d_secure';
  if (charge.orderId !== undefined) requireOpen(charge);
  else if (!awaitsCustomer(charge)) {
    throw new SimError(400, 'invalid_state', `the charge is ${charge.state}, not waiting for the customer`);
  }
  if (success) {
    charge.state = 'Authorized';
    charge.status = 'success';
    charge.approvalCode = approvalCode();
  } else {
    charge.state = 'Declined';
    charge.status = 'fail';
    charge.failureCode = threeDs ? 'authentication_failed' : 'payment_declined';
    charge.failureMessage = threeDs ? '3-D Secure authentication failed' : 'the payment was declined';
  }
  ctx.state.putCharge(charge);
  if (threeDs) await ctx.notifier.browserReturn(charge, success);
  await ctx.notifier.notify(charge);
  return charge;
}

/**
 * The customer scans the code our API showed them (the QR payload is all they have) and pays or is
 * declined: the same as `/_sim/orders/{orderId}/pay|decline`, found by the payload.
 */
export async function scanQr(ctx: SimContext, json: unknown): Promise<Reply> {
  const parsed = simQrScanRequestSchema.safeParse(json);
  if (!parsed.success) throw invalidRequest(parsed.error);
  const { payload, action } = parsed.data;
  const charge = [...ctx.state.charges()].find(
    (candidate) => candidate.orderId !== undefined && candidate.qrPayload === payload,
  );
  if (!charge) throw new SimError(404, 'order_not_found', 'no order has this QR payload');
  return { status: 200, body: toWire(await customerAction(ctx, refresh(ctx, charge), action === 'pay')) };
}
