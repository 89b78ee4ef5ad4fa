/** Saga task VoidAuthorization (compensation) — release an authorization after a later failure. */
import { awsEvents, awsKbank, awsSagaTaskDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { voidAuthorization } from '../core/use-cases/payment-saga/void-authorization.js';
import { sagaTask } from './saga.js';

export const createHandler = (deps: Pick<Dependencies, 'saga'>) =>
  sagaTask('saga-void', voidAuthorization, deps.saga);

export const handler = createHandler({
  saga: awsSagaTaskDeps('saga-void', { events: awsEvents, kbank: awsKbank }),
});
