/**
 * What every refund saga task handler shares: the input the refund state machine sends
 * (`{paymentId, refundId, error?}`), validated with the task's schema from the catalog, and a thin middy
 * wrapper around one use case. Errors propagate by class name so the state machine's Retry/Catch can
 * match them.
 */
import middy from '@middy/core';
import { CATALOG, type NamesWhere } from '../catalog.js';
import type { RefundSagaDeps, RefundStepResult, RefundTaskInput } from '../core/use-cases/refund-saga.js';
import { logger, withLogContext } from './logger.js';

/** The refund saga's Lambda tasks. */
export type RefundSagaTask = NamesWhere<{ kind: 'saga-task'; saga: 'refund' }>;

export type RefundStep = (deps: RefundSagaDeps, input: RefundTaskInput) => Promise<RefundStepResult>;

export function refundTask(name: RefundSagaTask, step: RefundStep, deps: () => RefundSagaDeps) {
  const schema = CATALOG[name].input;
  return middy<unknown, RefundStepResult>(async (event: unknown): Promise<RefundStepResult> => {
    const input = schema.parse(event) as RefundTaskInput;
    const result = await step(deps(), input);
    logger.info('refund step done', {
      step: step.name,
      paymentId: input.paymentId,
      refundId: input.refundId,
      outcome: result.outcome,
    });
    return result;
  }).use(withLogContext());
}
