/**
 * What the state machines send their Lambda tasks (the Parameters of statemachines/*.asl.json), validated
 * before a step runs. The catalog (functions/catalog.ts) names each task's schema.
 */
import * as z from 'zod';
import { PaymentIdSchema, RefundIdSchema } from './api.js';

/** The `{Error, Cause}` a failed state hands to the next task. */
const TaskErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });

/** Most payment saga tasks: the payment, and the error that led here when a Catch did. */
export const SagaTaskInputSchema = z.object({
  paymentId: PaymentIdSchema,
  error: TaskErrorSchema.optional(),
});

/** Input of a task that parks the saga (`.waitForTaskToken`). */
export const CallbackTaskInputSchema = z.object({
  paymentId: PaymentIdSchema,
  taskToken: z.string().min(1),
  captureWindowSeconds: z.int().positive(),
});

/** Input of AwaitAction: the saga waits for the customer (the timeout is the state's own). */
export const ActionTaskInputSchema = z.object({
  paymentId: PaymentIdSchema,
  taskToken: z.string().min(1),
});

/** Input of ResolveAction: after a callback resumed the saga, after the wait timed out, or after a cancel. */
export const ResolveActionInputSchema = z.object({
  paymentId: PaymentIdSchema,
  reason: z.enum(['notified', 'timed_out', 'canceled']),
});

/** Every refund saga task: `{paymentId, refundId, error?}`. */
export const RefundTaskInputSchema = z.object({
  paymentId: PaymentIdSchema,
  refundId: RefundIdSchema,
  error: TaskErrorSchema.optional(),
});
