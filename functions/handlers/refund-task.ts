/**
 * What every refund saga task handler shares: the input the refund state machine sends, parsed with the
 * schema the saga contract gives the step (schemas/saga.ts), and a thin middy wrapper around the step.
 * The catalog entry of the function names the step it runs; a handler bound to another step does not
 * compile (the catalog is only a type here, so the bundle does not carry it). Errors propagate by class
 * name so the state machine's Retry/Catch can match them.
 */
import middy from '@middy/core';
import { REFUND_STEP_INPUTS } from '../../schemas/saga.js';
import type { CATALOG, NamesWhere } from '../catalog.js';
import type { RefundSagaDeps, RefundStep } from '../core/flows/refund-step.js';
import type { RefundStepName, RefundStepResultOf } from '../core/saga-contract.js';
import { logger, withLogContext } from './logger.js';

/** The refund saga's Lambda tasks. */
export type RefundSagaTask = NamesWhere<{ kind: 'saga-task'; saga: 'refund' }>;

/** The step a refund saga task runs, as its catalog entry names it. */
type CatalogStep<N extends RefundSagaTask> = (typeof CATALOG)[N]['step'] & RefundStepName;

export function refundTask<N extends RefundSagaTask, S extends CatalogStep<N>>(
  _name: N,
  step: RefundStep<S> & { readonly step: CatalogStep<N> },
  deps: () => RefundSagaDeps,
) {
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
    // Every answer carries pointsEvent (null when none): the states' ResultSelector selects it by path.
    return { ...result, pointsEvent: result.pointsEvent ?? null };
  }).use(withLogContext());
}
