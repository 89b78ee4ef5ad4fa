/** Refund saga task RefundUnresolved — record a refund KBank could not account for as `unknown`. */
import { awsRefundSagaDeps } from '../adapters/container.js';
import { refundUnresolved } from '../core/use-cases/refund-unresolved.js';
import { refundTask } from './refund-task.js';

export const handler = refundTask(refundUnresolved, awsRefundSagaDeps);
