/**
 * What the state machines send their task Lambdas, one schema per step: the boundary of the saga contract
 * (functions/core/saga-contract.ts). Each schema's output is the step's input type, so a parsed task input
 * is what the step takes, never a cast.
 */
import * as z from 'zod';
import type {
  Carried,
  PaymentStepInput,
  PaymentStepName,
  RefundStepInput,
  RefundStepName,
} from '../functions/core/saga-contract.js';
import { RESOLVE_REASONS } from '../functions/core/saga-contract.js';
import { PaymentIdSchema, RefundIdSchema } from './api.js';
import { PaymentEventDetailSchema, PointsEventDetailSchema, RefundEventDetailSchema } from './events.js';

/** Step Functions' `{Error, Cause}` of the failure that led to a compensation. */
const TaskErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });

const SagaEventSchema = z.union([PaymentEventDetailSchema, RefundEventDetailSchema, PointsEventDetailSchema]);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The payment (and attempt) the previous step recorded, as the saga carries it: our own output from one task
 * to the next, so it is checked for its identity and version only; the step that uses it writes conditioned
 * on that version, and a stale copy costs a re-read, never a wrong write.
 */
const CarriedSchema = z.custom<Carried>(
  (value) =>
    isRecord(value) &&
    isRecord(value.payment) &&
    typeof value.payment.id === 'string' &&
    Number.isInteger(value.payment.seq) &&
    (value.attempt === undefined || value.attempt === null || isRecord(value.attempt)),
  'not a carried payment',
);

/** The previous step's result (`$.step`): its outcome, its event, and the payment it carries. */
const PreviousStepSchema = z.object({
  outcome: z.string(),
  event: SagaEventSchema.nullish(),
  carried: CarriedSchema.nullish(),
  verification: z.object({ totalAmount: z.int(), verifiedAt: z.string() }).nullish(),
});

/** @example {"paymentId":"pay_01JD3Q4V7M0000000000000000","previous":{"outcome":"verified","event":null}} */
export const PaymentTaskInputSchema = z.object({
  paymentId: PaymentIdSchema,
  previous: PreviousStepSchema.optional(),
});

/** @example {"paymentId":"pay_01JD3Q4V7M0000000000000000","error":{"Error":"KbankUnavailable"}} */
export const CompensationInputSchema = PaymentTaskInputSchema.extend({ error: TaskErrorSchema.optional() });

/**
 * The events of an EventNotPublished task error: its cause is the runtime's error JSON, whose message is the
 * events (functions/core/errors.ts).
 */
const UnpublishedSchema = z
  .object({ Error: z.literal('EventNotPublished'), Cause: z.string() })
  .transform((error, context) => {
    try {
      const cause = JSON.parse(error.Cause) as { errorMessage?: unknown };
      return typeof cause.errorMessage === 'string' ? (JSON.parse(cause.errorMessage) as unknown) : null;
    } catch {
      context.addIssue({ code: 'custom', message: 'the cause of EventNotPublished is not its events' });
      return z.NEVER;
    }
  })
  .pipe(z.array(SagaEventSchema));

/** Input of Reenter: plain (take over), after an event held on the payment went out again, or a hand-over. */
export const ReentryInputSchema = z.object({
  paymentId: PaymentIdSchema,
  delivered: SagaEventSchema.optional(),
  undelivered: SagaEventSchema.nullable().optional(),
  unpublished: UnpublishedSchema.optional(),
});

/** Input of AwaitAction: the saga waits for the customer (the timeout is the state's own). */
export const ActionTaskInputSchema = PaymentTaskInputSchema.extend({
  taskToken: z.string().min(1),
});

/** Input of ResolveAction: after a callback resumed the saga, after the wait timed out, or after a cancel. */
export const ResolveActionInputSchema = PaymentTaskInputSchema.extend({
  reason: z.enum(RESOLVE_REASONS),
});

/** Input of AwaitCapture, which parks the saga (`.waitForTaskToken`) for the capture window. */
export const CallbackTaskInputSchema = PaymentTaskInputSchema.extend({
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
  undelivered: z.union([RefundEventDetailSchema, PointsEventDetailSchema]).nullable().optional(),
});

export const REFUND_STEP_INPUTS: { readonly [S in RefundStepName]: z.ZodType<RefundStepInput<S>> } = {
  refundAtKbank: RefundTaskInputSchema,
  inquireRefund: RefundTaskInputSchema,
  refundUnresolved: RefundUnresolvedInputSchema,
};
