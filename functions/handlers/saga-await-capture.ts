/** Saga task AwaitCapture (callback) — park the saga until the merchant captures or cancels. */
import { awsSagaDeps } from '../adapters/container.js';
import { awaitCapture } from '../core/use-cases/await-capture.js';
import { sagaTask } from './saga.js';

export const handler = sagaTask(awaitCapture, awsSagaDeps);
