/**
 * KBank KPGW adapter: the KbankGateway (card, daily transaction list) and KbankAsyncGateway (QR, WeChat,
 * Alipay) ports over HTTP, mapping every failure to the error taxonomy, plus the notify webhook's parser.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';
import {
  type KbankChargeWire,
  type KbankCreateAlipayChargeRequest,
  type KbankCreateChargeRequest,
  type KbankCreateQrOrderRequest,
  type KbankCreateQrRequest,
  type KbankQrRefundRequest,
  type KbankQrVoidRequest,
  type KbankRefundRequest,
  type KbankSettleRequest,
  type KbankTransactionWire,
  type KbankVoidRequest,
  kbankChargeSchema,
  kbankErrorSchema,
  kbankNotifySchema,
  kbankQrChargeSchema,
  kbankQrOrderSchema,
  kbankQrSchema,
  kbankRefundInfoSchema,
  kbankTransactionListSchema,
} from '../../schemas/kbank.js';
import { KbankOutcomeUnknown, KbankRejected, KbankUnavailable } from '../core/errors.js';
import { type Currency, fromDecimalString, toDecimalString } from '../core/money.js';
import type {
  ChargeAlipayRequest,
  ChargeCardRequest,
  CreateQrOrderRequest,
  CreateQrRequest,
  KbankAsyncGateway,
  KbankCharge,
  KbankGateway,
  KbankNotification,
  KbankNotifyResult,
  KbankQr,
  KbankQrCharge,
  KbankQrOrder,
  KbankTransaction,
} from '../core/ports.js';

export interface KbankClientOptions {
  /** e.g. https://dev-kpaymentgateway-services.kasikornbank.com, or the simulator's url. */
  baseUrl: string;
  /** `skey_…`: sent as `x-api-key`, never logged nor put in an error message. */
  secretKey: string;
  /** Per request, including reading the body. Default 8000. */
  timeoutMs?: number;
  /** Injected in unit tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

export const DEFAULT_KBANK_TIMEOUT_MS = 8000;

/** KBank card paths. Ids are path-encoded so a hostile id cannot change the route. */
export const KBANK_CARD_PATHS = {
  charge: '/card/v2/charge',
  chargeById: (chargeId: string) => `/card/v2/charge/${encodeURIComponent(chargeId)}`,
  void: (chargeId: string) => `/card/v2/charge/${encodeURIComponent(chargeId)}/void`,
  settle: (chargeId: string) => `/card/v2/charge/${encodeURIComponent(chargeId)}/settle`,
  refund: (chargeId: string) => `/card/v2/charge/${encodeURIComponent(chargeId)}/refund`,
} as const;

/**
 * Inquiry by our `reference_order`: the only handle on a charge whose create call timed out. KBank marks
 * this [?] (one source says `GET /card/v2/charge/{reference_order}` works); this query form is [ours] and
 * the simulator serves both. Change it here and nowhere else.
 */
export function chargeByReferenceOrderPath(referenceOrder: string): string {
  return `${KBANK_CARD_PATHS.charge}?reference_order=${encodeURIComponent(referenceOrder)}`;
}

/**
 * KBank QR / WeChat paths [5× unless marked]. Alipay uses KBANK_CARD_PATHS.charge [3×]. `qrById` takes a
 * charge id or an order id [5×]; `void` is [1×; another source shows GET: ?] and taking an order id there
 * is [ours]; `refund` is [ours, ?]: KBank publishes no QR refund endpoint, so it is shaped like the card
 * refund; `orderById` [2×] is served by the simulator but unused by the client.
 */
export const KBANK_QR_PATHS = {
  order: '/qr/v2/order',
  orderById: (orderId: string) => `/qr/v2/order/${encodeURIComponent(orderId)}`,
  qr: '/qr/v2/qr',
  qrById: (chargeIdOrOrderId: string) => `/qr/v2/qr/${encodeURIComponent(chargeIdOrOrderId)}`,
  void: (chargeIdOrOrderId: string) => `/qr/v2/qr/${encodeURIComponent(chargeIdOrOrderId)}/void`,
  refund: (chargeId: string) => `/qr/v2/qr/${encodeURIComponent(chargeId)}/refund`,
} as const;

