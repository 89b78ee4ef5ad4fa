/** Saga task Reenter — where a run the reconciliation sweep started takes over from the record. */
import { awsSagaDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { reenter } from '../core/use-cases/reenter.js';
import { sagaTask } from './saga.js';

export const createHandler = (deps: Pick<Dependencies, 'saga'>) =>
  sagaTask('saga-reenter', reenter, deps.saga);

export const handler = createHandler({ saga: awsSagaDeps });
