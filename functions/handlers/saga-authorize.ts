/** Saga task Authorize — write the attempt ahead, charge the card at KBank. */
import { awsSagaDeps } from '../adapters/container.js';
import { authorize } from '../core/use-cases/authorize.js';
import { sagaTask } from './saga.js';

export const handler = sagaTask(authorize, awsSagaDeps);
