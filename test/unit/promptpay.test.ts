/** Unit tests of the Thai QR / PromptPay payload builder and parser, against published payloads. */
import { ValidationError } from '../../functions/core/errors.js';
import {
  buildPromptPayPayload,
  crc16ccitt,
  PROMPTPAY_AID,
  type PromptPayPayloadInput,
  parseEmvQr,
} from '../../functions/core/promptpay.js';

/** Appends "6304" and the CRC, for hand-made payloads that must pass the CRC check. */
function withCrc(body: string): string {
  const withTag = `${body}6304`;
  return `${withTag}${crc16ccitt(withTag)}`;
}

function validationError(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

/**
 * A real KBank Thai QR payload found in a public repository (a kiosk app showing KBank's QR for 10.00 THB).
 * Read as TLV:
 *   00 02 01                         payload format indicator
 *   01 02 12                         dynamic (one payment, fixed amount)
 *   30 81                            PromptPay bill payment template:
 *      00 16 A000000677010112          AID
 *      01 15 010753600031501           biller id (13-digit tax id + suffix 01)
 *      02 14 KB000002238885            reference 1
 *      03 20 APIC1779263190951UMO      reference 2
 *   31 69                            KBank's own template (AID A000000677010113), carried as is
 *   53 03 764                        THB
 *   54 05 10.00                      amount
 *   58 02 TH                         country
 *   63 04 AC1A                       CRC-16/CCITT-FALSE of everything before, "6304" included
 */
const KBANK_BILL_PAYMENT =
  '00020101021230810016A00000067701011201150107536000315010214KB0000022388850320APIC1779263190951UMO' +
  '31690016A00000067701011301030040214KB0000022388850420APIC1779263190951UMO' +
  '5303764540510.005802TH6304AC1A';

/** Published test vectors of dtinth/promptpay-qr (index.test.js) and the promptpay-parse README. */
const PUBLISHED_CREDIT_TRANSFERS = [
  {
    label: 'mobile 000-000-0000, 4.22 THB (promptpay-qr)',
    payload: '00020101021229370016A000000677010111011300660000000005802TH530376454044.226304E469',
    proxyType: 'mobile',
    proxyId: '0066000000000',
    amountMinor: 422,
  },
  {
    label: 'mobile +66-89-123-4567, static (promptpay-qr)',
    payload: '00020101021129370016A000000677010111011300668912345675802TH5303764630429C1',
    proxyType: 'mobile',
    proxyId: '0066891234567',
    amountMinor: undefined,
  },
  {
    label: 'national id 1111111111111, static (promptpay-qr)',
    payload: '00020101021129370016A000000677010111021311111111111115802TH530376463047B5A',
    proxyType: 'nationalId',
    proxyId: '1111111111111',
    amountMinor: undefined,
  },
  {
    label: 'tax id 0123456789012, static (promptpay-qr)',
    payload: '00020101021129370016A000000677010111021301234567890125802TH530376463040CBD',
    proxyType: 'nationalId',
    proxyId: '0123456789012',
    amountMinor: undefined,
  },
  {
    label: 'mobile 0801111111, 20.15 THB (promptpay-parse)',
    payload: '00020101021229370016A0000006770101110113006680111111153037645802TH540520.15630442BE',
    proxyType: 'mobile',
    proxyId: '0066801111111',
    amountMinor: 2015,
  },
] as const;

describe('crc16ccitt', () => {
  it('gives the CRC catalogue check value of CRC-16/CCITT-FALSE for "123456789"', () => {
    expect(crc16ccitt('123456789')).toBe('29B1');
  });

  it('gives the initial value for empty input, padded to 4 upper-case hex digits', () => {
    expect(crc16ccitt('')).toBe('FFFF');
    expect(crc16ccitt('A')).toMatch(/^[0-9A-F]{4}$/);
  });

  it.each(
    [KBANK_BILL_PAYMENT, ...PUBLISHED_CREDIT_TRANSFERS.map((vector) => vector.payload)].map((payload) => [
      payload.slice(-4),
      payload,
    ]),
  )('reproduces the published CRC %s', (crc, payload) => {
    expect(crc16ccitt(payload.slice(0, -4))).toBe(crc);
  });
});

describe('buildPromptPayPayload', () => {
  it('reproduces the published KBank bill-payment payload byte for byte', () => {
    const payload = buildPromptPayPayload({
      merchant: {
        kind: 'billPayment',
        billerId: '010753600031501',
        reference1: 'KB000002238885',
        reference2: 'APIC1779263190951UMO',
      },
      amount: 1000,
      extraMerchantAccounts: [
        {
          tag: '31',
          fields: [
            ['00', 'A000000677010113'],
            ['01', '004'],
            ['02', 'KB000002238885'],
            ['04', 'APIC1779263190951UMO'],
          ],
        },
      ],
    });
    expect(payload).toBe(KBANK_BILL_PAYMENT);
  });

  it('builds a credit-transfer payload that can be checked by hand', () => {
    // 000201                                  payload format indicator "01"
    // 010212                                  dynamic, because an amount is given
    // 2937 0016A000000677010111 01130066801234567
    //                                         PromptPay credit transfer to mobile 080-123-4567, written
    //                                         0066 + 801234567 (13 characters), template length 37
    // 5303764                                 THB
    // 54044.22                                422 satang with 2 decimals
    // 5802TH                                  country
    // 6304 + CRC-16/CCITT-FALSE of all of the above ("6304" included) = 3AE5
    const payload = buildPromptPayPayload({
      merchant: { kind: 'creditTransfer', proxyType: 'mobile', proxyId: '080-123-4567' },
      amount: 422,
    });
    expect(payload).toBe(
      '00020101021229370016A00000067701011101130066801234567530376454044.225802TH63043AE5',
    );
  });

  it.each([
    [1, '0.01'],
    [20050, '200.50'],
    [100000, '1000.00'],
    [9_999_999_999, '99999999.99'],
  ])('writes %i satang as %s', (amount, text) => {
    const payload = buildPromptPayPayload({
      merchant: { kind: 'billPayment', billerId: '099999999999901', reference1: 'REF1' },
      amount,
    });
    expect(payload).toContain(`54${String(text.length).padStart(2, '0')}${text}`);
    expect(parseEmvQr(payload).amountMinor).toBe(amount);
  });

  it('makes a static QR (point of initiation 11) without an amount', () => {
    const payload = buildPromptPayPayload({
      merchant: { kind: 'creditTransfer', proxyType: 'nationalId', proxyId: '1-1111-11111-11-1' },
    });
    const parsed = parseEmvQr(payload);
    expect(payload.startsWith('000201010211')).toBe(true);
    expect(parsed.pointOfInitiation).toBe('static');
    expect(parsed.amount).toBeUndefined();
  });

  it('round-trips a bill payment with merchant name, city and additional data', () => {
    const input: PromptPayPayloadInput = {
      merchant: {
        kind: 'billPayment',
        billerId: '099999999999901',
        reference1: 'SIM0123456789ABCDEF',
        reference2: 'ATT01J9Z',
      },
      amount: 20050,
      merchantName: 'KBANK SIMULATOR',
      merchantCity: 'BANGKOK',
      additionalData: { referenceLabel: 'ATT01J9Z', terminalLabel: 'WEB' },
    };
    const parsed = parseEmvQr(buildPromptPayPayload(input));
    expect(parsed).toMatchObject({
      payloadFormatIndicator: '01',
      pointOfInitiation: 'dynamic',
      currency: '764',
      amount: '200.50',
      amountMinor: 20050,
      country: 'TH',
      merchantName: 'KBANK SIMULATOR',
      merchantCity: 'BANGKOK',
      additionalData: { '05': 'ATT01J9Z', '07': 'WEB' },
      promptPay: input.merchant,
      merchantAccounts: {
        '30': {
          '00': PROMPTPAY_AID.billPayment,
          '01': '099999999999901',
          '02': 'SIM0123456789ABCDEF',
          '03': 'ATT01J9Z',
        },
      },
    });
  });

  it('writes tags in ascending order, CRC last', () => {
    const payload = buildPromptPayPayload({
      merchant: { kind: 'billPayment', billerId: '099999999999901', reference1: 'A' },
      amount: 100,
      merchantName: 'SHOP',
      merchantCity: 'BANGKOK',
    });
    const order = Object.keys(parseEmvQr(payload).tags);
    expect(order.sort()).toEqual(['00', '01', '30', '53', '54', '58', '59', '60', '63']);
    expect(payload.slice(-8, -4)).toBe('6304');
  });

  it.each<[string, Partial<PromptPayPayloadInput>, string]>([
    [
      'a 13-digit biller id',
      { merchant: { kind: 'billPayment', billerId: '0999999999999', reference1: 'A' } },
      'merchant.billerId',
    ],
    [
      'a lower-case reference 1',
      { merchant: { kind: 'billPayment', billerId: '099999999999901', reference1: 'abc' } },
      'merchant.reference1',
    ],
    [
      'a 21-character reference 2',
      {
        merchant: {
          kind: 'billPayment',
          billerId: '099999999999901',
          reference1: 'A',
          reference2: 'A'.repeat(21),
        },
      },
      'merchant.reference2',
    ],
    [
      'a 9-digit mobile number',
      { merchant: { kind: 'creditTransfer', proxyType: 'mobile', proxyId: '081234567' } },
      'merchant.proxyId',
    ],
    [
      'a 14-digit e-wallet id',
      { merchant: { kind: 'creditTransfer', proxyType: 'eWallet', proxyId: '12345678901234' } },
      'merchant.proxyId',
    ],
    ['a zero amount', { amount: 0 }, 'amount'],
    ['a fractional amount', { amount: 10.5 }, 'amount'],
    ['a 26-character merchant name', { merchantName: 'A'.repeat(26) }, 'merchantName'],
    ['a Thai merchant name', { merchantName: 'ร้านค้า' }, 'merchantName'],
    ['a 16-character city', { merchantCity: 'B'.repeat(16) }, 'merchantCity'],
    [
      'an extra template outside 26-51',
      { extraMerchantAccounts: [{ tag: '52', fields: [['00', 'X']] }] },
      'extraMerchantAccounts.0.tag',
    ],
    [
      'an extra template on our own tag',
      { extraMerchantAccounts: [{ tag: '30', fields: [['00', 'X']] }] },
      'extraMerchantAccounts.0.tag',
    ],
  ])('refuses %s', (_label, change, field) => {
    const input: PromptPayPayloadInput = {
      merchant: { kind: 'billPayment', billerId: '099999999999901', reference1: 'REF1' },
      amount: 100,
      ...change,
    };
    const error = validationError(() => buildPromptPayPayload(input));
    expect(error.details.map((detail) => detail.field)).toContain(field);
  });
});

describe('parseEmvQr', () => {
  it.each(PUBLISHED_CREDIT_TRANSFERS.map((vector) => [vector.label, vector]))(
    'reads the published payload for %s',
    (_label, vector) => {
      const parsed = parseEmvQr(vector.payload);
      expect(parsed.promptPay).toEqual({
        kind: 'creditTransfer',
        proxyType: vector.proxyType,
        proxyId: vector.proxyId,
      });
      expect(parsed.currency).toBe('764');
      expect(parsed.country).toBe('TH');
      expect(parsed.amountMinor).toBe(vector.amountMinor);
      expect(parsed.pointOfInitiation).toBe(vector.amountMinor === undefined ? 'static' : 'dynamic');
      expect(parsed.crc).toBe(vector.payload.slice(-4));
    },
  );

  it('reads the published KBank bill payment and keeps the template it does not interpret', () => {
    const parsed = parseEmvQr(KBANK_BILL_PAYMENT);
    expect(parsed.promptPay).toEqual({
      kind: 'billPayment',
      billerId: '010753600031501',
      reference1: 'KB000002238885',
      reference2: 'APIC1779263190951UMO',
    });
    expect(parsed.merchantAccounts['31']).toEqual({
      '00': 'A000000677010113',
      '01': '004',
      '02': 'KB000002238885',
      '04': 'APIC1779263190951UMO',
    });
    expect(parsed.amount).toBe('10.00');
    expect(parsed.amountMinor).toBe(1000);
  });

  it('accepts a CRC written in lower case', () => {
    const payload = `${KBANK_BILL_PAYMENT.slice(0, -4)}ac1a`;
    expect(parseEmvQr(payload).crc).toBe('AC1A');
  });

  it('rejects a payload whose amount was altered (CRC mismatch)', () => {
    const altered = KBANK_BILL_PAYMENT.replace('540510.00', '540590.00');
    expect(validationError(() => parseEmvQr(altered)).message).toContain('CRC mismatch');
  });

  // A bill-payment template (length 39) and the currency, for the hand-made payloads below.
  const account = '30390016A0000006770101120115099999999999901' + '5303764';
  it.each([
    ['an empty string', '', 'empty'],
    ['a truncated payload', KBANK_BILL_PAYMENT.slice(0, 40), 'tag-length-value'],
    ['a length running past the end', '000201019912', 'tag-length-value'],
    ['a non-numeric tag', withCrc(`0002010A0212${account}5802TH`), 'tag-length-value'],
    ['no CRC', `000201${account}5802TH`, 'tag 63 (CRC) must come last'],
    ['the CRC not last', `${withCrc(`000201${account}`)}5802TH`, 'tag 63 (CRC) must come last'],
    ['a CRC of 3 characters', `000201${account}5802TH6303ABC`, '4 hex digits'],
    ['tag 00 not first', withCrc(`${account}0002015802TH`), 'tag 00 must come first'],
    ['payload format indicator 02', withCrc(`000202${account}5802TH`), 'payload format indicator'],
    ['point of initiation 13', withCrc(`000201010213${account}5802TH`), 'point of initiation'],
    ['a repeated tag', withCrc(`000201${account}5802TH5802TH`), 'appears twice'],
    ['no merchant account', withCrc('00020153037645802TH'), 'no merchant account'],
    ['no currency', withCrc('00020130390016A0000006770101120115099999999999901' + '5802TH'), 'tag 53'],
    ['no country', withCrc(`000201${account}`), 'tag 58'],
    ['an amount that is not a number', withCrc(`000201${account}5403ABC5802TH`), 'not a decimal amount'],
    ['an amount with 3 decimals in THB', withCrc(`000201${account}54051.2345802TH`), 'more than 2 decimals'],
    ['a merchant template that is not TLV', withCrc('000201300312353037645802TH'), 'template 30'],
  ])('rejects %s', (_label, payload, reason) => {
    expect(validationError(() => parseEmvQr(payload)).message).toContain(reason);
  });
});
