/**
 * What every refund saga task handler shares: the input the refund state machine sends, parsed with the
 * schema the saga contract gives the step (schemas/saga.ts), and a thin middy wrapper around the step.
 * Errors propagate by class name so the state machine's Retry/Catch can match them.
 */
import middy from '@middy/core';
import { REFUND_STEP_INPUTS } from '../../schemas/saga.js';
import type { RefundStepName, RefundStepResultOf } from '../core/saga-contract.js';
import type { RefundSagaDeps, RefundStep as TaggedRefundStep } from '../core/use-cases/refund-saga.js';
import { logger, withLogContext } from './logger.js';

export { RefundTaskInputSchema } from '../../schemas/saga.js';

/** Any refund saga step (the local stack's table of steps). */
export type RefundStep = TaggedRefundStep;

export function refundTask<S extends RefundStepName>(step: TaggedRefundStep<S>, deps: () => RefundSagaDeps) {
  const input = REFUND_STEP_INPUTS[step.step];
  return middy<unknown, RefundStepResultOf<S>>(async (event: unknown): Promise<RefundStepResultOf<S>> => {
    const parsed = input.parse(event);
    const result = await step(deps(), parsed);
    logger.info('refund step done', {
      step: step.step,
      paymentId: parsed.paymentId,
      refundId: parsed.refundId,
      outcome: result.outcome,
    });
    return result;
  }).use(withLogContext());
}
