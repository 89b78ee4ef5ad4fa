/**
 * Thai QR / PromptPay: builds and parses EMVCo merchant-presented QR payloads (pure, no I/O).
 *
 * A payload is a string of TLV data objects: 2-digit tag, 2-digit length, value; templates nest the same
 * encoding. It ends with tag 63, a CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final
 * xor) over everything before it *including* "6304", in 4 upper-case hex digits.
 *
 * Variant we build for merchants: the **bill-payment** template (tag 30, AID A000000677010112) with a
 * 15-digit biller id (13-digit tax id + 2-digit suffix) and references 1/2. That is the form KBank's own
 * Thai QR payloads use, and the references let the payer's bank and KBank tie the transfer to one order.
 * The person-to-person credit-transfer template (tag 29, AID A000000677010111, mobile / national id /
 * e-wallet id) is also supported, for completeness and for parsing payloads produced elsewhere.
 */
import { ValidationError } from './errors.js';
import { fromDecimalString, toDecimalString } from './money.js';

/** PromptPay application ids (the `00` sub-field of a merchant account template). */
export const PROMPTPAY_AID = {
  creditTransfer: 'A000000677010111',
  billPayment: 'A000000677010112',
} as const;

/** The top-level tags this module writes or interprets. */
export const EMV_TAG = {
  payloadFormatIndicator: '00',
  pointOfInitiation: '01',
  promptPayCreditTransfer: '29',
  promptPayBillPayment: '30',
  merchantCategoryCode: '52',
  transactionCurrency: '53',
  transactionAmount: '54',
  countryCode: '58',
  merchantName: '59',
  merchantCity: '60',
  postalCode: '61',
  additionalData: '62',
  crc: '63',
} as const;

/** ISO 4217 numeric code of THB, the only currency of Thai QR. */
export const THB_NUMERIC = '764';

export type PromptPayProxyType = 'mobile' | 'nationalId' | 'eWallet';

/** Who receives the money. */
export type PromptPayMerchant =
  | {
      kind: 'billPayment';
      /** 15 digits: the biller's 13-digit tax id + a 2-digit suffix. */
      billerId: string;
      /** 1–20 characters A–Z, 0–9 (the bank shows and reconciles on it). */
      reference1: string;
      reference2?: string;
    }
  | {
      kind: 'creditTransfer';
      proxyType: PromptPayProxyType;
      /**
       * mobile: a Thai number ("0801234567", "+66 80 123 4567"), written as 0066 + 9 digits;
       * nationalId: 13 digits (national id or tax id); eWallet: 15 digits.
       */
      proxyId: string;
    };

/** An extra merchant account template (tags 26–51), e.g. an acquirer's own, kept as given. */
export interface EmvTemplate {
  tag: string;
  fields: ReadonlyArray<readonly [subTag: string, value: string]>;
}

export interface PromptPayPayloadInput {
  merchant: PromptPayMerchant;
  /**
   * Amount in minor units (satang). Present: a dynamic QR (point of initiation "12") for exactly this
   * amount, written with 2 decimals. Absent: a static QR ("11") where the payer types the amount.
   */
  amount?: number;
  /** Tag 59, up to 25 printable ASCII characters. */
  merchantName?: string;
  /** Tag 60, up to 15 printable ASCII characters. */
  merchantCity?: string;
  /** Tag 62 sub-fields 01, 05 and 07. */
  additionalData?: { billNumber?: string; referenceLabel?: string; terminalLabel?: string };
  /** Other merchant account templates to carry along (written in tag order with ours). */
  extraMerchantAccounts?: EmvTemplate[];
}

/**
 * CRC-16/CCITT-FALSE (also catalogued as CRC-16/IBM-3740) of the UTF-8 bytes of `text`, as 4 upper-case
 * hex digits. crc16ccitt('123456789') === '29B1' (the catalogue's check value).
 */
