/** Saga task VerifyCost — the order must cost exactly the payment amount. */
import { awsCost, awsEvents, awsSagaTaskDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { verifyCost } from '../core/use-cases/payment-saga/verify-cost.js';
import { sagaTask } from './saga.js';

export const createHandler = (deps: Pick<Dependencies, 'saga'>) =>
  sagaTask('saga-verify-cost', verifyCost, deps.saga);

export const handler = createHandler({
  saga: awsSagaTaskDeps('saga-verify-cost', { cost: awsCost, events: awsEvents }),
});
