/** Saga task Capture — settle the authorized charge. */
import { awsSagaDeps } from '../adapters/container.js';
import { capture } from '../core/use-cases/capture.js';
import { sagaTask } from './saga.js';

export const handler = sagaTask(capture, awsSagaDeps);
