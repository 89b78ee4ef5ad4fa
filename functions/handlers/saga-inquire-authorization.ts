/** Saga task InquireAuthorization — resolve an authorization whose answer we did not see. */
import { awsEvents, awsKbank, awsSagaTaskDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { inquireAuthorization } from '../core/use-cases/payment-saga/inquire-authorization.js';
import { sagaTask } from './saga.js';

export const createHandler = (deps: Pick<Dependencies, 'saga'>) =>
  sagaTask('saga-inquire-authorization', inquireAuthorization, deps.saga);

export const handler = createHandler({
  saga: awsSagaTaskDeps('saga-inquire-authorization', { events: awsEvents, kbank: awsKbank }),
});
