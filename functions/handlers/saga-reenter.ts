/** Saga tasks Reenter, EventRedelivered, HandOver* — where the saga and the sweep hand over to each other. */
import { awsSagaDeps } from '../adapters/container.js';
import { reenter } from '../core/use-cases/reenter.js';
import { sagaTask } from './saga.js';

export const handler = sagaTask(reenter, awsSagaDeps);
