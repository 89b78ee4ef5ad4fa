/**
 * Use case: create a payment, then start its saga. Under an Idempotency-Key the payment, its first
 * audit entry and the key with the answer to store are one transaction, so a crash can never leave a key
 * without its payment or the reverse. The same key again replays that answer; it finds the payment still
 * at its first version when the saga may never have started (the first request died after writing), and
 * starts it again: the execution is named by the payment, so a saga already running is not doubled.
 */
import {
  IdempotencyInFlightError,
  IdempotencyMismatchError,
  InsufficientPoints,
  PointsNotEnabled,
  ValidationError,
} from '../../errors.js';
import { startStep } from '../../flows/payment-step.js';
import type { IdGenerator } from '../../ids.js';
import { newPayment, type Payment, type PaymentMethod } from '../../payment.js';
import { type PaymentPoints, type PointsLedger, type PointsPrograms, splitTender } from '../../points.js';
import type { Clock, IdempotencyStore, KeyClaim, StoredResponse, WorkflowStarter } from '../../ports.js';
import type { PaymentRepository } from '../../repository.js';
import type { PaymentSagaInput } from '../../saga-contract.js';
import {
  DEFAULT_CAPTURE_WINDOW_SECONDS,
  DEFAULT_QR_WINDOW_SECONDS,
  DEFAULT_REDIRECT_WINDOW_SECONDS,
} from '../../time-windows.js';

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
  /** The merchant's points program and the customer's balance, for payments with points. */
  points?: { ledger: Pick<PointsLedger, 'balance'>; programs: PointsPrograms };
}

/** What a new payment is made of, as the merchant asked for it. */
export type NewPaymentRequest = Omit<
  Parameters<typeof newPayment>[0],
  'id' | 'merchantId' | 'actionWindowSeconds' | 'points'
> & {
  /** The customer's time, instead of the method's default. */
  actionWindowSeconds?: number;
  /** A split: this many of the customer's points, the rest by the payment method. */
  points?: number;
};

export interface CreatePaymentCommand {
  merchantId: string;
  request: NewPaymentRequest;
  /** The Idempotency-Key with the answer to store, made from the payment once it is known. */
  claim: (payment: Payment) => KeyClaim;
}

/** A payment created now, or the stored answer of the request that created it under the same key. */
export type Creation = { kind: 'created'; payment: Payment } | { kind: 'replayed'; response: StoredResponse };

export async function createPayment(
  deps: CreatePaymentDeps,
  command: CreatePaymentCommand,
): Promise<Creation> {
  const { points: splitPoints, ...request } = command.request;
  const points = await pointsTender(deps, command.merchantId, command.request);
  const { payment, audit } = newPayment(
    {
      ...request,
      id: deps.ids('pay'),
      merchantId: command.merchantId,
      actionWindowSeconds: request.actionWindowSeconds ?? actionWindow(deps, request.paymentMethod),
      ...(points ? { points } : {}),
    },
    deps.clock.now(),
  );
  const claim = command.claim(payment);
  if (points && splitPoints !== undefined)
    audit.detail.points = { points: points.points, value: points.value };
  if (points && !(await coversPoints(deps, command.merchantId, points))) {
    // The same request under a key that already created its payment is answered as before.
    if (await deps.idempotency.find(claim)) return replay(deps, claim);
    throw await insufficient(deps, command.merchantId, points);
  }
  if (await deps.repo.create(payment, audit, claim)) {
    await startSaga(deps, payment, true);
    return { kind: 'created', payment };
  }
  return replay(deps, claim);
}

/** The key was claimed by an earlier request: the same request gets its answer, another is refused. */
async function replay(deps: CreatePaymentDeps, claim: KeyClaim): Promise<Creation> {
  const held = await deps.idempotency.find(claim);
  if (held && held.fingerprint !== claim.fingerprint) {
    throw new IdempotencyMismatchError('This Idempotency-Key was already used with different parameters.');
  }
  if (!held) {
    // Neither written: the payment's id was taken (ids are unique, so this is a bug), nothing was.
    throw new Error(`payment creation under key ${claim.key} wrote nothing`);
  }
  if (!held.response) {
    // Claimed without an answer yet: a request holding the key the way other operations do.
    throw new IdempotencyInFlightError('A request with this Idempotency-Key is still in progress.');
  }
  const payment = await deps.repo.get(held.resourceId);
  if (payment && payment.seq === 1) await startSaga(deps, payment, false);
  return { kind: 'replayed', response: held.response };
}

/**
 * The points part of a new payment (none without points): exact in the merchant's program, in its
 * currency. Whether the customer has them is checked at creation only to refuse at once (nothing written);
 * the saga's hold is what enforces it, by a condition on the balance.
 */
async function pointsTender(
  deps: CreatePaymentDeps,
  merchantId: string,
  request: NewPaymentRequest,
): Promise<PaymentPoints | undefined> {
  const pointsOnly = request.paymentMethod.type === 'points';
  if (!pointsOnly && request.points === undefined) return undefined;
  const program = await deps.points?.programs.program(merchantId);
  if (!program) throw new PointsNotEnabled(merchantId);
  if (program.currency !== request.currency) {
    throw new ValidationError('points pay in the currency of the points program', [
      { field: 'currency', message: `points are worth ${program.currency}, not ${request.currency}` },
    ]);
  }
  const split = splitTender(
    request.amount,
    program,
    pointsOnly ? { pointsOnly: true } : { points: request.points as number },
  );
  return {
    customerId: request.customer.id,
    points: split.points,
    value: split.pointsValue,
    status: 'pending',
  };
}

async function coversPoints(deps: CreatePaymentDeps, merchantId: string, points: PaymentPoints) {
  const balance = await deps.points?.ledger.balance(merchantId, points.customerId);
  return (balance?.available ?? 0) >= points.points;
}

async function insufficient(
  deps: CreatePaymentDeps,
  merchantId: string,
  points: PaymentPoints,
): Promise<InsufficientPoints> {
  const available = (await deps.points?.ledger.balance(merchantId, points.customerId))?.available ?? 0;
  return new InsufficientPoints(
    `customer ${points.customerId} has ${available} points available, ${points.points} needed`,
    available,
  );
}

/** The customer's time for the method, unless the request sets its own. */
function actionWindow(deps: CreatePaymentDeps, paymentMethod: PaymentMethod): number {
  const method = paymentMethod.type;
  return method === 'qr_promptpay' || method === 'wechat_pay'
    ? (deps.actionWindows?.qrSeconds ?? DEFAULT_QR_WINDOW_SECONDS)
    : (deps.actionWindows?.redirectSeconds ?? DEFAULT_REDIRECT_WINDOW_SECONDS);
}

/** Starts the saga; `written` when this request wrote the payment, so the first step may take it as carried. */
async function startSaga(deps: CreatePaymentDeps, payment: Payment, written: boolean): Promise<void> {
  await deps.workflow.start(payment.id, sagaInput(deps, payment, written));
}

/** The saga's input: made from the payment as stored, so a start repeated for a replay asks the same. */
function sagaInput(deps: CreatePaymentDeps, payment: Payment, written: boolean) {
  return {
    paymentId: payment.id,
    captureMethod: payment.captureMethod,
    captureWindowSeconds: deps.captureWindowSeconds ?? DEFAULT_CAPTURE_WINDOW_SECONDS,
    step: startStep(payment, written),
  } satisfies PaymentSagaInput;
}
