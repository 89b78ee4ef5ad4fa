/** Saga task AwaitAction (callback) — park until KBank's callback about the customer's step arrives. */
import { awsSagaDeps } from '../adapters/container.js';
import { awaitAction } from '../core/use-cases/await-action.js';
import { sagaTask } from './saga.js';

export const handler = sagaTask(awaitAction, awsSagaDeps);
