/** The test cards: the magic PANs and their behaviours, card-number rules, and tokenizing a test card as KBank's browser script would. */
import { kbankTokenSchema } from '../../schemas/kbank.js';
import { SETTLE_REFUSALS, SIMULATOR_DEFAULTS, type SimBehaviour } from './types.js';

export interface MagicCard {
  number: string;
  brand: string;
  behaviour: SimBehaviour;
  /** Only for `decline`. */
  failureCode?: string;
  failureMessage?: string;
  /** One line for the docs table. */
  summary: string;
}

/**
 * The magic test cards [ours]: behaviour is chosen by PAN at tokenization and carried by the token. Any
 * other Luhn-valid number approves. docs/kbank-simulator.md and the tests use this table.
 */
export const MAGIC_CARDS = {
  visa: { number: '4111111111111111', brand: 'Visa', behaviour: 'approve', summary: 'approve: `Authorized`' },
  mastercard: {
    number: '5555555555554444',
    brand: 'Mastercard',
    behaviour: 'approve',
    summary: 'approve: `Authorized`',
  },
  jcb: { number: '3530111333300000', brand: 'JCB', behaviour: 'approve', summary: 'approve: `Authorized`' },
  declined: {
    number: '4000000000000002',
    brand: 'Visa',
    behaviour: 'decline',
    failureCode: 'card_declined',
    failureMessage: 'The card was declined by the issuer',
    summary: 'decline: `Declined`, failure_code `card_declined`',
  },
  insufficientFunds: {
    number: '4000000000009995',
    brand: 'Visa',
    behaviour: 'decline',
    failureCode: 'insufficient_funds',
    failureMessage: 'The card has insufficient funds',
    summary: 'decline: `Declined`, failure_code `insufficient_funds`',
  },
  unavailableOnce: {
    number: '4000000000000119',
    brand: 'Visa',
    behaviour: 'unavailable_once',
    summary:
      'the first charge call for a reference_order answers 503 without creating a charge (token not used ' +
      'up); a retry with the same reference_order succeeds',
  },
  timeoutAfterSuccess: {
    number: '4000000000000259',
    brand: 'Visa',
    behaviour: 'timeout_after_success',
    summary:
      'timeout after success: the charge is created (`Authorized`) but the answer is held for `hangMs`',
  },
  landsLate: {
    number: '4000000000000267',
    brand: 'Visa',
    behaviour: 'lands_late',
    summary:
      'a charge that lands late: the first charge call answers 504 `gateway_timeout` with no charge yet; ' +
      'the charge (`Authorized`) lands right after the first inquiry by its reference_order has found ' +
      'nothing (or before a re-sent create, which then gets `duplicate_reference_order`)',
  },
  settleFails: {
    number: '4000000000000341',
    brand: 'Visa',
    behaviour: 'settle_fails',
    summary: 'approves, but settle answers 400 `settlement_failed` (to exercise void compensation)',
  },
  settleUnavailable: {
    number: '4000000000000358',
    brand: 'Visa',
    behaviour: 'settle_unavailable',
    summary:
      `approves, but the first ${SETTLE_REFUSALS} settle calls answer 503 without settling (more than one saga ` +
      'run retries: the capture must be carried out later, not voided); later ones settle',
  },
  slow: {
    number: '4000000000000077',
    brand: 'Visa',
    behaviour: 'slow',
    summary: 'approves, answering after `slowMs`',
  },
  refundFails: {
    number: '4000000000000515',
    brand: 'Visa',
    behaviour: 'refund_fails',
    summary: 'approves and settles, but every refund answers 400 `refund_failed` (nothing refunded)',
  },
  refundTimeoutAfterSuccess: {
    number: '4000000000000523',
    brand: 'Visa',
    behaviour: 'refund_timeout_after_success',
    summary: 'approves and settles; a refund is applied but its answer is held for `hangMs` (a lost answer)',
  },
  threeDSecure: {
    number: '4000000000003220',
    brand: 'Visa',
    behaviour: 'three_d_secure',
    summary:
      '`Pre-Authorized` with `redirect_url` `<sim url>/_sim/3ds/<chargeId>` (a page with Pay / Fail); ' +
      'completing it makes the charge `Authorized`, failing it `Declined`',
  },
} as const satisfies Record<string, MagicCard>;

/**
 * Tokenizes a test card against a running simulator, as KBank's browser script would, and returns the
 * token id. Throws with the simulator's error code when the card is refused.
 */
export async function tokenizeTestCard(
  simulatorUrl: string,
  number: string,
  card: {
    expirationMonth?: number;
    expirationYear?: number;
    securityCode?: string;
    name?: string;
    publicKey?: string;
  } = {},
): Promise<string> {
  const response = await fetch(`${simulatorUrl}/card/v2/tokens`, {
    method: 'POST',
    headers: {
      'x-api-key': card.publicKey ?? SIMULATOR_DEFAULTS.publicKey,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify({
      card: {
        number,
        expiration_month: card.expirationMonth ?? 12,
        expiration_year: card.expirationYear ?? 2099,
        security_code: card.securityCode ?? '123',
        name: card.name ?? 'TEST CARDHOLDER',
      },
    }),
  });
  const json: unknown = await response.json();
  if (!response.ok) {
    const code = (json as { code?: unknown } | null)?.code;
    throw new Error(`tokenization failed: ${response.status} ${String(code)}`);
  }
  return kbankTokenSchema.parse(json).id;
}

/** An integer month or year from a number or a string of 1 to 4 digits. */
export function toInteger(value: number | string | undefined): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^\d{1,4}$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

export function luhnValid(number: string): boolean {
  let sum = 0;
  for (let index = 0; index < number.length; index++) {
    let digit = Number(number[number.length - 1 - index]);
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

export function brandOf(number: string): string {
  if (number.startsWith('4')) return 'Visa';
  const two = Number(number.slice(0, 2));
  const four = Number(number.slice(0, 4));
  if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)) return 'Mastercard';
  if (four >= 3528 && four <= 3589) return 'JCB';
  if (two === 34 || two === 37) return 'American Express';
  if (two === 62) return 'UnionPay';
  return 'Unknown';
}

/** KBank's masking: first 6 and last 4 digits, the rest as `x` ("514950xxxxxx9007"). */
export function mask(number: string): string {
  return `${number.slice(0, 6)}${'x'.repeat(number.length - 10)}${number.slice(-4)}`;
}
