/** Refund saga task RefundUnresolved — record a refund KBank could not account for as `unknown`. */
import { awsRefundSagaDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { refundUnresolved } from '../core/use-cases/refund-unresolved.js';
import { refundTask } from './refund-task.js';

export const createHandler = (deps: Pick<Dependencies, 'refundSaga'>) =>
  refundTask('saga-refund-unresolved', refundUnresolved, deps.refundSaga);

export const handler = createHandler({ refundSaga: awsRefundSagaDeps });
