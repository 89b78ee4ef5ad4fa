/** Saga task FailPayment — end a payment that never held money as failed. */
import { awsSagaDeps } from '../adapters/container.js';
import { failPayment } from '../core/use-cases/fail-payment.js';
import { sagaTask } from './saga.js';

export const handler = sagaTask(failPayment, awsSagaDeps);
