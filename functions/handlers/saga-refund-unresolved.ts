/** Refund saga tasks RefundUnresolved and HandOver* — what the refund saga leaves to reconciliation. */
import { awsRefundTaskDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { refundUnresolved } from '../core/use-cases/refund-saga/refund-unresolved.js';
import { refundTask } from './refund-task.js';

export const createHandler = (deps: Pick<Dependencies, 'refundSaga'>) =>
  refundTask('saga-refund-unresolved', refundUnresolved, deps.refundSaga);

export const handler = createHandler({ refundSaga: awsRefundTaskDeps('saga-refund-unresolved', {}) });
