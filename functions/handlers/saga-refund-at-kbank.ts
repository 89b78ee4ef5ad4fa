/** Refund saga task RefundAtKbank — send the refund to KBank (once) and record the answer. */
import { awsRefundSagaDeps } from '../adapters/container.js';
import { refundAtKbank } from '../core/use-cases/refund-at-kbank.js';
import { refundTask } from './refund-task.js';

export const handler = refundTask(refundAtKbank, awsRefundSagaDeps);
