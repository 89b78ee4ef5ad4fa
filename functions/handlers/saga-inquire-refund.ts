/** Refund saga task InquireRefund — resolve a refund whose KBank answer we did not see. */
import { awsRefundSagaDeps } from '../adapters/container.js';
import { inquireRefund } from '../core/use-cases/inquire-refund.js';
import { refundTask } from './refund-task.js';

export const handler = refundTask(inquireRefund, awsRefundSagaDeps);
