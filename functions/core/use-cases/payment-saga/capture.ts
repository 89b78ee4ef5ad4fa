/**
 * Saga step Capture: settle the authorized charge at KBank (flows/capture-at-kbank.ts). Retry-safe without a
 * write-ahead record: the charge is already tracked by id, so an unclear answer is resolved by inquiring it.
 */
import { capturePayment } from '../../flows/capture-at-kbank.js';
import { sagaStep } from '../../flows/payment-step.js';

export const capture = sagaStep('capture', (deps, input) => capturePayment(deps, input.paymentId));
