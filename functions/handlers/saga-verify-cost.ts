/** Saga task VerifyCost — the order must cost exactly the payment amount. */
import { awsSagaDeps } from '../adapters/container.js';
import { verifyCost } from '../core/use-cases/verify-cost.js';
import { sagaTask } from './saga.js';

export const handler = sagaTask(verifyCost, awsSagaDeps);
