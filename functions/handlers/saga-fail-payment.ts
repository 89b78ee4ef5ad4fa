/** Saga task FailPayment — end a payment that never held money as failed. */
import { awsEvents, awsSagaTaskDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { failPayment } from '../core/use-cases/payment-saga/fail-payment.js';
import { sagaTask } from './saga.js';

export const createHandler = (deps: Pick<Dependencies, 'saga'>) =>
  sagaTask('saga-fail-payment', failPayment, deps.saga);

export const handler = createHandler({ saga: awsSagaTaskDeps('saga-fail-payment', { events: awsEvents }) });
