/**
 * Saga tasks ResolveAction, ExpireAction and CancelAction — inquire KBank after a callback, a timeout or the
 * merchant's cancel: paid, failed, expired, canceled or waiting.
 */
import { awsSagaDeps } from '../adapters/container.js';
import { resolveAction } from '../core/use-cases/resolve-action.js';
import { sagaTask } from './saga.js';

export const handler = sagaTask(resolveAction, awsSagaDeps);
