/** Saga task VoidAuthorization (compensation) — release an authorization after a later failure. */
import { awsSagaDeps } from '../adapters/container.js';
import { voidAuthorization } from '../core/use-cases/void-authorization.js';
import { sagaTask } from './saga.js';

export const handler = sagaTask(voidAuthorization, awsSagaDeps);
