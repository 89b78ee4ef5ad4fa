/**
 * What the merchant's requests on an existing payment share: the payment looked up as the merchant's own
 * (another merchant's payment does not exist), the command of a request the saga carries out (capture,
 * cancel, amount change), and running it against the payment's latest version.
 */
import { NotFoundError } from '../errors.js';
import type { Payment } from '../payment.js';
import type { Clock, IdempotencyStore, TaskNotifier } from '../ports.js';
import type { PaymentRepository } from '../repository.js';
import { DEFAULT_CONTENTION, retryOnStaleWrite } from './contention.js';

/** The payment if it is this merchant's; an unknown payment and another merchant's are both not found. */
export async function ownedPayment(
  repo: PaymentRepository,
  merchantId: string,
  paymentId: string,
): Promise<Payment> {
  const payment = await repo.get(paymentId);
  if (!payment || payment.merchantId !== merchantId) throw new NotFoundError(`No payment ${paymentId}.`);
  return payment;
}

export interface ManualCaptureDeps {
  /** markDue: a request whose saga cannot be resumed is handed to the reconciliation sweep. */
  repo: PaymentRepository;
  /** The request's Idempotency-Key, kept by the API edge (handlers/idempotency.ts). */
  idempotency: IdempotencyStore;
  tasks: TaskNotifier;
  clock: Clock;
}

export interface PaymentCommand {
  merchantId: string;
  paymentId: string;
  /** Recorded on the payment with the request, so that a retry after a crash carries it on. */
  idempotencyKey: string;
}

/**
 * Runs a merchant request against the payment's latest version. Only status changes take the version, so
 * a request that lost the race lost it to a real change: it re-reads and decides again (the change may
 * have made it moot, and then it gets its own typed refusal). It is never refused for having lost a race;
 * only a payment changed continuously for the whole budget answers `409 stale_write`, which is not stored
 * under the key, so the same request can simply be retried.
 */
export function onLatestVersion<T>(work: () => Promise<T>): Promise<T> {
  return retryOnStaleWrite(DEFAULT_CONTENTION, work);
}
