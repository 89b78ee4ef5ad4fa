/** Writes a note (payment.noteEntry) beside a payment's trail: no version taken, bounded per payment. */
import { monotonicUlid } from '../ids.js';
import { type AuditActor, noteEntry, type Payment } from '../payment.js';
import type { Clock } from '../ports.js';
import type { PaymentRepository } from '../repository.js';

export async function recordNote(
  deps: { repo: Pick<PaymentRepository, 'appendNote'>; clock: Clock },
  payment: Payment,
  step: { type: string; actor: AuditActor; detail: Record<string, unknown> },
): Promise<void> {
  const now = deps.clock.now();
  await deps.repo.appendNote(noteEntry(payment, step, now, monotonicUlid(now.getTime())));
}
