/** Refund saga tasks RefundUnresolved and HandOver* — what the refund saga leaves to reconciliation. */
import { awsRefundSagaDeps } from '../adapters/container.js';
import { refundUnresolved } from '../core/use-cases/refund-unresolved.js';
import { refundTask } from './refund-task.js';

export const handler = refundTask(refundUnresolved, awsRefundSagaDeps);
