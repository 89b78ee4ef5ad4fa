/** GET /v1/payments/{id}/events — the payment's audit trail, oldest first, cursor-paginated. */
import { awsRepository } from '../adapters/container.js';
import type { PaymentRepository } from '../core/repository.js';
import { listPaymentEvents } from '../core/use-cases/read-payments.js';
import { paymentListHandler } from './payment-list.js';

export function createListPaymentEventsHandler(repo: () => PaymentRepository) {
  return paymentListHandler(repo, listPaymentEvents);
}

export const handler = createListPaymentEventsHandler(awsRepository);