export function crc16ccitt(text: string): string {
  let crc = 0xffff;
  for (const byte of new TextEncoder().encode(text)) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc.toString(16).toUpperCase().padStart(4, '0');
}

/** Builds a complete payload, CRC included. Throws ValidationError listing every invalid field. */
export function buildPromptPayPayload(input: PromptPayPayloadInput): string {
  const problems: { field: string; message: string }[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });

  const accounts: { tag: string; value: string }[] = [];
  const ours = merchantTemplate(input.merchant, problem);
  if (ours) accounts.push(ours);
  for (const [index, extra] of (input.extraMerchantAccounts ?? []).entries()) {
    const field = `extraMerchantAccounts.${index}`;
    if (!isTag(extra.tag) || Number(extra.tag) < 26 || Number(extra.tag) > 51) {
      problem(`${field}.tag`, 'must be a merchant account template tag, 26 to 51');
      continue;
    }
    if (accounts.some((account) => account.tag === extra.tag)) {
      problem(`${field}.tag`, `tag ${extra.tag} is used twice`);
      continue;
    }
    const value = encodeFields(extra.fields, field, problem);
    if (value !== undefined) accounts.push({ tag: extra.tag, value });
  }
  accounts.sort((a, b) => Number(a.tag) - Number(b.tag));

  let amount: string | undefined;
  if (input.amount !== undefined) {
    if (!Number.isSafeInteger(input.amount) || input.amount <= 0) {
      problem('amount', 'must be a positive integer number of satang');
    } else {
      amount = toDecimalString(input.amount, 'THB');
      if (amount.length > 13) problem('amount', 'is too large for a Thai QR (13 characters at most)');
    }
  }
  checkText(input.merchantName, 25, 'merchantName', problem);
  checkText(input.merchantCity, 15, 'merchantCity', problem);

  let additional: string | undefined;
  if (input.additionalData) {
    const { billNumber, referenceLabel, terminalLabel } = input.additionalData;
    const fields: [string, string][] = [];
    if (billNumber !== undefined) fields.push(['01', billNumber]);
    if (referenceLabel !== undefined) fields.push(['05', referenceLabel]);
    if (terminalLabel !== undefined) fields.push(['07', terminalLabel]);
    for (const [subTag, value] of fields) checkText(value, 25, `additionalData.${subTag}`, problem);
    if (fields.length > 0) additional = encodeFields(fields, 'additionalData', problem);
  }
  if (problems.length > 0) throw new ValidationError('invalid PromptPay payload input', problems);

  const parts = [
    tlv(EMV_TAG.payloadFormatIndicator, '01'),
    tlv(EMV_TAG.pointOfInitiation, amount === undefined ? '11' : '12'),
    ...accounts.map((account) => tlv(account.tag, account.value)),
    tlv(EMV_TAG.transactionCurrency, THB_NUMERIC),
  ];
  if (amount !== undefined) parts.push(tlv(EMV_TAG.transactionAmount, amount));
  parts.push(tlv(EMV_TAG.countryCode, 'TH'));
  if (input.merchantName !== undefined) parts.push(tlv(EMV_TAG.merchantName, input.merchantName));
  if (input.merchantCity !== undefined) parts.push(tlv(EMV_TAG.merchantCity, input.merchantCity));
  if (additional !== undefined) parts.push(tlv(EMV_TAG.additionalData, additional));
  const withoutCrc = `${parts.join('')}${EMV_TAG.crc}04`;
  return `${withoutCrc}${crc16ccitt(withoutCrc)}`;
}

