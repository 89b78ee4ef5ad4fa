/**
 * What the state machines send their task Lambdas, one schema per step: the boundary of the saga contract
 * (functions/core/saga-contract.ts). Each schema's output is the step's input type, so a parsed task input
 * is what the step takes, never a cast.
 */
import * as z from 'zod';
import type {
  PaymentStepInput,
  PaymentStepName,
  RefundStepInput,
  RefundStepName,
} from '../functions/core/saga-contract.js';
import { RESOLVE_REASONS } from '../functions/core/saga-contract.js';
import { PaymentIdSchema, RefundIdSchema } from './api.js';
import { PaymentEventDetailSchema, RefundEventDetailSchema } from './events.js';

/** Step Functions' `{Error, Cause}` of the failure that led to a compensation. */
const TaskErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });

/** @example {"paymentId":"pay_01JD3Q4V7M0000000000000000"} */
export const PaymentTaskInputSchema = z.object({ paymentId: PaymentIdSchema });

/** @example {"paymentId":"pay_01JD3Q4V7M0000000000000000","error":{"Error":"KbankUnavailable"}} */
export const CompensationInputSchema = z.object({
  paymentId: PaymentIdSchema,
  error: TaskErrorSchema.optional(),
});

const SagaEventSchema = z.union([PaymentEventDetailSchema, RefundEventDetailSchema]);

/** Input of Reenter: plain (take over), after an event held on the payment went out again, or a hand-over. */
export const ReentryInputSchema = z.object({
  paymentId: PaymentIdSchema,
  delivered: SagaEventSchema.optional(),
  undelivered: SagaEventSchema.nullable().optional(),
});

/** Input of AwaitAction: the saga waits for the customer (the timeout is the state's own). */
export const ActionTaskInputSchema = z.object({
  paymentId: PaymentIdSchema,
  taskToken: z.string().min(1),
});

/** Input of ResolveAction: after a callback resumed the saga, after the wait timed out, or after a cancel. */
export const ResolveActionInputSchema = z.object({
  paymentId: PaymentIdSchema,
  reason: z.enum(RESOLVE_REASONS),
});

/** Input of AwaitCapture, which parks the saga (`.waitForTaskToken`) for the capture window. */
export const CallbackTaskInputSchema = z.object({
  paymentId: PaymentIdSchema,
  taskToken: z.string().min(1),
  captureWindowSeconds: z.int().positive(),
});

export const PAYMENT_STEP_INPUTS: { readonly [S in PaymentStepName]: z.ZodType<PaymentStepInput<S>> } = {
  reenter: ReentryInputSchema,
  verifyCost: PaymentTaskInputSchema,
  authorize: PaymentTaskInputSchema,
  inquireAuthorization: PaymentTaskInputSchema,
  awaitAction: ActionTaskInputSchema,
  resolveAction: ResolveActionInputSchema,
  awaitCapture: CallbackTaskInputSchema,
  capture: PaymentTaskInputSchema,
  voidAuthorization: CompensationInputSchema,
  failPayment: CompensationInputSchema,
};

/** @example {"paymentId":"pay_01JD3Q4V7M0000000000000000","refundId":"re_01JD3Q4V7M0000000000000001"} */
export const RefundTaskInputSchema = z.object({
  paymentId: PaymentIdSchema,
  refundId: RefundIdSchema,
  error: TaskErrorSchema.optional(),
});

export const RefundUnresolvedInputSchema = RefundTaskInputSchema.extend({
  undelivered: RefundEventDetailSchema.nullable().optional(),
});

export const REFUND_STEP_INPUTS: { readonly [S in RefundStepName]: z.ZodType<RefundStepInput<S>> } = {
  refundAtKbank: RefundTaskInputSchema,
  inquireRefund: RefundTaskInputSchema,
  refundUnresolved: RefundUnresolvedInputSchema,
};
