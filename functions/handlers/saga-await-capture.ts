/** Saga task AwaitCapture (callback) — park the saga until the merchant captures or cancels. */
import { awsSagaTaskDeps, awsTasks } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { awaitCapture } from '../core/use-cases/payment-saga/await-capture.js';
import { sagaTask } from './saga.js';

export const createHandler = (deps: Pick<Dependencies, 'saga'>) =>
  sagaTask('saga-await-capture', awaitCapture, deps.saga);

export const handler = createHandler({ saga: awsSagaTaskDeps('saga-await-capture', { tasks: awsTasks }) });
