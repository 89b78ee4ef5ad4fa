/** Refund saga task InquireRefund — resolve a refund whose KBank answer we did not see. */
import { awsKbank, awsRefundTaskDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { inquireRefund } from '../core/use-cases/refund-saga/inquire-refund.js';
import { refundTask } from './refund-task.js';

export const createHandler = (deps: Pick<Dependencies, 'refundSaga'>) =>
  refundTask('saga-inquire-refund', inquireRefund, deps.refundSaga);

export const handler = createHandler({
  refundSaga: awsRefundTaskDeps('saga-inquire-refund', { kbank: awsKbank }),
});
