/** Saga task AuthorizeCard — write the attempt ahead, charge the card at KBank. */
import { awsSagaDeps } from '../adapters/container.js';
import { authorizeCard } from '../core/use-cases/authorize-card.js';
import { sagaTask } from './saga.js';

export const handler = sagaTask(authorizeCard, awsSagaDeps);
