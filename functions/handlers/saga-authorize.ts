/** Saga task Authorize — write the attempt ahead, charge the card at KBank. */
import { awsEvents, awsKbank, awsSagaTaskDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { authorize } from '../core/use-cases/payment-saga/authorize.js';
import { sagaTask } from './saga.js';

export const createHandler = (deps: Pick<Dependencies, 'saga'>) =>
  sagaTask('saga-authorize', authorize, deps.saga);

export const handler = createHandler({
  saga: awsSagaTaskDeps('saga-authorize', { events: awsEvents, kbank: awsKbank }),
});
