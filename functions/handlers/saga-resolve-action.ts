/** Saga task ResolveAction — inquire KBank after a callback or a timeout: paid, failed, expired or waiting. */
import { awsSagaDeps } from '../adapters/container.js';
import { resolveAction } from '../core/use-cases/resolve-action.js';
import { ResolveActionInputSchema, sagaTask } from './saga.js';

export const handler = sagaTask(resolveAction, awsSagaDeps, ResolveActionInputSchema);
