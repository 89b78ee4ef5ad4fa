/** Saga tasks Reenter, EventRedelivered, HandOver* — where the saga and the sweep hand over to each other. */
import { awsSagaTaskDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { reenter } from '../core/use-cases/payment-saga/reenter.js';
import { sagaTask } from './saga.js';

export const createHandler = (deps: Pick<Dependencies, 'saga'>) =>
  sagaTask('saga-reenter', reenter, deps.saga);

export const handler = createHandler({ saga: awsSagaTaskDeps('saga-reenter', {}) });