/** The fields of a parsed payload. Raw values are kept in `tags` and `merchantAccounts`. */
export interface EmvQr {
  payloadFormatIndicator: string;
  /** From tag 01 ("11" static, "12" dynamic); absent when the payload has no tag 01. */
  pointOfInitiation?: 'static' | 'dynamic';
  /** Every merchant account template (tags 26–51), by tag, with its sub-fields by sub-tag. */
  merchantAccounts: Record<string, Record<string, string>>;
  /** The first PromptPay account found (tag order), recognized by its AID. */
  promptPay?: PromptPayMerchant;
  merchantCategoryCode?: string;
  /** ISO 4217 numeric, e.g. "764". */
  currency: string;
  /** Tag 54 as written, e.g. "200.50". */
  amount?: string;
  /** The amount in satang, when the currency is THB. */
  amountMinor?: number;
  country: string;
  merchantName?: string;
  merchantCity?: string;
  postalCode?: string;
  /** Tag 62 sub-fields by sub-tag. */
  additionalData?: Record<string, string>;
  /** Tag 63, upper case. */
  crc: string;
  /** Every top-level data object, by tag, as written. */
  tags: Record<string, string>;
}

/**
 * Parses a merchant-presented payload and checks it: TLV structure (nested templates too), payload format
 * indicator first and "01", no repeated tag, CRC last and correct, the mandatory currency, country and a
 * merchant account, a well-formed amount. Tags may come in any order (as in many published payloads).
 * Throws ValidationError saying what is wrong.
 */
export function parseEmvQr(payload: string): EmvQr {
  const fail = (message: string, field = 'payload'): never => {
    throw new ValidationError(`invalid EMV QR payload: ${message}`, [{ field, message }]);
  };
  if (typeof payload !== 'string' || payload.length === 0) fail('empty');

  const entries = decodeTlv(payload);
  if (!entries) return fail('not a sequence of tag-length-value data objects');
  const tags: Record<string, string> = {};
  for (const { tag, value } of entries) {
    if (Object.hasOwn(tags, tag)) fail(`tag ${tag} appears twice`, `tag ${tag}`);
    tags[tag] = value;
  }
  if (entries[0]?.tag !== EMV_TAG.payloadFormatIndicator) fail('tag 00 must come first', 'tag 00');
  const last = entries[entries.length - 1];
  if (last?.tag !== EMV_TAG.crc) fail('tag 63 (CRC) must come last', 'tag 63');
  const crc = (last?.value ?? '').toUpperCase();
  if (!/^[0-9A-F]{4}$/.test(crc)) fail('tag 63 must be 4 hex digits', 'tag 63');
  const expected = crc16ccitt(payload.slice(0, -4));
  if (crc !== expected) fail('CRC mismatch', 'tag 63');

  const pfi = tags[EMV_TAG.payloadFormatIndicator] ?? '';
  if (pfi !== '01') fail('payload format indicator must be "01"', 'tag 00');

  const poi = tags[EMV_TAG.pointOfInitiation];
  if (poi !== undefined && poi !== '11' && poi !== '12') {
    fail('point of initiation must be "11" or "12"', 'tag 01');
  }

  const merchantAccounts: Record<string, Record<string, string>> = {};
  let hasAccount = false;
  for (const { tag, value } of entries) {
    const number = Number(tag);
    if (number >= 2 && number <= 51) hasAccount = true;
    if (number < 26 || number > 51) continue;
    const fields = decodeFields(value);
    if (!fields) return fail(`template ${tag} is not valid TLV`, `tag ${tag}`);
    merchantAccounts[tag] = fields;
  }
  if (!hasAccount) fail('no merchant account information (tags 02 to 51)');

  const currency = tags[EMV_TAG.transactionCurrency];
  if (currency === undefined || !/^\d{3}$/.test(currency)) {
    fail('transaction currency (tag 53) must be 3 digits', 'tag 53');
  }
  const country = tags[EMV_TAG.countryCode];
  if (country === undefined || !/^[A-Z]{2}$/.test(country)) {
    fail('country code (tag 58) must be 2 letters', 'tag 58');
  }

  const result: EmvQr = {
    payloadFormatIndicator: pfi,
    merchantAccounts,
    currency: currency ?? '',
    country: country ?? '',
    crc,
    tags,
  };
  if (poi !== undefined) result.pointOfInitiation = poi === '12' ? 'dynamic' : 'static';

  const amount = tags[EMV_TAG.transactionAmount];
  if (amount !== undefined) {
    if (!/^(?=.{1,13}$)\d+(\.\d*)?$/.test(amount)) fail('amount (tag 54) is not a decimal amount', 'tag 54');
    result.amount = amount;
    if (currency === THB_NUMERIC) {
      try {
        result.amountMinor = fromDecimalString(amount, 'THB');
      } catch {
        fail('amount (tag 54) has more than 2 decimals for THB', 'tag 54');
      }
    }
  }

  const promptPay = findPromptPay(merchantAccounts);
  if (promptPay) result.promptPay = promptPay;
  const optional = {
    merchantCategoryCode: EMV_TAG.merchantCategoryCode,
    merchantName: EMV_TAG.merchantName,
    merchantCity: EMV_TAG.merchantCity,
    postalCode: EMV_TAG.postalCode,
  } as const;
  for (const [key, tag] of Object.entries(optional) as [keyof typeof optional, string][]) {
    const value = tags[tag];
    if (value !== undefined) result[key] = value;
  }
  const additional = tags[EMV_TAG.additionalData];
  if (additional !== undefined) {
    const fields = decodeFields(additional);
    if (!fields) return fail('template 62 is not valid TLV', 'tag 62');
    result.additionalData = fields;
  }
  return result;
}