/**
 * KBank's daily transaction list [ours, ?: KBank publishes no report API; the simulator serves this
 * shape]. Change it here and in kbankTransactionListSchema, nowhere else.
 */
export const KBANK_REPORT_PATHS = {
  transactions: (date: string, page: number, pageSize: number) =>
    `/v2/transactions?date=${encodeURIComponent(date)}&page=${page}&page_size=${pageSize}`,
} as const;

/** Entries asked for per page of the transaction list. */
export const TRANSACTIONS_PAGE_SIZE = 100;
/** More pages than this (a million entries a day) means an answer that never ends: we stop. */
const MAX_TRANSACTION_PAGES = 10_000;

/** `sof` of `POST /qr/v2/qr`: "ThaiQR" [2×]; "WeChat" [ours, ?]. */
export const KBANK_QR_SOF = { qr: 'ThaiQR', wechat: 'WeChat' } as const;

/** Reason sent when cancelQr is given none (the void body is unpublished [?]). */
export const DEFAULT_QR_CANCEL_REASON = 'cancelled by merchant';

/**
 * Error codes (on the error or its causes) that prove the request never left this process: no connection
 * was made, so KBank cannot have acted. Anything else after fetch was called may have reached KBank.
 */
const NOT_SENT_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_INVALID_URL',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

type Operation =
  | 'charge'
  | 'inquiry'
  | 'void'
  | 'settle'
  | 'refund'
  | 'qr order'
  | 'qr'
  | 'qr inquiry'
  | 'qr cancel'
  | 'qr refund'
  | 'alipay charge'
  | 'transactions';

/** What createKbankClient returns: the card methods and the asynchronous ones. */
export type KbankClient = KbankGateway & KbankAsyncGateway;

