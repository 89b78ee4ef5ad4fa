/**
 * Use case: refund (part of) a captured payment under an Idempotency-Key. The amount is reserved on the
 * payment and the refund written ahead, in one transaction the database refuses when the amount no longer
 * fits (Σ refunds ≤ captured); then the refund's saga starts (execution name = refund id) and the answer
 * is `202` with the pending refund. A retry with the same key replays the first answer; a retry after a
 * crash finishes the same refund instead of reserving a second one.
 */
import type { CreateRefundRequest, RefundResource } from '../../../../schemas/api.js';
import { NotFoundError } from '../../errors.js';
import { type ContentionPolicy, DEFAULT_CONTENTION, retryOnStaleWrite } from '../../flows/contention.js';
import { idempotent, type RefusalResponse } from '../../flows/idempotent.js';
import { ownedPayment } from '../../flows/merchant-requests.js';
import type { IdGenerator } from '../../ids.js';
import type { Clock, IdempotencyStore, StoredResponse, WorkflowStarter } from '../../ports.js';
import { type Refund, reserveRefund } from '../../refund.js';
import type { PaymentRepository, RefundRepository } from '../../repository.js';
import type { RefundSagaInput } from '../../saga-contract.js';
import { refundView } from '../../views.js';

export interface CreateRefundDeps {
  repo: PaymentRepository & RefundRepository;
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
  idempotencyKey: string;
  request: CreateRefundRequest;
  /**
   * The response stored for a typed refusal (not refundable, too much), so a retry with the same key
   * gets the same answer. Given by the API layer, which owns the problem format.
   */
  refusal?: RefusalResponse;
}

export interface CreateRefundResult {
  response: StoredResponse & { body: RefundResource };
  replayed: boolean;
}

export const CREATE_REFUND_OPERATION = 'POST /v1/payments/{id}/refunds';

export async function createRefund(
  deps: CreateRefundDeps,
  command: CreateRefundCommand,
): Promise<CreateRefundResult> {
  const { paymentId, request } = command;
  // Another merchant's or an unknown payment is refused before anything is written under the key.
  await ownedPayment(deps.repo, command.merchantId, paymentId);
  return idempotent(
    deps,
    {
      merchantId: command.merchantId,
      operation: CREATE_REFUND_OPERATION,
      key: command.idempotencyKey,
      request: { paymentId, body: request },
      resourceId: deps.ids('re'),
    },
    async (refundId) => {
      const refund = await reserve(deps, command, refundId);
      await deps.workflow.start(refund.id, {
        paymentId: refund.paymentId,
        refundId: refund.id,
      } satisfies RefundSagaInput);
      return { statusCode: 202, body: refundView(refund) };
    },
    command.refusal,
  );
}

/**
 * Reserves the refund, or finds it already reserved (a taken-over key whose first holder crashed after
 * writing). A lost race for the payment's version (another refund, a saga step) re-reads and decides
 * again: either the refund still fits, or it is refused with what is left.
 */
async function reserve(
  deps: CreateRefundDeps,
  command: CreateRefundCommand,
  refundId: string,
): Promise<Refund> {
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
        ...(command.request.amount === undefined ? {} : { amount: command.request.amount }),
        ...(command.request.reason === undefined ? {} : { reason: command.request.reason }),
      },
      deps.clock.now(),
    );
    await deps.repo.commitRefund(change, { next: refund, previousStatus: null, reserve: refund.amount });
    return refund;
  });
}