function tlv(tag: string, value: string): string {
  return `${tag}${String(value.length).padStart(2, '0')}${value}`;
}

function isTag(tag: string): boolean {
  return /^\d{2}$/.test(tag);
}

/** Splits a string into data objects, or undefined when it is not exactly a sequence of them. */
function decodeTlv(text: string): { tag: string; value: string }[] | undefined {
  const entries: { tag: string; value: string }[] = [];
  let position = 0;
  while (position < text.length) {
    const tag = text.slice(position, position + 2);
    const length = text.slice(position + 2, position + 4);
    if (!isTag(tag) || !/^\d{2}$/.test(length)) return undefined;
    const start = position + 4;
    const end = start + Number(length);
    if (end > text.length) return undefined;
    entries.push({ tag, value: text.slice(start, end) });
    position = end;
  }
  return entries;
}

function decodeFields(text: string): Record<string, string> | undefined {
  const entries = decodeTlv(text);
  if (!entries) return undefined;
  const fields: Record<string, string> = {};
  for (const { tag, value } of entries) {
    if (Object.hasOwn(fields, tag)) return undefined;
    fields[tag] = value;
  }
  return fields;
}

function encodeFields(
  fields: ReadonlyArray<readonly [string, string]>,
  field: string,
  problem: (field: string, message: string) => void,
): string | undefined {
  let encoded = '';
  for (const [subTag, value] of fields) {
    if (!isTag(subTag)) {
      problem(`${field}.${subTag}`, 'sub-tag must be 2 digits');
      return undefined;
    }
    if (value.length === 0 || value.length > 99) {
      problem(`${field}.${subTag}`, 'value must be 1 to 99 characters');
      return undefined;
    }
    encoded += tlv(subTag, value);
  }
  if (encoded.length > 99) {
    problem(field, 'template is longer than 99 characters');
    return undefined;
  }
  return encoded;
}

function checkText(
  value: string | undefined,
  maxLength: number,
  field: string,
  problem: (field: string, message: string) => void,
): void {
  if (value === undefined) return;
  // Printable ASCII only: lengths are then both characters and bytes, which every reader agrees on.
  if (value.length === 0 || value.length > maxLength || !/^[\x20-\x7e]+$/.test(value)) {
    problem(field, `must be 1 to ${maxLength} printable ASCII characters`);
  }
}

const REFERENCE = /^[A-Z0-9]{1,20}$/;