export function createKbankClient(options: KbankClientOptions): KbankClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_KBANK_TIMEOUT_MS;
  const doFetch = options.fetch ?? globalThis.fetch;
  const redact = (text: string) => redactSecrets(text, options.secretKey);

  /**
   * One HTTP exchange. Returns the parsed JSON of a 2xx answer, or null for a 404 that KBank itself sent
   * when `notFoundIsNull`. Throws the taxonomy errors of the KbankGateway port.
   */
  async function send(
    operation: Operation,
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    notFoundIsNull = false,
  ): Promise<unknown> {
    let status: number;
    let text: string;
    try {
      const response = await doFetch(`${baseUrl}${path}`, {
        method,
        headers: {
          'x-api-key': options.secretKey,
          'Content-Type': 'application/json',
          Accept: 'application/json',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        // A redirect of a POST would be re-sent somewhere we did not choose; treat it as an odd answer.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.status;
      // Read inside the try: the timeout also covers the body, and a reset mid-body is an unknown outcome.
      text = await response.text();
    } catch (error) {
      throw transportError(operation, error);
    }

    const json = parseJson(text);
    if (status >= 200 && status < 300) {
      // null is reserved for "KBank has no such charge"; a 2xx must carry an object.
      if (json === undefined || json === null) {
        throw new KbankOutcomeUnknown(`KBank ${operation}: ${status} without a JSON body`);
      }
      return json;
    }
    const kbankError = kbankErrorSchema.safeParse(json);
    if (status === 404 && notFoundIsNull && (text.trim() === '' || kbankError.success)) return null;
    if (status >= 400 && status < 500 && kbankError.success) {
      const { code, message } = kbankError.data;
      throw new KbankRejected(
        redact(`KBank ${operation} rejected (${status} ${code}): ${message ?? ''}`.trim()),
        code,
        status,
      );
    }
    // 5xx, 3xx, or a 4xx that is not KBank's error object (a proxy, a wrong route): KBank may have acted.
    throw new KbankOutcomeUnknown(`KBank ${operation}: unexpected HTTP ${status}`);
  }

  async function sendForCharge(
    operation: Operation,
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    expect: { chargeId?: string; referenceOrder?: string },
  ): Promise<KbankCharge> {
    const json = await send(operation, method, path, body);
    return toCharge(operation, json, expect);
  }

  async function inquireCharge(
    ref: { chargeId: string } | { referenceOrder: string },
  ): Promise<KbankCharge | null> {
    const path =
      'chargeId' in ref
        ? KBANK_CARD_PATHS.chargeById(ref.chargeId)
        : chargeByReferenceOrderPath(ref.referenceOrder);
    const json = await send('inquiry', 'GET', path, undefined, true);
    return json === null ? null : toCharge('inquiry', json, ref);
  }

  return {
    async chargeCard(request: ChargeCardRequest): Promise<KbankCharge> {
      const body: KbankCreateChargeRequest = {
        amount: toDecimalString(request.amount, request.currency),
        currency: request.currency,
        description: request.description,
        source_type: 'card',
        mode: 'token',
        token: request.token,
        reference_order: request.referenceOrder,
        ...(request.metadata ? { metadata: request.metadata } : {}),
      };
      return sendForCharge('charge', 'POST', KBANK_CARD_PATHS.charge, body, {
        referenceOrder: request.referenceOrder,
      });
    },

    inquireCharge,

    async voidCharge(chargeId: string, reason: string): Promise<KbankCharge> {
      const body: KbankVoidRequest = { reason };
      return sendForCharge('void', 'POST', KBANK_CARD_PATHS.void(chargeId), body, { chargeId });
    },

    async settleCharge(
      chargeId: string,
      amount: number,
      currency: Currency,
      type: 'full' | 'partial',
    ): Promise<KbankCharge> {
      const body: KbankSettleRequest = { amount: toDecimalString(amount, currency), type };
      return sendForCharge('settle', 'POST', KBANK_CARD_PATHS.settle(chargeId), body, { chargeId });
    },

    async refundCharge(
      chargeId: string,
      amount: number,
      currency: Currency,
      reason: string,
    ): Promise<KbankCharge> {
      const body: KbankRefundRequest = { amount: toDecimalString(amount, currency), reason };
      return sendForCharge('refund', 'POST', KBANK_CARD_PATHS.refund(chargeId), body, { chargeId });
    },

    async createQrOrder(request: CreateQrOrderRequest): Promise<KbankQrOrder> {
      // Any currency is sent as given: KBank (and the simulator) refuse non-THB with a 4xx, KbankRejected.
      const body: Omit<KbankCreateQrOrderRequest, 'currency'> & { currency: Currency } = {
        amount: toDecimalString(request.amount, request.currency),
        currency: request.currency,
        description: request.description,
        source_type: request.sourceType,
        reference_order: request.referenceOrder,
        ...(request.metadata ? { metadata: request.metadata } : {}),
      };
      const json = await send('qr order', 'POST', KBANK_QR_PATHS.order, body);
      const parsed = kbankQrOrderSchema.safeParse(json);
      if (!parsed.success) {
        throw new KbankOutcomeUnknown(
          `KBank qr order: answer is not a valid order (${describeIssues(parsed.error)})`,
        );
      }
      const wire = parsed.data;
      if (wire.reference_order && wire.reference_order !== request.referenceOrder) {
        throw new KbankOutcomeUnknown('KBank qr order: answer is for another reference_order');
      }
      const order: KbankQrOrder = { orderId: wire.id, referenceOrder: request.referenceOrder };
      if (wire.qr_code) order.qrPayload = wire.qr_code;
      if (wire.expire_time) order.expiresAt = wire.expire_time;
      return order;
    },

    async createQr(request: CreateQrRequest): Promise<KbankQr> {
      const body: Omit<KbankCreateQrRequest, 'currency'> & { currency: Currency } = {
        order_id: request.orderId,
        amount: toDecimalString(request.amount, request.currency),
        currency: request.currency,
        description: request.description,
        sof: KBANK_QR_SOF[request.sourceType ?? 'qr'],
        reference_order: request.referenceOrder,
      };
      const json = await send('qr', 'POST', KBANK_QR_PATHS.qr, body);
      const parsed = kbankQrSchema.safeParse(json);
      if (!parsed.success) {
        throw new KbankOutcomeUnknown(`KBank qr: answer is not a valid QR (${describeIssues(parsed.error)})`);
      }
      const wire = parsed.data;
      if (wire.order_id !== request.orderId) {
        throw new KbankOutcomeUnknown('KBank qr: answer is for another order');
      }
      const qr: KbankQr = { orderId: wire.order_id, qrPayload: wire.qr_code };
      if (wire.id) qr.chargeId = wire.id;
      if (wire.expire_time) qr.expiresAt = wire.expire_time;
      return qr;
    },

    async chargeAlipay(request: ChargeAlipayRequest): Promise<KbankCharge> {
      const body: KbankCreateAlipayChargeRequest = {
        amount: toDecimalString(request.amount, request.currency),
        currency: request.currency,
        description: request.description,
        source_type: 'alipay',
        callback_type: 'web',
        reference_order: request.referenceOrder,
        ...(request.metadata ? { metadata: request.metadata } : {}),
      };
      return sendForCharge('alipay charge', 'POST', KBANK_CARD_PATHS.charge, body, {
        referenceOrder: request.referenceOrder,
      });
    },

    async inquireQr(ref: { chargeId: string } | { orderId: string }): Promise<KbankQrCharge | null> {
      const id = 'chargeId' in ref ? ref.chargeId : ref.orderId;
      const json = await send('qr inquiry', 'GET', KBANK_QR_PATHS.qrById(id), undefined, true);
      return json === null ? null : toQrCharge('qr inquiry', json, ref);
    },

    async cancelQr(chargeIdOrOrderId: string, reason = DEFAULT_QR_CANCEL_REASON): Promise<KbankQrCharge> {
      const body: KbankQrVoidRequest = { reason };
      const json = await send('qr cancel', 'POST', KBANK_QR_PATHS.void(chargeIdOrOrderId), body);
      return toQrCharge('qr cancel', json, { chargeOrOrderId: chargeIdOrOrderId });
    },

    async refundQr(
      chargeId: string,
      amount: number,
      currency: Currency,
      reason: string,
    ): Promise<KbankQrCharge> {
      const body: KbankQrRefundRequest = { amount: toDecimalString(amount, currency), reason };
      const json = await send('qr refund', 'POST', KBANK_QR_PATHS.refund(chargeId), body);
      return toQrCharge('qr refund', json, { chargeId });
    },

    async listTransactions(date: string): Promise<KbankTransaction[]> {
      const byKey = new Map<string, KbankTransaction>();
      for (let page = 1; page <= MAX_TRANSACTION_PAGES; page++) {
        const path = KBANK_REPORT_PATHS.transactions(date, page, TRANSACTIONS_PAGE_SIZE);
        const parsed = kbankTransactionListSchema.safeParse(
          await send('transactions', 'GET', path, undefined),
        );
        if (!parsed.success) {
          throw new KbankOutcomeUnknown(
            `KBank transactions: answer is not a valid list (${describeIssues(parsed.error)})`,
          );
        }
        if (parsed.data.date !== date || parsed.data.page !== page) {
          throw new KbankOutcomeUnknown('KBank transactions: answer is for another day or page');
        }
        // Keyed: a list still growing (today's) can shift an entry onto the next page too.
        for (const wire of parsed.data.data) {
          const transaction = toTransaction(wire);
          byKey.set(`${transaction.kind}:${transaction.id}`, transaction);
        }
        if (!parsed.data.has_more || parsed.data.data.length === 0) return [...byKey.values()];
      }
      throw new KbankOutcomeUnknown(`KBank transactions: more than ${MAX_TRANSACTION_PAGES} pages`);
    },
  };
}

/** Wire entry → port entry, amounts in minor units; an amount the currency cannot hold is unreadable. */
function toTransaction(wire: KbankTransactionWire): KbankTransaction {
  let amount: number;
  let refundedAmount: number;
  try {
    amount = fromDecimalString(wire.amount, wire.currency);
    refundedAmount = fromDecimalString(wire.refunded_amount, wire.currency);
  } catch {
    throw new KbankOutcomeUnknown(`KBank transactions: amount is not valid for ${wire.currency}`);
  }
  const transaction: KbankTransaction = {
    kind: wire.object,
    id: wire.id,
    chargeId: wire.charge_id,
    referenceOrder: wire.reference_order,
    sourceType: wire.source_type,
    amount,
    currency: wire.currency,
    state: wire.transaction_state,
    refundedAmount,
    created: wire.created,
  };
  if (wire.order_id) transaction.orderId = wire.order_id;
  if (wire.status) transaction.status = wire.status;
  return transaction;
}

/**
 * Classifies a failure of fetch itself (no HTTP status). Only errors that prove no connection was made are
 * KbankUnavailable; a timeout, a reset or anything unrecognised may have reached KBank.
 */
function transportError(operation: Operation, error: unknown): KbankUnavailable | KbankOutcomeUnknown {
  // By name, not instanceof: fetch's DOMException may come from another realm (jest's VM modules).
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new KbankOutcomeUnknown(`KBank ${operation}: no answer in time`, { cause: error });
  }
  const codes = errorCodes(error);
  if (codes.length > 0 && codes.every((code) => NOT_SENT_ERROR_CODES.has(code))) {
    return new KbankUnavailable(`KBank ${operation}: not reachable (${codes.join(', ')})`, { cause: error });
  }
  const detail = codes.length > 0 ? ` (${codes.join(', ')})` : '';
  return new KbankOutcomeUnknown(`KBank ${operation}: connection failed after sending${detail}`, {
    cause: error,
  });
}

/**
 * The `code`s found along the cause chain: undici wraps the socket error as `cause`, and connecting to
 * several addresses (happy eyeballs) reports an AggregateError.
 */
function errorCodes(error: unknown, depth = 0): string[] {
  if (typeof error !== 'object' || error === null || depth > 5) return [];
  const found: string[] = [];
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string') found.push(code);
  if (Array.isArray(errors)) for (const inner of errors) found.push(...errorCodes(inner, depth + 1));
  found.push(...errorCodes(cause, depth + 1));
  return found;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Parses and normalizes a charge answer. A body that is not a charge, or one for another charge than the
 * one asked about, means we cannot tell what KBank did: KbankOutcomeUnknown.
 */
function toCharge(
  operation: Operation,
  json: unknown,
  expect: { chargeId?: string; referenceOrder?: string },
): KbankCharge {
  const parsed = kbankChargeSchema.safeParse(json);
  if (!parsed.success) {
    throw new KbankOutcomeUnknown(
      `KBank ${operation}: answer is not a valid charge (${describeIssues(parsed.error)})`,
    );
  }
  const wire = parsed.data;
  if (expect.chargeId !== undefined && wire.id !== expect.chargeId) {
    throw new KbankOutcomeUnknown(`KBank ${operation}: answer is for another charge`);
  }
  if (
    expect.referenceOrder !== undefined &&
    wire.reference_order &&
    wire.reference_order !== expect.referenceOrder
  ) {
    throw new KbankOutcomeUnknown(`KBank ${operation}: answer is for another reference_order`);
  }
  let amount: number;
  try {
    amount = fromDecimalString(wire.amount, wire.currency);
  } catch {
    throw new KbankOutcomeUnknown(`KBank ${operation}: amount is not valid for ${wire.currency}`);
  }
  return normalizeCharge(wire, amount, expect.referenceOrder);
}

/** Wire charge → port charge. If KBank omits `reference_order`, we use the one we asked about. */
function normalizeCharge(wire: KbankChargeWire, amount: number, knownReferenceOrder?: string): KbankCharge {
  const charge: KbankCharge = {
    chargeId: wire.id,
    referenceOrder: wire.reference_order ?? knownReferenceOrder ?? '',
    status: wire.status,
    state: wire.transaction_state,
    amount,
    currency: wire.currency,
  };
  if (wire.approval_code) charge.approvalCode = wire.approval_code;
  if (wire.source) {
    const card: NonNullable<KbankCharge['card']> = {};
    if (wire.source.brand) card.brand = wire.source.brand;
    if (wire.source.card_masking) card.masked = wire.source.card_masking;
    if (wire.source.issuer_bank) card.issuerBank = wire.source.issuer_bank;
    charge.card = card;
  }
  if (wire.failure_code) charge.failureCode = wire.failure_code;
  if (wire.failure_message) charge.failureMessage = wire.failure_message;
  if (wire.redirect_url) charge.redirectUrl = wire.redirect_url;
  if (wire.created !== null && wire.created !== undefined) charge.created = String(wire.created);
  const refunded = refundedAmountOf(wire);
  if (refunded !== undefined) charge.refundedAmount = refunded;
  return charge;
}

/**
 * Parses and normalizes a QR / WeChat charge answer, checking it is the charge or order asked about (an
 * answer without `order_id` is taken to be for the order we asked about, as with `reference_order`).
 */
function toQrCharge(
  operation: Operation,
  json: unknown,
  expect: { chargeId?: string; orderId?: string; chargeOrOrderId?: string },
): KbankQrCharge {
  const parsed = kbankQrChargeSchema.safeParse(json);
  if (!parsed.success) {
    throw new KbankOutcomeUnknown(
      `KBank ${operation}: answer is not a valid charge (${describeIssues(parsed.error)})`,
    );
  }
  const wire = parsed.data;
  const other =
    (expect.chargeId !== undefined && wire.id !== expect.chargeId) ||
    (expect.orderId !== undefined && !!wire.order_id && wire.order_id !== expect.orderId) ||
    (expect.chargeOrOrderId !== undefined &&
      wire.id !== expect.chargeOrOrderId &&
      wire.order_id !== expect.chargeOrOrderId);
  if (other) throw new KbankOutcomeUnknown(`KBank ${operation}: answer is for another charge or order`);
  let amount: number;
  try {
    amount = fromDecimalString(wire.amount, wire.currency);
  } catch {
    throw new KbankOutcomeUnknown(`KBank ${operation}: amount is not valid for ${wire.currency}`);
  }
  const { transaction_state: state, order_id: orderId, ...rest } = wire;
  // normalizeCharge maps every field but the state, which is wider for QR: it is set right after.
  const charge: KbankQrCharge = {
    ...normalizeCharge({ ...rest, transaction_state: 'Initialize' }, amount),
    state,
  };
  const knownOrderId = orderId ?? expect.orderId;
  if (knownOrderId) charge.orderId = knownOrderId;
  return charge;
}

/**
 * Validates a notify webhook body (the raw text, a Buffer, or parsed JSON) and verifies its checksum in
 * constant time against OUR stored amount and currency, never the body's: a body whose amount was altered
 * fails, and the notification carries `expected`'s amount. Only the shape and the checksum are checked:
 * deduplicate on (chargeId, state) and re-inquire before acting, since a notify can be replayed.
 */
export function parseNotify(
  body: unknown,
  secretKey: string,
  expected: { amount: number; currency: Currency },
): KbankNotifyResult {
  const parsed = kbankNotifySchema.safeParse(notifyJson(body));
  if (!parsed.success) return { ok: false, reason: 'malformed' };
  const wire = parsed.data;
  const checksumInput: KbankChecksumInput = {
    id: wire.id,
    amount: expected.amount,
    currency: expected.currency,
    status: wire.status,
    transactionState: wire.transaction_state,
  };
  if (!verifyKbankChecksum(checksumInput, wire.checksum, secretKey)) {
    return { ok: false, reason: 'checksum_mismatch' };
  }
  const notification: KbankNotification = {
    chargeId: wire.id,
    status: wire.status,
    state: wire.transaction_state,
    amount: expected.amount,
    currency: expected.currency,
  };
  if (wire.order_id) notification.orderId = wire.order_id;
  if (wire.reference_order) notification.referenceOrder = wire.reference_order;
  if (wire.approval_code) notification.approvalCode = wire.approval_code;
  if (wire.failure_code) notification.failureCode = wire.failure_code;
  if (wire.failure_message) notification.failureMessage = wire.failure_message;
  if (wire.created !== null && wire.created !== undefined) notification.created = String(wire.created);
  return { ok: true, notification };
}

/**
 * The ids of a notify body, UNVERIFIED: only to find which attempt it claims to be about, so its stored
 * amount can be loaded for parseNotify. null when the body is not a notify.
 */
export function readNotifyReference(
  body: unknown,
): { chargeId: string; orderId?: string; referenceOrder?: string } | null {
  const parsed = kbankNotifySchema.safeParse(notifyJson(body));
  if (!parsed.success) return null;
  const reference: { chargeId: string; orderId?: string; referenceOrder?: string } = {
    chargeId: parsed.data.id,
  };
  if (parsed.data.order_id) reference.orderId = parsed.data.order_id;
  if (parsed.data.reference_order) reference.referenceOrder = parsed.data.reference_order;
  return reference;
}

function notifyJson(body: unknown): unknown {
  if (typeof body === 'string') return parseJson(body);
  if (body instanceof Uint8Array) return parseJson(Buffer.from(body).toString('utf8'));
  return body;
}

/**
 * The refunded total of a charge, in minor units, from `refund_info.refunded_amount` [ours: KBank documents
 * `refund_info` but not its shape, nor whether partial and multiple refunds are allowed [?]; one integrator's
 * notes say both are, for settled card charges]. Every assumption about KBank's refund answer lives here
 * and in kbankRefundInfoSchema. Undefined when the answer does not say: the caller must then treat the
 * refund's outcome as unknown, never as "nothing refunded".
 */
export function refundedAmountOf(wire: KbankChargeWire): number | undefined {
  const info = kbankRefundInfoSchema.safeParse(wire.refund_info);
  if (!info.success) return undefined;
  try {
    return fromDecimalString(info.data.refunded_amount, wire.currency);
  } catch {
    return undefined;
  }
}

/** Field paths only: values could hold a token or card data. */
function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
}

/** KBank's messages are free text and could echo a key or token back; strip them before they reach a log. */
function redactSecrets(text: string, secretKey: string): string {
  const withoutKey = secretKey ? text.split(secretKey).join('[redacted]') : text;
  return withoutKey.replace(/\b(?:skey|pkey|tokn)_[A-Za-z0-9_]+/g, '[redacted]');
}

/** The fields KBank's notify checksum covers; amount in minor units. */
export interface KbankChecksumInput {
  id: string;
  amount: number;
  currency: Currency;
  /** KBank's raw `status`, e.g. "success". */
  status: string;
  transactionState: string;
}

/**
 * KBank's notify checksum: lowercase hex SHA-256 of id + amount with exactly 4 decimals ("100.0000") +
 * currency + status + transaction_state + secret key, no separators. A plain hash, not an HMAC: compute it
 * from our stored amount and currency where possible.
 */
export function kbankChecksum(charge: KbankChecksumInput, secretKey: string): string {
  const amount = toDecimalString(charge.amount, charge.currency, 4);
  return createHash('sha256')
    .update(
      `${charge.id}${amount}${charge.currency}${charge.status}${charge.transactionState}${secretKey}`,
      'utf8',
    )
    .digest('hex');
}

/** True when `checksum` matches, compared in constant time so timing leaks nothing about the hash. */
export function verifyKbankChecksum(
  charge: KbankChecksumInput,
  checksum: string,
  secretKey: string,
): boolean {
  const expected = Buffer.from(kbankChecksum(charge, secretKey), 'utf8');
  const received = Buffer.from(checksum.trim().toLowerCase(), 'utf8');
  // Length is public (always 64 hex digits); timingSafeEqual requires equal lengths.
  if (received.length !== expected.length) return false;
  return timingSafeEqual(expected, received);
}
