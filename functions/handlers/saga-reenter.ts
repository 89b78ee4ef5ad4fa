/** Saga task Reenter — where a run the reconciliation sweep started takes over from the record. */
import { awsSagaDeps } from '../adapters/container.js';
import { reenter } from '../core/use-cases/reenter.js';
import { sagaTask } from './saga.js';

export const handler = sagaTask(reenter, awsSagaDeps);
