/**
 * Saga tasks ResolveAction, ExpireAction and CancelAction — inquire KBank after a callback, a timeout or the
 * merchant's cancel: paid, failed, expired, canceled or waiting.
 */
import { awsEvents, awsKbank, awsSagaTaskDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { resolveAction } from '../core/use-cases/payment-saga/resolve-action.js';
import { sagaTask } from './saga.js';

export const createHandler = (deps: Pick<Dependencies, 'saga'>) =>
  sagaTask('saga-resolve-action', resolveAction, deps.saga);

export const handler = createHandler({
  saga: awsSagaTaskDeps('saga-resolve-action', { events: awsEvents, kbank: awsKbank }),
});
