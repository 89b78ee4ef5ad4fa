import { fromDecimalString, isCurrency, toDecimalString } from '../../functions/core/money.js';

describe('money at the KBank boundary', () => {
  it('formats minor units as the currency’s decimals', () => {
    expect(toDecimalString(20050, 'THB')).toBe('200.50');
    expect(toDecimalString(5, 'THB')).toBe('0.05');
    expect(toDecimalString(0, 'THB')).toBe('0.00');
    expect(toDecimalString(1500, 'JPY')).toBe('1500');
  });

  it('formats the checksum’s four-decimal amount', () => {
    expect(toDecimalString(10000, 'THB', 4)).toBe('100.0000');
  });

  it('parses KBank decimals back to minor units without floating-point error', () => {
    expect(fromDecimalString('200.50', 'THB')).toBe(20050);
    expect(fromDecimalString('100.0000', 'THB')).toBe(10000);
    expect(fromDecimalString(0.29, 'THB')).toBe(29);
    expect(fromDecimalString(1.1, 'THB')).toBe(110);
    expect(fromDecimalString('74', 'THB')).toBe(7400);
  });

  it('refuses amounts with more precision than the currency has', () => {
    expect(() => fromDecimalString('1.005', 'THB')).toThrow(RangeError);
    expect(() => fromDecimalString('10.5', 'JPY')).toThrow(RangeError);
    expect(() => fromDecimalString('-1.00', 'THB')).toThrow(RangeError);
    expect(() => fromDecimalString('abc', 'THB')).toThrow(RangeError);
  });

  it('refuses negative or fractional minor amounts', () => {
    expect(() => toDecimalString(-1, 'THB')).toThrow(RangeError);
    expect(() => toDecimalString(1.5, 'THB')).toThrow(RangeError);
  });

  it('knows only ISO 4217 codes it supports, upper case', () => {
    expect(isCurrency('THB')).toBe(true);
    expect(isCurrency('thb')).toBe(false);
    expect(isCurrency('XXX')).toBe(false);
    expect(isCurrency('toString')).toBe(false);
  });
});
