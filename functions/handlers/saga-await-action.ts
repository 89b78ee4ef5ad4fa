/** Saga task AwaitAction (callback) — park until KBank's callback about the customer's step arrives. */
import { awsSagaTaskDeps, awsTasks } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { awaitAction } from '../core/use-cases/payment-saga/await-action.js';
import { sagaTask } from './saga.js';

export const createHandler = (deps: Pick<Dependencies, 'saga'>) =>
  sagaTask('saga-await-action', awaitAction, deps.saga);

export const handler = createHandler({ saga: awsSagaTaskDeps('saga-await-action', { tasks: awsTasks }) });
