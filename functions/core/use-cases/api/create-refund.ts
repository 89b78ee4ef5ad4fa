/**
 * Use case: refund (part of) a captured payment. The amount is reserved on the payment and the refund
 * written ahead, in one transaction the database refuses when the amount no longer fits (Σ refunds ≤
 * captured); then the refund's saga starts (execution name = refund id) and the answer is `202` with the
 * pending refund. The refund id comes with the command (kept under the Idempotency-Key by the edge), so
 * a retry after a crash finishes the same refund instead of reserving a second one.
 */
import { NotFoundError } from '../../errors.js';
import { type ContentionPolicy, DEFAULT_CONTENTION, retryOnStaleWrite } from '../../flows/contention.js';
import type { IdGenerator } from '../../ids.js';
import type { Clock, IdempotencyStore, WorkflowStarter } from '../../ports.js';
import { type Refund, reserveRefund } from '../../refund.js';
import type { PaymentRepository, RefundRepository } from '../../repository.js';
import type { RefundSagaInput } from '../../saga-contract.js';

export interface CreateRefundDeps {
  repo: PaymentRepository & RefundRepository;
  /** The request's Idempotency-Key, kept by the API edge (handlers/idempotency.ts). */
  idempotency: IdempotencyStore;
  /** Starts the refund saga (not the payment's). */
  workflow: WorkflowStarter;
  clock: Clock;
  ids: IdGenerator;
  /** Default DEFAULT_CONTENTION. */
  contention?: ContentionPolicy;
}

export interface CreateRefundCommand {
  merchantId: string;
  paymentId: string;
  /** The refund's id: new, or the one a crashed request under the same key promised. */
  refundId: string;
  /** Omitted: everything still refundable. */
  amount?: number;
  reason?: string;
}

/** The refund reserved (now, or by an earlier try with the same id) and handed to its saga. */
export async function createRefund(deps: CreateRefundDeps, command: CreateRefundCommand): Promise<Refund> {
  const refund = await reserve(deps, command);
  await deps.workflow.start(refund.id, {
    paymentId: refund.paymentId,
    refundId: refund.id,
  } satisfies RefundSagaInput);
  return refund;
}

/**
 * Reserves the refund, or finds it already reserved (a taken-over key whose first holder crashed after
 * writing). A lost race for the payment's version (another refund, a saga step) re-reads and decides
 * again: either the refund still fits, or it is refused with what is left.
 */
async function reserve(deps: CreateRefundDeps, command: CreateRefundCommand): Promise<Refund> {
  const { refundId } = command;
  return retryOnStaleWrite(deps.contention ?? DEFAULT_CONTENTION, async () => {
    const payment = await deps.repo.get(command.paymentId);
    if (!payment || payment.merchantId !== command.merchantId) {
      throw new NotFoundError(`No payment ${command.paymentId}.`);
    }
    const existing = await deps.repo.getRefund(payment.id, refundId);
    if (existing) return existing;
    const { change, refund } = reserveRefund(
      payment,
      {
        refundId,
        ...(command.amount === undefined ? {} : { amount: command.amount }),
        ...(command.reason === undefined ? {} : { reason: command.reason }),
      },
      deps.clock.now(),
    );
    await deps.repo.commitRefund(change, { next: refund, previousStatus: null, reserve: refund.amount });
    return refund;
  });
}
