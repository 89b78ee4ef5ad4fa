/** Saga task Capture — settle the authorized charge. */
import { awsEvents, awsKbank, awsSagaTaskDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { capture } from '../core/use-cases/payment-saga/capture.js';
import { sagaTask } from './saga.js';

export const createHandler = (deps: Pick<Dependencies, 'saga'>) =>
  sagaTask('saga-capture', capture, deps.saga);

export const handler = createHandler({
  saga: awsSagaTaskDeps('saga-capture', { events: awsEvents, kbank: awsKbank }),
});
