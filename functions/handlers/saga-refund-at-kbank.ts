/** Refund saga task RefundAtKbank — send the refund to KBank (once) and record the answer. */
import { awsKbank, awsRefundTaskDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { refundAtKbank } from '../core/use-cases/refund-saga/refund-at-kbank.js';
import { refundTask } from './refund-task.js';

export const createHandler = (deps: Pick<Dependencies, 'refundSaga'>) =>
  refundTask('saga-refund-at-kbank', refundAtKbank, deps.refundSaga);

export const handler = createHandler({
  refundSaga: awsRefundTaskDeps('saga-refund-at-kbank', { kbank: awsKbank }),
});
