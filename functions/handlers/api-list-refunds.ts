/** GET /v1/payments/{id}/refunds — the payment's refunds, oldest first, cursor-paginated. */
import { awsRepository } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import type { PaymentRepository, RefundRepository } from '../core/repository.js';
import { listRefunds } from '../core/use-cases/api/read-refunds.js';
import { refundView } from '../core/views.js';
import { paymentListHandler } from './payment-list.js';

export function createListRefundsHandler(repo: () => PaymentRepository & RefundRepository) {
  return paymentListHandler(repo, listRefunds, refundView);
}

export const createHandler = (deps: Pick<Dependencies, 'table'>) => createListRefundsHandler(deps.table);

export const handler = createHandler({ table: awsRepository });
