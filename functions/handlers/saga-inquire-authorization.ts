/** Saga task InquireAuthorization — resolve an authorization whose answer we did not see. */
import { awsSagaDeps } from '../adapters/container.js';
import { inquireAuthorization } from '../core/use-cases/inquire-authorization.js';
import { sagaTask } from './saga.js';

export const handler = sagaTask(inquireAuthorization, awsSagaDeps);
