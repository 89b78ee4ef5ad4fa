/** How the simulator refuses: KBank's error object, the error that carries it, and the checks every operation shares. */
import type { z } from 'zod';
import { type Currency, fromDecimalString } from '../../functions/core/money.js';
import type { KbankState } from '../../functions/core/ports.js';
import type { SimReply } from '../sim-http.js';
import type { SimCharge } from './types.js';

export type Reply = SimReply;

/** A refusal: answered as KBank's error object with this status and code. */
export class SimError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function errorReply(status: number, code: string, message: string): Reply {
  return { status, body: { object: 'error', code, message } };
}

export function invalidRequest(error: z.ZodError): SimError {
  const fields = error.issues.map((issue) => issue.path.join('.') || '(body)').join(', ');
  return new SimError(400, 'invalid_request', `invalid fields: ${fields}`);
}

/** A positive amount in minor units, from KBank's decimal (string or number). */
export function parseAmount(value: string | number, currency: Currency): number {
  let minor: number;
  try {
    minor = fromDecimalString(value, currency);
  } catch {
    throw new SimError(400, 'invalid_amount', `amount is not valid for ${currency}`);
  }
  if (minor <= 0) throw new SimError(400, 'invalid_amount', 'amount must be more than zero');
  return minor;
}

export function requireState(charge: SimCharge, expected: KbankState, operation: string): void {
  if (charge.state !== expected) {
    throw new SimError(400, 'invalid_state', `cannot ${operation} a charge in state ${charge.state}`);
  }
}
