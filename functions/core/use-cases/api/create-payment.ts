/**
 * Use case: create a payment under an Idempotency-Key, then start its saga. A retry with the same
 * key replays the first answer; a retry after a crash finishes the same payment instead of a second one.
 */
import type { CreatePaymentRequest, PaymentResource } from '../../../../schemas/api.js';
import { idempotent, type RefusalResponse } from '../../flows/idempotent.js';
import { startStep } from '../../flows/payment-step.js';
import type { IdGenerator } from '../../ids.js';
import { newPayment, type PaymentMethodType } from '../../payment.js';
import type { Clock, IdempotencyStore, StoredResponse, WorkflowStarter } from '../../ports.js';
import type { PaymentRepository } from '../../repository.js';
import type { PaymentSagaInput } from '../../saga-contract.js';
import {
  DEFAULT_CAPTURE_WINDOW_SECONDS,
  DEFAULT_QR_WINDOW_SECONDS,
  DEFAULT_REDIRECT_WINDOW_SECONDS,
} from '../../time-windows.js';
import { paymentView } from '../../views.js';

export interface CreatePaymentDeps {
  /** Manual capture window; default DEFAULT_CAPTURE_WINDOW_SECONDS. */
  captureWindowSeconds?: number;
  /** How long the customer has for a QR (Thai QR, WeChat Pay) or a redirect (Alipay, 3-D Secure). */
  actionWindows?: { qrSeconds?: number; redirectSeconds?: number };
  repo: PaymentRepository;
  idempotency: IdempotencyStore;
  workflow: WorkflowStarter;
  clock: Clock;
  ids: IdGenerator;
}

/** The customer's time for the method, unless the request sets `action_expires_in`. */
function actionWindow(deps: CreatePaymentDeps, method: PaymentMethodType): number {
  return method === 'qr_promptpay' || method === 'wechat_pay'
    ? (deps.actionWindows?.qrSeconds ?? DEFAULT_QR_WINDOW_SECONDS)
    : (deps.actionWindows?.redirectSeconds ?? DEFAULT_REDIRECT_WINDOW_SECONDS);
}

export interface CreatePaymentCommand {
  merchantId: string;
  idempotencyKey: string;
  request: CreatePaymentRequest;
  /** The response stored for a terminal refusal, so that the same key replays it (see idempotent.ts). */
  refusal?: RefusalResponse;
}

export interface CreatePaymentResult {
  response: StoredResponse & { body: PaymentResource };
  replayed: boolean;
}

export async function createPayment(
  deps: CreatePaymentDeps,
  command: CreatePaymentCommand,
): Promise<CreatePaymentResult> {
  const { request } = command;
  return idempotent(
    deps,
    {
      merchantId: command.merchantId,
      operation: 'POST /v1/payments',
      key: command.idempotencyKey,
      request,
      resourceId: deps.ids('pay'),
    },
    async (paymentId) => {
      const { payment: fresh, audit } = newPayment(
        {
          id: paymentId,
          merchantId: command.merchantId,
          amount: request.amount,
          currency: request.currency,
          captureMethod: request.capture,
          order: {
            id: request.order.id,
            lines: request.order.lines.map((line) => ({
              sku: line.sku,
              quantity: line.quantity,
              unitAmount: line.unit_amount,
            })),
          },
          customer: request.customer,
          paymentMethod: request.payment_method,
          actionWindowSeconds: request.action_expires_in ?? actionWindow(deps, request.payment_method.type),
          ...(request.description === undefined ? {} : { description: request.description }),
          ...(request.metadata === undefined ? {} : { metadata: request.metadata }),
        },
        deps.clock.now(),
      );
      // A taken-over key (its first holder crashed) may already have written this payment: reuse it.
      const created = await deps.repo.create(fresh, audit);
      const payment = created ? fresh : ((await deps.repo.get(fresh.id)) ?? fresh);
      await deps.workflow.start(payment.id, {
        paymentId: payment.id,
        captureMethod: payment.captureMethod,
        captureWindowSeconds: deps.captureWindowSeconds ?? DEFAULT_CAPTURE_WINDOW_SECONDS,
        step: startStep(payment, created),
      } satisfies PaymentSagaInput);
      return { statusCode: 201, body: paymentView(payment) };
    },
    command.refusal,
  );
}
