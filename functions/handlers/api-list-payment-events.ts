/** GET /v1/payments/{id}/events — the payment's audit trail, oldest first, cursor-paginated. */
import { awsRepository } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import type { PaymentRepository } from '../core/repository.js';
import { listPaymentEvents } from '../core/use-cases/api/read-payments.js';
import { auditView } from '../core/views.js';
import { paymentListHandler } from './payment-list.js';

export function createListPaymentEventsHandler(repo: () => PaymentRepository) {
  return paymentListHandler(repo, listPaymentEvents, auditView);
}

export const createHandler = (deps: Pick<Dependencies, 'table'>) =>
  createListPaymentEventsHandler(deps.table);

export const handler = createHandler({ table: awsRepository });
