/**
 * Validation of card details a customer submits (number, expiry, cardholder name, CVV2), without an
 * amount: the rules every saved card and every card form follow. Problems are field-level, with stable
 * codes. The CVV2 is only checked for format here; it is never stored or logged anywhere.
 */
import { ValidationError } from '../errors.js';

export type CardBrand = 'visa' | 'mastercard' | 'amex' | 'jcb' | 'unionpay' | 'unknown';

export type CardProblemCode =
  | 'invalid_number'
  | 'unsupported_brand'
  | 'invalid_expiry'
  | 'expired_card'
  | 'invalid_name'
  | 'invalid_cvv';

export interface CardDetails {
  number: string;
  expiryMonth: number;
  expiryYear: number;
  name: string;
  cvv: string;
}

/** What may be kept and shown of a card: never the number or the CVV2. */
export interface CardSummary {
  brand: CardBrand;
  last4: string;
  expiryMonth: number;
  expiryYear: number;
  name: string;
}

export class CardValidationError extends ValidationError {
  constructor(readonly problems: { field: string; code: CardProblemCode; message: string }[]) {
    super(
      'the card details are not valid',
      problems.map(({ field, code, message }) => ({ field, message: `${code}: ${message}` })),
    );
  }
}

/** The brand by its number's prefix (IIN ranges of the brands KBank accepts). */
export function cardBrand(number: string): CardBrand {
  if (/^4/.test(number)) return 'visa';
  if (/^(5[1-5]|2(2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720))/.test(number)) return 'mastercard';
  if (/^3[47]/.test(number)) return 'amex';
  if (/^35(2[89]|[3-8]\d)/.test(number)) return 'jcb';
  if (/^62/.test(number)) return 'unionpay';
  return 'unknown';
}

const LENGTHS: Record<Exclude<CardBrand, 'unknown'>, number[]> = {
  visa: [13, 16, 19],
  mastercard: [16],
  amex: [15],
  jcb: [16, 17, 18, 19],
  unionpay: [16, 17, 18, 19],
};

export function luhnValid(number: string): boolean {
  let sum = 0;
  for (let i = 0; i < number.length; i++) {
    let digit = Number(number[number.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return number.length > 0 && sum % 10 === 0;
}

/**
 * Checks every field and reports every problem at once; returns the summary that may be kept. `now`
 * decides expiry: a card is valid through the last day of its expiry month.
 */
export function validateCard(details: CardDetails, now: Date): CardSummary {
  const problems: CardValidationError['problems'] = [];
  const number = details.number.replace(/[ -]/g, '');
  const brand = cardBrand(number);
  if (!/^\d{12,19}$/.test(number) || !luhnValid(number)) {
    problems.push({ field: 'number', code: 'invalid_number', message: 'is not a valid card number' });
  } else if (brand === 'unknown') {
    problems.push({ field: 'number', code: 'unsupported_brand', message: 'is not a card brand we accept' });
  } else if (!LENGTHS[brand].includes(number.length)) {
    problems.push({ field: 'number', code: 'invalid_number', message: `has the wrong length for ${brand}` });
  }

  const { expiryMonth: month, expiryYear: year } = details;
  if (
    !Number.isInteger(month) ||
    month < 1 ||
    month > 12 ||
    !Number.isInteger(year) ||
    year < 2000 ||
    year > 2099
  ) {
    problems.push({
      field: 'expiry',
      code: 'invalid_expiry',
      message: 'needs a month 1-12 and a four-digit year',
    });
  } else {
    const current = now.getUTCFullYear() * 12 + now.getUTCMonth() + 1;
    if (year * 12 + month < current) {
      problems.push({ field: 'expiry', code: 'expired_card', message: 'is in the past' });
    } else if (year * 12 + month > current + 20 * 12) {
      problems.push({ field: 'expiry', code: 'invalid_expiry', message: 'is more than 20 years ahead' });
    }
  }

  const name = details.name.trim().replace(/\s+/g, ' ');
  // Letters of any script, with spaces, dots, apostrophes and hyphens between them; no digits.
  if (name.length < 2 || name.length > 26 || !/^\p{L}[\p{L}\p{M} .'-]*$/u.test(name)) {
    problems.push({
      field: 'name',
      code: 'invalid_name',
      message: 'must be the cardholder name as printed: 2-26 letters, spaces, dots, apostrophes or hyphens',
    });
  }

  const cvvLength = brand === 'amex' ? 4 : 3;
  if (!new RegExp(`^\\d{${cvvLength}}$`).test(details.cvv)) {
    problems.push({ field: 'cvv', code: 'invalid_cvv', message: `must be ${cvvLength} digits` });
  }

  if (problems.length > 0) throw new CardValidationError(problems);
  return { brand, last4: number.slice(-4), expiryMonth: month, expiryYear: year, name };
}
