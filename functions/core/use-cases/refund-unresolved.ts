/**
 * Refund saga step RefundUnresolved: the inquiry schedule ran out without an answer. The refund becomes
 * `unknown` and its amount stays reserved (it may have been paid out), for reconciliation (docs/runbook.md).
 */
import {
  type RefundSagaDeps,
  type RefundStepResult,
  type RefundTaskInput,
  recordResolution,
} from './refund-saga.js';

export async function refundUnresolved(
  deps: RefundSagaDeps,
  input: RefundTaskInput,
): Promise<RefundStepResult> {
  return recordResolution(deps, input, {
    status: 'unknown',
    detail: { error: input.error?.Error ?? null },
  });
}
