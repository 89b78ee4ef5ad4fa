/** Card validation without an amount: numbers by brand and Luhn, expiry, cardholder name, CVV2 by brand. */
import {
  CardValidationError,
  cardBrand,
  luhnValid,
  validateCard,
} from '../../functions/core/cards/card-details.js';

const NOW = new Date('2026-12-02T04:00:00.000Z');
const VALID = {
  number: '4111111111111111',
  expiryMonth: 12,
  expiryYear: 2030,
  name: 'Somchai Jaidee',
  cvv: '123',
};

function codes(details: Partial<typeof VALID>): string[] {
  try {
    validateCard({ ...VALID, ...details }, NOW);
  } catch (error) {
    expect(error).toBeInstanceOf(CardValidationError);
    return (error as CardValidationError).problems.map((p) => `${p.field}:${p.code}`);
  }
  return [];
}

describe('card numbers', () => {
  it.each([
    ['4111111111111111', 'visa'],
    ['4012888888881881', 'visa'],
    ['5555555555554444', 'mastercard'],
    ['2223003122003222', 'mastercard'],
    ['378282246310005', 'amex'],
    ['3530111333300000', 'jcb'],
    ['6200000000000005', 'unionpay'],
  ])('accepts %s as %s', (number, brand) => {
    expect(cardBrand(number)).toBe(brand);
    expect(luhnValid(number)).toBe(true);
    const cvv = brand === 'amex' ? '1234' : '123';
    expect(validateCard({ ...VALID, number, cvv }, NOW)).toMatchObject({ brand, last4: number.slice(-4) });
  });

  it.each([
    ['4111111111111112', 'number:invalid_number'],
    ['5555555555554445', 'number:invalid_number'],
    ['378282246310006', 'number:invalid_number'],
    ['4111 1111 1111 111x', 'number:invalid_number'],
    ['', 'number:invalid_number'],
    ['6011111111111117', 'number:unsupported_brand'],
    ['41111111111111111', 'number:invalid_number'],
  ])('refuses %s with %s', (number, code) => {
    expect(codes({ number })).toContain(code);
  });

  it('accepts spaces and hyphens as typed, and keeps only the last four digits', () => {
    const summary = validateCard({ ...VALID, number: '4111-1111 1111-1111' }, NOW);
    expect(summary).toEqual({
      brand: 'visa',
      last4: '1111',
      expiryMonth: 12,
      expiryYear: 2030,
      name: 'Somchai Jaidee',
    });
    expect(JSON.stringify(summary)).not.toContain('411111');
  });
});

describe('expiry, name and CVV2', () => {
  it.each([
    [{ expiryMonth: 12, expiryYear: 2026 }, []],
    [{ expiryMonth: 11, expiryYear: 2026 }, ['expiry:expired_card']],
    [{ expiryMonth: 13, expiryYear: 2030 }, ['expiry:invalid_expiry']],
    [{ expiryMonth: 0, expiryYear: 2030 }, ['expiry:invalid_expiry']],
    [{ expiryMonth: 1, expiryYear: 30 }, ['expiry:invalid_expiry']],
    [{ expiryMonth: 1.5, expiryYear: 2030 }, ['expiry:invalid_expiry']],
    [{ expiryMonth: 1, expiryYear: 2099 }, ['expiry:invalid_expiry']],
  ])('expiry %j → %j', (expiry, expected) => {
    expect(codes(expiry)).toEqual(expected);
  });

  it.each([
    ['สมชาย ใจดี', []],
    ["Anne-Marie O'Neil", []],
    ['J. Smith', []],
    ['', ['name:invalid_name']],
    ['   ', ['name:invalid_name']],
    ['A', ['name:invalid_name']],
    ['John 123', ['name:invalid_name']],
    ['<script>', ['name:invalid_name']],
    ['X'.repeat(27), ['name:invalid_name']],
  ])('name %j → %j', (name, expected) => {
    expect(codes({ name })).toEqual(expected);
  });

  it.each([
    ['4111111111111111', '123', []],
    ['4111111111111111', '1234', ['cvv:invalid_cvv']],
    ['4111111111111111', '12a', ['cvv:invalid_cvv']],
    ['4111111111111111', '', ['cvv:invalid_cvv']],
    ['378282246310005', '1234', []],
    ['378282246310005', '123', ['cvv:invalid_cvv']],
  ])('card %s with CVV2 %j → %j', (number, cvv, expected) => {
    expect(codes({ number, cvv })).toEqual(expected);
  });

  it('reports every problem at once, as field-level problems, and never echoes the number or CVV2', () => {
    try {
      validateCard(
        { number: '4111111111111112', expiryMonth: 1, expiryYear: 2020, name: '', cvv: '98' },
        NOW,
      );
      throw new Error('expected a refusal');
    } catch (error) {
      const problem = error as CardValidationError;
      expect(problem.code).toBe('validation_failed');
      expect(problem.details.map((d) => d.field)).toEqual(['number', 'expiry', 'name', 'cvv']);
      expect(JSON.stringify(problem.details)).not.toMatch(/4111111111111112|"98"/);
    }
  });
});