function merchantTemplate(
  merchant: PromptPayMerchant,
  problem: (field: string, message: string) => void,
): { tag: string; value: string } | undefined {
  if (merchant.kind === 'billPayment') {
    let valid = true;
    const invalid = (field: string, message: string) => {
      valid = false;
      problem(field, message);
    };
    if (!/^\d{15}$/.test(merchant.billerId)) {
      invalid('merchant.billerId', 'must be 15 digits (tax id + 2-digit suffix)');
    }
    if (!REFERENCE.test(merchant.reference1)) {
      invalid('merchant.reference1', 'must be 1 to 20 characters A-Z, 0-9');
    }
    if (merchant.reference2 !== undefined && !REFERENCE.test(merchant.reference2)) {
      invalid('merchant.reference2', 'must be 1 to 20 characters A-Z, 0-9');
    }
    if (!valid) return undefined;
    const fields: [string, string][] = [
      ['00', PROMPTPAY_AID.billPayment],
      ['01', merchant.billerId],
      ['02', merchant.reference1],
    ];
    if (merchant.reference2 !== undefined) fields.push(['03', merchant.reference2]);
    const value = encodeFields(fields, 'merchant', problem);
    return value === undefined ? undefined : { tag: EMV_TAG.promptPayBillPayment, value };
  }

  const id = proxyValue(merchant.proxyType, merchant.proxyId);
  if (id === undefined) {
    problem('merchant.proxyId', `is not a valid PromptPay ${merchant.proxyType}`);
    return undefined;
  }
  const subTag = { mobile: '01', nationalId: '02', eWallet: '03' }[merchant.proxyType];
  const value = encodeFields(
    [
      ['00', PROMPTPAY_AID.creditTransfer],
      [subTag, id],
    ],
    'merchant',
    problem,
  );
  return value === undefined ? undefined : { tag: EMV_TAG.promptPayCreditTransfer, value };
}

/** The PromptPay proxy as written in the payload, or undefined when it cannot be one. */
function proxyValue(type: PromptPayProxyType, raw: string): string | undefined {
  const digits = raw.replace(/[\s\-+]/g, '');
  if (!/^\d+$/.test(digits)) return undefined;
  if (type === 'nationalId') return /^\d{13}$/.test(digits) ? digits : undefined;
  if (type === 'eWallet') return /^\d{15}$/.test(digits) ? digits : undefined;
  // Mobile: 0XXXXXXXXX (local), 66XXXXXXXXX (international) or 0066XXXXXXXXX (as written in payloads).
  let national: string | undefined;
  if (/^0\d{9}$/.test(digits)) national = digits.slice(1);
  else if (/^66\d{9}$/.test(digits)) national = digits.slice(2);
  else if (/^0066\d{9}$/.test(digits)) national = digits.slice(4);
  return national === undefined ? undefined : `0066${national}`;
}

function findPromptPay(accounts: Record<string, Record<string, string>>): PromptPayMerchant | undefined {
  const tags = Object.keys(accounts).sort((a, b) => Number(a) - Number(b));
  for (const tag of tags) {
    const fields = accounts[tag] ?? {};
    if (fields['00'] === PROMPTPAY_AID.billPayment && fields['01'] && fields['02']) {
      const merchant: PromptPayMerchant = {
        kind: 'billPayment',
        billerId: fields['01'],
        reference1: fields['02'],
      };
      if (fields['03'] !== undefined) merchant.reference2 = fields['03'];
      return merchant;
    }
    if (fields['00'] === PROMPTPAY_AID.creditTransfer) {
      for (const [subTag, proxyType] of [
        ['01', 'mobile'],
        ['02', 'nationalId'],
        ['03', 'eWallet'],
      ] as const) {
        const proxyId = fields[subTag];
        if (proxyId !== undefined) return { kind: 'creditTransfer', proxyType, proxyId };
      }
    }
  }
  return undefined;
}
