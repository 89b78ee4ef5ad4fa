/**
 * What every saga task handler shares: the input the state machine sends, parsed with the schema the saga
 * contract gives the step (schemas/saga.ts), and a thin middy wrapper around the step, which runs as a task
 * (flows/payment-task.ts: on the carried payment, publishing its events). The catalog entry of the function
 * names the step it runs; a handler bound to another step does not compile (the catalog is only a type
 * here, so the bundle does not carry it). Errors propagate by class name so the state machine's
 * Retry/Catch can match them.
 */
import middy from '@middy/core';
import { PAYMENT_STEP_INPUTS } from '../../schemas/saga.js';
import type { CATALOG, NamesWhere } from '../catalog.js';
import type { PaymentStep } from '../core/flows/payment-step.js';
import { type PaymentTaskResult, runPaymentStep, type SagaTaskDeps } from '../core/flows/payment-task.js';
import type { PaymentStepName } from '../core/saga-contract.js';
import { logger, withLogContext } from './logger.js';

/** The payment saga's Lambda tasks (the refund saga's go through refund-task.ts). */
export type PaymentSagaTask = NamesWhere<{ kind: 'saga-task'; saga: 'payment' }>;

/** The step a payment saga task runs, as its catalog entry names it. */
type CatalogStep<N extends PaymentSagaTask> = (typeof CATALOG)[N]['step'] & PaymentStepName;

export function sagaTask<N extends PaymentSagaTask, S extends CatalogStep<N>>(
  _name: N,
  step: PaymentStep<S> & { readonly step: CatalogStep<N> },
  deps: () => SagaTaskDeps,
) {
  const input = PAYMENT_STEP_INPUTS[step.step];
  return middy<unknown, PaymentTaskResult<S>>(async (event: unknown): Promise<PaymentTaskResult<S>> => {
    const parsed = input.parse(event);
    const result = await runPaymentStep(deps(), step, parsed);
    logger.info('saga step done', { step: step.step, paymentId: parsed.paymentId, outcome: result.outcome });
    return result;
  }).use(withLogContext());
}
