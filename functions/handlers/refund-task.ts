/**
 * What every refund saga task handler shares: the input the refund state machine sends
 * (`{paymentId, refundId, error?}`), validated, and a thin middy wrapper around one use case. Errors
 * propagate by class name so the state machine's Retry/Catch can match them.
 */
import middy from '@middy/core';
import * as z from 'zod';
import { PaymentIdSchema, RefundIdSchema } from '../../schemas/api.js';
import type { RefundSagaDeps, RefundStepResult, RefundTaskInput } from '../core/use-cases/refund-saga.js';
import { logger, withLogContext } from './logger.js';

export const RefundTaskInputSchema = z.object({
  paymentId: PaymentIdSchema,
  refundId: RefundIdSchema,
  error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
});

export type RefundStep = (deps: RefundSagaDeps, input: RefundTaskInput) => Promise<RefundStepResult>;

export function refundTask(step: RefundStep, deps: () => RefundSagaDeps) {
  return middy<unknown, RefundStepResult>(async (event: unknown): Promise<RefundStepResult> => {
    const input = RefundTaskInputSchema.parse(event) as RefundTaskInput;
    const result = await step(deps(), input);
    logger.info('refund step done', {
      step: step.name,
      paymentId: input.paymentId,
      refundId: input.refundId,
      outcome: result.outcome,
    });
    return result;
  }).use(withLogContext());
}
