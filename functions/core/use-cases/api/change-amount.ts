/**
 * Use case: the order changed before capture. The new order is re-priced by the cost service; a lower
 * amount becomes what may be captured, a higher one needs a new authorization (refused with a clear
 * problem). Recorded against the payment's version, then the parked saga is resumed so it publishes
 * `payment.amount_changed` and waits again with the time left.
 */

import { ConflictError, CostMismatch, ValidationError } from '../../errors.js';
import { handToSweep } from '../../flows/hand-to-sweep.js';
import {
  type ManualCaptureDeps,
  onLatestVersion,
  ownedPayment,
  type PaymentCommand,
} from '../../flows/merchant-requests.js';
import type { Currency } from '../../money.js';
import { applyStep, type Payment } from '../../payment.js';
import { assertPointsKept } from '../../points.js';
import type { CostService, OrderLine } from '../../ports.js';
import type { CaptureCallback } from '../../saga-contract.js';
import { eventDetail } from '../../views.js';

export interface ChangeAmountCommand extends PaymentCommand {
  amount: number;
  currency: Currency;
  order: { id: string; lines: OrderLine[] };
}

/** The payment with its new amount and order, handed to its saga (the answer is `200` with it). */
export async function changeAmount(
  deps: ManualCaptureDeps & { cost: CostService },
  command: ChangeAmountCommand,
): Promise<Payment> {
  return onLatestVersion(async () => {
    const payment = await ownedPayment(deps.repo, command.merchantId, command.paymentId);
    if (payment.status !== 'requires_capture') {
      throw new ConflictError(
        `Payment ${payment.id} is ${payment.status}; its amount can change only while it awaits capture.`,
        'amount_not_changeable',
      );
    }
    if (command.currency !== payment.currency) {
      throw new ValidationError('The currency of a payment cannot change.', [
        { field: 'currency', message: `must be ${payment.currency}` },
      ]);
    }
    assertPointsKept(payment, command.amount);
    if (command.amount > payment.amountAuthorized) {
      throw new ConflictError(
        `${command.amount} is more than the ${payment.amountAuthorized} authorized: an increase needs a new ` +
          'authorization. Cancel this payment and create a new one for the new amount.',
        'reauthorization_required',
      );
    }
    const quote = await deps.cost.quote({
      orderId: command.order.id,
      currency: command.currency,
      lines: command.order.lines,
    });
    if (quote.totalAmount !== command.amount) {
      throw new CostMismatch(
        `The new order costs ${quote.totalAmount}, not ${command.amount}.`,
        quote.totalAmount,
      );
    }
    const change = applyStep(
      payment,
      {
        type: 'payment.amount_changed',
        actor: 'api',
        patch: {
          amount: command.amount,
          order: command.order,
          amountCapturable: command.amount,
        },
        detail: { from: payment.amount, to: command.amount, orderId: command.order.id },
      },
      deps.clock.now(),
    );
    await deps.repo.commit(change);
    await resumeWaiting(deps, payment, change.next);
    return change.next;
  });
}

/**
 * Hands the change to the saga, which publishes it and parks again (with a new token) for the time that
 * is left. The old token stays on the payment until then, so a retry of this request can resume again.
 */
async function resumeWaiting(deps: ManualCaptureDeps, before: Payment, after: Payment): Promise<void> {
  if (!before.captureToken) return;
  const left = Math.ceil((Date.parse(after.captureBefore ?? '') - deps.clock.now().getTime()) / 1000);
  const resumed = await deps.tasks.succeed(before.captureToken, {
    outcome: 'amount_changed',
    event: eventDetail('payment.amount_changed', after),
    remainingSeconds: Math.max(1, Number.isFinite(left) ? left : 1),
  } satisfies CaptureCallback);
  if (!resumed) await handToSweep(deps, after);
}
