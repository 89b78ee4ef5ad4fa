/**
 * Money as integer minor units with ISO 4217 exponents. Decimal strings exist only at the KBank
 * boundary (toDecimalString / fromDecimalString), converted with integer and string math, never floats.
 */

/** ISO 4217 minor-unit exponents for the currencies we accept. THB is the one KBank settles in practice. */
export const CURRENCY_EXPONENTS = {
  THB: 2,
  USD: 2,
  EUR: 2,
  GBP: 2,
  SGD: 2,
  CNY: 2,
  HKD: 2,
  MYR: 2,
  JPY: 0,
  KRW: 0,
} as const;

export type Currency = keyof typeof CURRENCY_EXPONENTS;

export const CURRENCIES = Object.keys(CURRENCY_EXPONENTS) as Currency[];

/** Largest amount we accept in one payment, in minor units (10,000,000.00 THB); guards against typos. */
export const MAX_AMOUNT_MINOR = 1_000_000_000;

export function isCurrency(value: string): value is Currency {
  return Object.hasOwn(CURRENCY_EXPONENTS, value);
}

export function exponentOf(currency: Currency): number {
  return CURRENCY_EXPONENTS[currency];
}

/**
 * Minor units → decimal string with `decimals` places (default: the currency's exponent).
 * toDecimalString(20050, 'THB') === '200.50'; toDecimalString(10000, 'THB', 4) === '100.0000'.
 */
export function toDecimalString(minor: number, currency: Currency, decimals = exponentOf(currency)): string {
  if (!Number.isSafeInteger(minor) || minor < 0) throw new RangeError(`invalid minor amount: ${minor}`);
  const exp = exponentOf(currency);
  const digits = minor.toString().padStart(exp + 1, '0');
  const whole = exp === 0 ? digits : digits.slice(0, -exp);
  const fraction = exp === 0 ? '' : digits.slice(-exp);
  const padded = fraction.padEnd(decimals, '0');
  if (padded.length > decimals) {
    if (/[^0]/.test(padded.slice(decimals)))
      throw new RangeError(`cannot show ${minor} with ${decimals} decimals`);
    return decimals === 0 ? whole : `${whole}.${padded.slice(0, decimals)}`;
  }
  return decimals === 0 ? whole : `${whole}.${padded}`;
}

/**
 * Decimal string or number (as KBank sends it) → minor units. Rejects more precision than the currency
 * has, unless the extra digits are zeros ('100.0000' THB → 10000).
 */
export function fromDecimalString(value: string | number, currency: Currency): number {
  const text = typeof value === 'number' ? numberToPlainString(value) : value.trim();
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) throw new RangeError(`not a decimal amount: ${String(value)}`);
  const whole = match[1] ?? '0';
  const rawFraction = match[2] ?? '';
  const exp = exponentOf(currency);
  const significant = rawFraction.replace(/0+$/, '');
  if (significant.length > exp) throw new RangeError(`too many decimals for ${currency}: ${text}`);
  const fraction = significant.padEnd(exp, '0');
  const minor = Number(whole + fraction);
  if (!Number.isSafeInteger(minor)) throw new RangeError(`amount out of range: ${text}`);
  return minor;
}

function numberToPlainString(value: number): string {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`not a decimal amount: ${value}`);
  // Shortest round-trip representation; KBank amounts never need exponent notation.
  const text = value.toString();
  if (/e/i.test(text)) throw new RangeError(`amount out of range: ${value}`);
  return text;
}
