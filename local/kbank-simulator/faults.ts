/** Notify fault injection [ours]: the knobs of each scope (global, an order, a charge) and the one that applies to a charge. */
import { z } from 'zod';
import type { SimContext } from './context.js';
import { invalidRequest, type Reply, SimError } from './replies.js';
import type { SimState } from './state.js';
import type { NotifyFaults, SimCharge } from './types.js';

/** Body of `POST /_sim/faults` [ours]: the knobs of one scope (global without orderId / chargeId). */
const simFaultsRequestSchema = z
  .object({
    orderId: z.string().min(1).optional(),
    chargeId: z.string().min(1).optional(),
    duplicateNotify: z.boolean().optional(),
    lateNotifyMs: z.number().int().nonnegative().max(3_600_000).optional(),
    lostNotify: z.boolean().optional(),
    wrongChecksum: z.boolean().optional(),
  })
  .strict();

/** The most specific scope wins: charge, then order, then global. */
export function faultsFor(state: SimState, charge: SimCharge): NotifyFaults {
  return {
    ...state.faults(),
    ...(charge.orderId === undefined ? {} : state.faults(charge.orderId)),
    ...state.faults(charge.id),
  };
}

/** Replaces the knobs of one scope (global without a target) with the ones given, unknown fields dropped. */
export function setFaults(ctx: SimContext, faults: NotifyFaults, targetId?: string): void {
  const clean: NotifyFaults = {};
  if (faults.duplicateNotify !== undefined) clean.duplicateNotify = faults.duplicateNotify;
  if (faults.lateNotifyMs !== undefined) clean.lateNotifyMs = faults.lateNotifyMs;
  if (faults.lostNotify !== undefined) clean.lostNotify = faults.lostNotify;
  if (faults.wrongChecksum !== undefined) clean.wrongChecksum = faults.wrongChecksum;
  ctx.state.setFaults(clean, targetId);
}

/** `POST /_sim/faults`. */
export function setFaultsReply(ctx: SimContext, json: unknown): Reply {
  const parsed = simFaultsRequestSchema.safeParse(json);
  if (!parsed.success) throw invalidRequest(parsed.error);
  const { orderId, chargeId, ...faults } = parsed.data;
  if (orderId !== undefined && chargeId !== undefined) {
    throw new SimError(400, 'invalid_request', 'give orderId or chargeId, not both');
  }
  setFaults(ctx, faults, orderId ?? chargeId);
  const scope = orderId !== undefined ? { orderId } : chargeId !== undefined ? { chargeId } : 'global';
  return { status: 200, body: { scope, faults } };
}
