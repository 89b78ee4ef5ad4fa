/**
 * Use case: create a card payment under an Idempotency-Key, then start its saga. A retry with the same
 * key replays the first answer; a retry after a crash finishes the same payment instead of a second one.
 */
import { createHash } from 'node:crypto';
import type { CreatePaymentRequest, PaymentResource } from '../../../schemas/api.js';
import type { IdGenerator } from '../ids.js';
import { newPayment } from '../payment.js';
import type { Clock, IdempotencyStore, StoredResponse, WorkflowStarter } from '../ports.js';
import type { PaymentRepository } from '../repository.js';
import { eventDetail, paymentView } from '../views.js';

export interface CreatePaymentDeps {
  repo: PaymentRepository;
  idempotency: IdempotencyStore;
  workflow: WorkflowStarter;
  clock: Clock;
  ids: IdGenerator;
}

export interface CreatePaymentCommand {
  merchantId: string;
  idempotencyKey: string;
  request: CreatePaymentRequest;
}

export interface CreatePaymentResult {
  response: StoredResponse & { body: PaymentResource };
  replayed: boolean;
}

export async function createPayment(
  deps: CreatePaymentDeps,
  command: CreatePaymentCommand,
): Promise<CreatePaymentResult> {
  const scope = `${command.merchantId}#POST /v1/payments`;
  const reservation = await deps.idempotency.reserve({
    scope,
    key: command.idempotencyKey,
    fingerprint: fingerprint(command.request),
    resourceId: deps.ids('pay'),
    now: deps.clock.now(),
  });
  if (reservation.kind === 'replay') {
    return { response: reservation.response as CreatePaymentResult['response'], replayed: true };
  }

  const { request } = command;
  const { payment: fresh, audit } = newPayment(
    {
      id: reservation.resourceId,
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
      paymentMethod: { type: 'card', token: request.payment_method.token },
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
    event: eventDetail('payment.created', { ...payment, seq: 1, updatedAt: payment.createdAt }),
  });
  const response = { statusCode: 201, body: paymentView(payment) };
  await deps.idempotency.complete({ scope, key: command.idempotencyKey, response, now: deps.clock.now() });
  return { response, replayed: false };
}

/** A stable digest of the request: same parameters, same fingerprint, whatever the key order. */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
