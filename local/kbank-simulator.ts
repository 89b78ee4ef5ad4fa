/** In-process KBank KPGW simulator: the HTTP protocol, magic test cards and test controls (docs/kbank-simulator.md). */
import { randomBytes, randomInt } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import { kbankChecksum } from '../functions/adapters/kbank-client.js';
import { qrSvg } from '../functions/adapters/qr-image.js';
import { type Currency, fromDecimalString, toDecimalString } from '../functions/core/money.js';
import type { KbankQrState, KbankState } from '../functions/core/ports.js';
import { buildPromptPayPayload } from '../functions/core/promptpay.js';
import {
  kbankAmountSchema,
  kbankCreateAlipayChargeRequestSchema,
  kbankCreateChargeRequestSchema,
  kbankCreateQrOrderRequestSchema,
  kbankCreateQrRequestSchema,
  kbankCurrencySchema,
  type kbankQrChargeSchema,
  kbankQrRefundRequestSchema,
  kbankQrVoidRequestSchema,
  kbankRefundRequestSchema,
  kbankSettleRequestSchema,
  kbankTokenRequestSchema,
  kbankTokenSchema,
  type kbankTransactionListSchema,
  type kbankTransactionSchema,
  kbankVoidRequestSchema,
} from '../schemas/kbank.js';
import { readStateFile, writeStateFile } from './state-file.js';

export type SimBehaviour =
  | 'approve'
  | 'decline'
  | 'unavailable_once'
  | 'timeout_after_success'
  | 'settle_fails'
  | 'slow'
  | 'three_d_secure'
  | 'refund_fails'
  | 'refund_timeout_after_success'
  /** QR / WeChat orders and Alipay charges: the outcome waits for a `/_sim/` control call. */
  | 'await_customer';

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
  settleFails: {
    number: '4000000000000341',
    brand: 'Visa',
    behaviour: 'settle_fails',
    summary: 'approves, but settle answers 400 `settlement_failed` (to exercise void compensation)',
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

export interface KbankSimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Expected `x-api-key` on charge calls. Default skey_test_local. */
  secretKey?: string;
  /** Expected `x-api-key` on tokenization. Default pkey_test_local. */
  publicKey?: string;
  /** How long the timeout-after-success card holds its answer. Default 15000. */
  hangMs?: number;
  /** How long the slow card takes to answer. Default 300. */
  slowMs?: number;
  /** Clock for token expiry, card expiry, QR order expiry and `created`. */
  now?: () => Date;
  /** Where completions are notified (the merchant's registered notify URL); none: notifies are not sent. */
  notifyUrl?: string;
  /** Where a 3-D Secure completion posts `{objectId, token, status}` (the registered callback URL). */
  browserReturnUrl?: string;
  /** How long a QR / WeChat order stays payable. Default 10 minutes [ours]. */
  qrExpiryMs?: number;
  /** Per notify / browser-return delivery. Default 5000. */
  deliveryTimeoutMs?: number;
  /**
   * Keep the state (charges, orders, refunds, tokens, faults) in this JSON file: loaded on start, and
   * written (temp file + rename) before any answer that changed it, so a SIGKILL right after an answer
   * loses nothing. Default: in memory only.
   */
  statePath?: string;
  /** The merchant written into simulated Thai QR payloads [ours]. */
  promptPay?: { billerId?: string; merchantName?: string; merchantCity?: string };
}

export const SIMULATOR_DEFAULTS = {
  host: '127.0.0.1',
  secretKey: 'skey_test_local',
  publicKey: 'pkey_test_local',
  hangMs: 15_000,
  slowMs: 300,
  qrExpiryMs: 10 * 60 * 1000,
  deliveryTimeoutMs: 5000,
  promptPay: { billerId: '099999999999901', merchantName: 'KBANK SIMULATOR', merchantCity: 'BANGKOK' },
} as const;

/** A token lives 10 minutes or one use [doc]. */
export const TOKEN_TTL_MS = 10 * 60 * 1000;

/** A simulated charge, as the simulator holds it (amounts in minor units). No PAN, no CVV. */
export interface SimCharge {
  id: string;
  referenceOrder: string;
  amount: number;
  currency: Currency;
  status: 'success' | 'fail';
  /** `Expired` only for QR / WeChat orders nobody paid in time [ours]. */
  state: KbankQrState;
  behaviour: SimBehaviour;
  brand: string;
  cardMasking: string;
  sourceId: string;
  approvalCode?: string;
  failureCode?: string;
  failureMessage?: string;
  redirectUrl?: string;
  description?: string;
  refs: { ref_1?: string; ref_2?: string; ref_3?: string };
  metadata?: Record<string, string>;
  /** 17 digits YYYYMMDDHHmmssSSS, Bangkok time. */
  created: string;
  settledAmount: number;
  refundedAmount: number;
  voidReason?: string;
  /** Absent for card charges (created before the asynchronous methods existed). */
  sourceType?: SimSourceType;
  /** QR / WeChat: the order this charge belongs to (one charge per order). */
  orderId?: string;
  /** QR: the PromptPay payload; WeChat: a simulated wallet URL. */
  qrPayload?: string;
  /** QR / WeChat: when the order stops being payable, ISO 8601. */
  expiresAt?: string;
  /** 3-D Secure: the card token, echoed in the browser-return form. */
  tokenId?: string;
  /** Each refund applied, oldest first (their total is refundedAmount). Absent before the first. */
  refunds?: SimRefund[];
  /** Created with the orphan control: a charge KBank holds that the merchant never recorded. */
  orphan?: true;
}

/** One refund KBank applied to a charge, as the daily transaction list shows it. */
export interface SimRefund {
  /** `rfnd_test_…` [ours]. */
  id: string;
  /** Minor units. */
  amount: number;
  /** 17 digits YYYYMMDDHHmmssSSS, Bangkok time. */
  created: string;
}

/** What the orphan control creates (in-process form; amounts in minor units). */
export interface SimOrphanRequest {
  referenceOrder: string;
  amount: number;
  /** Default THB; QR and WeChat are THB only. */
  currency?: Currency;
  /** Default card. */
  sourceType?: SimSourceType;
  /** Default Authorized; Settled only for card and Alipay (QR and WeChat have no settle). */
  state?: 'Authorized' | 'Settled';
}

export type SimSourceType = 'card' | 'qr' | 'wechat' | 'alipay';

/**
 * Notify fault knobs [ours], set globally or per order / charge (`POST /_sim/faults` or `setFaults`). The
 * most specific scope wins: charge, then order, then global.
 */
export interface NotifyFaults {
  /** Deliver every notify twice. */
  duplicateNotify?: boolean;
  /** Hold each notify this long (flushNotifies() delivers held ones at once). */
  lateNotifyMs?: number;
  /** Never deliver it (inquiry still shows the outcome). */
  lostNotify?: boolean;
  /** Send a checksum computed with a wrong key. */
  wrongChecksum?: boolean;
}

/** One delivery the simulator made or withheld, oldest first. */
export interface SimDelivery {
  kind: 'notify' | 'browser_return';
  chargeId: string;
  orderId?: string;
  transactionState: KbankQrState;
  /** 1, or 2 for the duplicate of a notify. */
  copy: number;
  /**
   * delivered: a 2xx answer; failed: another answer or a network error; lost: withheld by the fault;
   * held: waiting (late notify); no_url: nowhere to send it.
   */
  outcome: 'delivered' | 'failed' | 'lost' | 'held' | 'no_url';
  httpStatus?: number;
  error?: string;
  /** The JSON notify body, or the browser-return form fields. */
  body: Record<string, unknown>;
}

export interface KbankSimulator {
  /** Base url, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  close(): Promise<void>;
  /** A copy of every charge, oldest first. */
  charges(): SimCharge[];
  /** Forgets charges, orders, tokens, the 503-once memory, faults, deliveries and held notifies. */
  reset(): void;
  /** Changes (or, with undefined, removes) the notify URL for later completions. */
  setNotifyUrl(url: string | undefined): void;
  /** Changes (or removes) the URL a 3-D Secure completion posts its form to. */
  setBrowserReturnUrl(url: string | undefined): void;
  /** Replaces the faults of one scope: global without a target. `{}` clears that scope. */
  setFaults(faults: NotifyFaults, target?: { orderId: string } | { chargeId: string }): void;
  /** A copy of every notify and browser-return delivery (or withheld one), oldest first. */
  deliveries(): SimDelivery[];
  /** Delivers every held (late) notify now, in order, and waits for them. */
  flushNotifies(): Promise<void>;
  /** A charge KBank holds under `referenceOrder` that the merchant never recorded (`POST /_sim/orphans`). */
  createOrphan(request: SimOrphanRequest): SimCharge;
  /** The charge (and its refunds) no longer appear on the daily transaction list; inquiry still finds it. */
  unlistCharge(chargeId: string): void;
  /** KBank loses the charge entirely: not listed, inquiry answers 404. */
  forgetCharge(chargeId: string): void;
}

interface TokenRecord {
  id: string;
  behaviour: SimBehaviour;
  failureCode?: string;
  failureMessage?: string;
  brand: string;
  /** First 6 and last 4 digits only, like KBank's `card_masking`. */
  cardMasking: string;
  createdAtMs: number;
  used: boolean;
}

type Reply = { status: number; body: unknown; delayMs?: number; html?: string };

class SimError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY_BYTES = 64 * 1024;
const BANGKOK_OFFSET_MS = 7 * 60 * 60 * 1000;

export async function startKbankSimulator(options: KbankSimulatorOptions = {}): Promise<KbankSimulator> {
  const host = options.host ?? SIMULATOR_DEFAULTS.host;
  const secretKey = options.secretKey ?? SIMULATOR_DEFAULTS.secretKey;
  const publicKey = options.publicKey ?? SIMULATOR_DEFAULTS.publicKey;
  const hangMs = options.hangMs ?? SIMULATOR_DEFAULTS.hangMs;
  const slowMs = options.slowMs ?? SIMULATOR_DEFAULTS.slowMs;
  const now = options.now ?? (() => new Date());
  const qrExpiryMs = options.qrExpiryMs ?? SIMULATOR_DEFAULTS.qrExpiryMs;
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? SIMULATOR_DEFAULTS.deliveryTimeoutMs;
  const promptPay = { ...SIMULATOR_DEFAULTS.promptPay, ...options.promptPay };
  let notifyUrl = options.notifyUrl;
  let browserReturnUrl = options.browserReturnUrl;
  let globalFaults: NotifyFaults = {};
  const faultsByTarget = new Map<string, NotifyFaults>();
  const chargeIdByOrder = new Map<string, string>();
  const deliveryLog: SimDelivery[] = [];
  const heldNotifies = new Map<SimDelivery, NodeJS.Timeout>();

  const charges = new Map<string, SimCharge>();
  const chargeIdByReference = new Map<string, string>();
  const tokens = new Map<string, TokenRecord>();
  const unavailableAnswered = new Set<string>();
  /** Charges left off the daily transaction list (the "missing" control). */
  const unlisted = new Set<string>();
  const sockets = new Set<Socket>();
  const heldReplies = new Set<NodeJS.Timeout>();
  let url = '';

  const statePath = options.statePath === undefined ? undefined : resolvePath(options.statePath);
  let savedState = '';
  if (statePath) {
    loadState(readStateFile(statePath), statePath);
    savedState = JSON.stringify(stateSnapshot());
  }

  const server = http.createServer((req, res) => {
    handle(req)
      .then((reply) => {
        // Before answering: what the answer reports must survive a SIGKILL right after it. A GET changes
        // nothing that is not derived again from time (an order expiring when looked at), so reads skip
        // the snapshot: with thousands of charges it is most of the simulator's work.
        if (req.method !== 'GET') saveState();
        respond(res, reply);
      })
      .catch((error: unknown) => {
        let reply =
          error instanceof SimError
            ? errorReply(error.status, error.code, error.message)
            : errorReply(500, 'internal_error', 'simulator failure');
        try {
          saveState();
        } catch {
          reply = errorReply(500, 'internal_error', 'simulator failure');
        }
        respond(res, reply);
      });
  });

  /** Everything that must survive a restart. Deliveries, held notifies and URLs are not kept. */
  function stateSnapshot(): SimState {
    return {
      version: STATE_VERSION,
      charges: [...charges.values()],
      tokens: [...tokens.values()],
      unavailableAnswered: [...unavailableAnswered],
      faults: { global: globalFaults, byTarget: [...faultsByTarget.entries()] },
      unlisted: [...unlisted],
    };
  }

  /** Writes the state file if anything changed since the last write (a no-op without statePath). */
  function saveState(): void {
    if (!statePath) return;
    const snapshot = stateSnapshot();
    const text = JSON.stringify(snapshot);
    if (text === savedState) return;
    writeStateFile(statePath, snapshot);
    savedState = text;
  }

  function loadState(raw: unknown, path: string): void {
    if (raw === undefined) return;
    const state = raw as Partial<SimState> | null;
    if (state?.version !== STATE_VERSION || !Array.isArray(state.charges) || !Array.isArray(state.tokens)) {
      throw new Error(`${path} is not a KBank simulator state file (version ${STATE_VERSION}): move it away`);
    }
    for (const charge of state.charges) {
      charges.set(charge.id, charge);
      chargeIdByReference.set(charge.referenceOrder, charge.id);
      if (charge.orderId !== undefined) chargeIdByOrder.set(charge.orderId, charge.id);
    }
    for (const token of state.tokens) tokens.set(token.id, token);
    for (const reference of state.unavailableAnswered ?? []) unavailableAnswered.add(reference);
    globalFaults = state.faults?.global ?? {};
    for (const [target, faults] of state.faults?.byTarget ?? []) faultsByTarget.set(target, faults);
    for (const chargeId of state.unlisted ?? []) unlisted.add(chargeId);
  }
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  function respond(res: http.ServerResponse, reply: Reply): void {
    if (reply.html !== undefined) {
      writeHtml(res, reply.status, reply.html);
      return;
    }
    if (!reply.delayMs) {
      writeJson(res, reply.status, reply.body);
      return;
    }
    const timer = setTimeout(() => {
      heldReplies.delete(timer);
      writeJson(res, reply.status, reply.body);
    }, reply.delayMs);
    heldReplies.add(timer);
    // The client gave up (its timeout): nothing to answer, and close() must not wait for this timer.
    res.on('close', () => {
      clearTimeout(timer);
      heldReplies.delete(timer);
    });
  }

  async function handle(req: http.IncomingMessage): Promise<Reply> {
    const requestUrl = new URL(req.url ?? '/', 'http://simulator.invalid');
    const path = requestUrl.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';

    if (path === '/_sim/health') return { status: 200, body: { status: 'ok' } };

    if (path === '/card/v2/tokens') {
      requireKey(req, publicKey);
      requireMethod(method, 'POST');
      return { status: 200, body: tokenize(await readJson(req)) };
    }

    if (path === '/card/v2/charge') {
      requireKey(req, secretKey);
      if (method === 'POST') {
        const json = await readJson(req);
        return isAlipayRequest(json) ? createAlipayCharge(json) : createCharge(json);
      }
      requireMethod(method, 'GET');
      const referenceOrder = requestUrl.searchParams.get('reference_order');
      if (!referenceOrder)
        throw new SimError(400, 'invalid_request', 'reference_order query parameter is required');
      return chargeReply(cardPath(findByReference(referenceOrder)));
    }

    const match = /^\/card\/v2\/charge\/([^/]+)(?:\/(void|settle|refund))?$/.exec(path);
    if (match) {
      requireKey(req, secretKey);
      const idOrReference = decodeURIComponent(match[1] ?? '');
      const action = match[2];
      if (!action) {
        requireMethod(method, 'GET');
        // One source [1×] says a reference_order also works here; serving both keeps the client's path
        // choice free.
        return chargeReply(cardPath(charges.get(idOrReference) ?? findByReference(idOrReference)));
      }
      requireMethod(method, 'POST');
      const charge = cardPath(charges.get(idOrReference));
      if (!charge) throw new SimError(404, 'charge_not_found', 'no such charge');
      const body = await readJson(req);
      if (action === 'void') return voidCharge(charge, body);
      if (action === 'settle') return settleCharge(charge, body);
      return refundCharge(charge, body);
    }

    if (path === '/v2/transactions') {
      requireKey(req, secretKey);
      requireMethod(method, 'GET');
      return listTransactions(requestUrl.searchParams);
    }
    if (path === '/_sim/orphans') {
      requireMethod(method, 'POST');
      return orphanReply(await readJson(req));
    }
    const listing = /^\/_sim\/charges\/([^/]+)\/(unlist|forget)$/.exec(path);
    if (listing) {
      requireMethod(method, 'POST');
      await drain(req);
      const chargeId = pathId(listing[1]);
      if (listing[2] === 'unlist') unlistCharge(chargeId);
      else forgetCharge(chargeId);
      return {
        status: 200,
        body: { id: chargeId, [listing[2] === 'unlist' ? 'unlisted' : 'forgotten']: true },
      };
    }

    const asyncReply = await handleAsync(req, method, path);
    if (asyncReply) return asyncReply;

    throw new SimError(404, 'not_found', `no route for ${method} ${path}`);
  }

  function findByReference(referenceOrder: string): SimCharge | undefined {
    const id = chargeIdByReference.get(referenceOrder);
    return id === undefined ? undefined : charges.get(id);
  }

  function chargeReply(charge: SimCharge | undefined): Reply {
    if (!charge) throw new SimError(404, 'charge_not_found', 'no such charge');
    return { status: 200, body: toWire(charge) };
  }

  function tokenize(json: unknown): unknown {
    const parsed = kbankTokenRequestSchema.safeParse(json);
    if (!parsed.success) throw invalidRequest(parsed.error);
    const card = parsed.data.card;

    const number = (card.number ?? '').replace(/[\s-]/g, '');
    if (!/^\d{12,19}$/.test(number) || !luhnValid(number)) {
      throw new SimError(400, 'invalid_card_number', 'card number is not a valid card number');
    }
    const month = toInteger(card.expiration_month);
    if (month === undefined || month < 1 || month > 12) {
      throw new SimError(400, 'invalid_expiration_month', 'expiration_month must be 1 to 12');
    }
    const rawYear = toInteger(card.expiration_year);
    const year = rawYear !== undefined && rawYear < 100 ? 2000 + rawYear : rawYear;
    if (year === undefined || year < 2000 || year > 2100) {
      throw new SimError(400, 'invalid_expiration_year', 'expiration_year must be a 4-digit year');
    }
    // A card is valid through the last day of its expiration month.
    const today = now();
    if (year * 12 + month < today.getUTCFullYear() * 12 + today.getUTCMonth() + 1) {
      throw new SimError(400, 'card_expired', 'the card has expired');
    }
    if (!/^\d{3,4}$/.test(card.security_code ?? '')) {
      throw new SimError(400, 'invalid_security_code', 'security_code must be 3 or 4 digits');
    }
    const name = (card.name ?? '').trim();
    if (name === '') throw new SimError(400, 'invalid_name', 'name is required');

    const magic = Object.values(MAGIC_CARDS).find((candidate) => candidate.number === number);
    const token: TokenRecord = {
      id: `tokn_test_${randomBytes(12).toString('hex')}`,
      behaviour: magic?.behaviour ?? 'approve',
      brand: magic?.brand ?? brandOf(number),
      cardMasking: mask(number),
      createdAtMs: today.getTime(),
      used: false,
    };
    if (magic && 'failureCode' in magic) {
      token.failureCode = magic.failureCode;
      token.failureMessage = magic.failureMessage;
    }
    tokens.set(token.id, token);
    return kbankTokenSchema.parse({
      id: token.id,
      object: 'token',
      card: {
        brand: token.brand,
        last_digits: number.slice(-4),
        name,
        expiration_month: month,
        expiration_year: year,
      },
    });
  }

  function createCharge(json: unknown): Reply {
    const parsed = kbankCreateChargeRequestSchema.safeParse(json);
    if (!parsed.success) throw invalidRequest(parsed.error);
    const request = parsed.data;
    const amount = parseAmount(request.amount, request.currency);
    if (chargeIdByReference.has(request.reference_order)) {
      throw new SimError(
        400,
        'duplicate_reference_order',
        'a charge with this reference_order already exists',
      );
    }
    const token = tokens.get(request.token);
    if (!token) throw new SimError(400, 'invalid_token', 'token not found');
    if (token.used) throw new SimError(400, 'token_already_used', 'token has already been used');
    if (now().getTime() - token.createdAtMs >= TOKEN_TTL_MS) {
      throw new SimError(400, 'token_expired', 'token has expired');
    }
    if (token.behaviour === 'unavailable_once' && !unavailableAnswered.has(request.reference_order)) {
      unavailableAnswered.add(request.reference_order);
      return errorReply(503, 'service_unavailable', 'service temporarily unavailable');
    }

    token.used = true;
    const id = `chrg_test_${randomBytes(12).toString('hex')}`;
    const charge: SimCharge = {
      id,
      referenceOrder: request.reference_order,
      amount,
      currency: request.currency,
      status: 'success',
      state: 'Authorized',
      behaviour: token.behaviour,
      brand: token.brand,
      cardMasking: token.cardMasking,
      sourceId: `card_test_${randomBytes(8).toString('hex')}`,
      refs: { ref_1: request.ref_1, ref_2: request.ref_2, ref_3: request.ref_3 },
      created: kbankTimestamp(now()),
      settledAmount: 0,
      refundedAmount: 0,
    };
    if (request.description !== undefined) charge.description = request.description;
    if (request.metadata !== undefined) charge.metadata = request.metadata;
    if (token.behaviour === 'decline') {
      charge.status = 'fail';
      charge.state = 'Declined';
      charge.failureCode = token.failureCode ?? 'card_declined';
      charge.failureMessage = token.failureMessage ?? 'declined';
    } else if (token.behaviour === 'three_d_secure') {
      charge.state = 'Pre-Authorized';
      charge.redirectUrl = `${url}/_sim/3ds/${id}`;
      charge.tokenId = token.id;
    } else {
      charge.approvalCode = String(randomInt(0, 1_000_000)).padStart(6, '0');
    }
    charges.set(id, charge);
    chargeIdByReference.set(charge.referenceOrder, id);

    const reply: Reply = { status: 200, body: toWire(charge) };
    if (token.behaviour === 'timeout_after_success') reply.delayMs = hangMs;
    if (token.behaviour === 'slow') reply.delayMs = slowMs;
    return reply;
  }

  function voidCharge(charge: SimCharge, json: unknown): Reply {
    const parsed = kbankVoidRequestSchema.safeParse(json);
    if (!parsed.success) throw invalidRequest(parsed.error);
    // A 3-D Secure or Alipay charge the customer never finished is voided too: the saga gives up on it.
    if (!awaitsCustomer(charge)) requireState(charge, 'Authorized', 'void');
    charge.state = 'Voided';
    charge.voidReason = parsed.data.reason;
    return { status: 200, body: toWire(charge) };
  }

  function settleCharge(charge: SimCharge, json: unknown): Reply {
    const parsed = kbankSettleRequestSchema.safeParse(json);
    if (!parsed.success) throw invalidRequest(parsed.error);
    requireState(charge, 'Authorized', 'settle');
    if (charge.behaviour === 'settle_fails') {
      throw new SimError(400, 'settlement_failed', 'settlement failed');
    }
    const amount = parseAmount(parsed.data.amount, charge.currency);
    if (amount > charge.amount) {
      throw new SimError(
        400,
        'amount_exceeds_authorized',
        'settle amount is more than the authorized amount',
      );
    }
    if (parsed.data.type === 'full' && amount !== charge.amount) {
      throw new SimError(400, 'invalid_settle_type', 'type full needs the whole authorized amount');
    }
    charge.state = 'Settled';
    charge.settledAmount = amount;
    return { status: 200, body: toWire(charge) };
  }

  function refundCharge(charge: SimCharge, json: unknown): Reply {
    const parsed = kbankRefundRequestSchema.safeParse(json);
    if (!parsed.success) throw invalidRequest(parsed.error);
    // Alipay money is taken when the customer pays (there is no settle) [ours, ?]: an Authorized Alipay
    // charge is refundable up to what was paid, as a QR order is.
    const wallet = charge.sourceType === 'alipay';
    if (
      charge.state !== 'Settled' &&
      charge.state !== 'Refund Sent' &&
      !(wallet && charge.state === 'Authorized')
    ) {
      throw new SimError(400, 'invalid_state', `cannot refund a charge in state ${charge.state}`);
    }
    const amount = parseAmount(parsed.data.amount, charge.currency);
    const refundable = wallet && charge.settledAmount === 0 ? charge.amount : charge.settledAmount;
    if (charge.refundedAmount + amount > refundable) {
      throw new SimError(400, 'amount_exceeds_refundable', 'refunds would exceed the settled amount');
    }
    if (charge.behaviour === 'refund_fails') throw new SimError(400, 'refund_failed', 'refund failed');
    charge.state = 'Refund Sent';
    charge.refundedAmount += amount;
    recordRefund(charge, amount);
    const reply: Reply = { status: 200, body: toWire(charge) };
    if (charge.behaviour === 'refund_timeout_after_success') reply.delayMs = hangMs;
    return reply;
  }

  function recordRefund(charge: SimCharge, amount: number): void {
    const refund: SimRefund = {
      id: `rfnd_test_${randomBytes(12).toString('hex')}`,
      amount,
      created: kbankTimestamp(now()),
    };
    charge.refunds = [...(charge.refunds ?? []), refund];
  }

  /**
   * `GET /v2/transactions?date=YYYY-MM-DD[&page=1&page_size=100]` [ours, ?: KBank publishes no report
   * API]: every charge created on that Bangkok business day (any state, QR / WeChat orders included) and
   * every refund applied that day, oldest first, paginated.
   */
  function listTransactions(query: URLSearchParams): Reply {
    const parsed = transactionsQuerySchema.safeParse(Object.fromEntries(query));
    if (!parsed.success) throw invalidRequest(parsed.error);
    const { date, page, page_size: pageSize } = parsed.data;
    const day = date.replaceAll('-', '');
    const entries: TransactionWire[] = [];
    for (const charge of charges.values()) {
      if (unlisted.has(charge.id)) continue;
      refresh(charge);
      if (charge.created.startsWith(day)) entries.push(toTransactionWire(charge));
      for (const refund of charge.refunds ?? []) {
        if (refund.created.startsWith(day)) entries.push(toRefundTransactionWire(charge, refund));
      }
    }
    entries.sort((a, b) => a.created.localeCompare(b.created) || a.id.localeCompare(b.id));
    const start = (page - 1) * pageSize;
    const body: z.input<typeof kbankTransactionListSchema> = {
      object: 'list',
      date,
      page,
      page_size: pageSize,
      total: entries.length,
      has_more: start + pageSize < entries.length,
      data: entries.slice(start, start + pageSize),
    };
    return { status: 200, body };
  }

  /** `POST /_sim/orphans` [ours]: the body is KBank-like (decimal amount, snake_case). */
  function orphanReply(json: unknown): Reply {
    const parsed = simOrphanRequestSchema.safeParse(json);
    if (!parsed.success) throw invalidRequest(parsed.error);
    const request = parsed.data;
    const charge = createOrphan({
      referenceOrder: request.reference_order,
      amount: parseAmount(request.amount, request.currency),
      currency: request.currency,
      sourceType: request.source_type,
      state: request.state,
    });
    return { status: 200, body: toWire(charge) };
  }

  /**
   * A charge KBank holds that the merchant never recorded: what a crash between KBank's answer and our
   * write would leave, made directly. Paid (Authorized, or Settled for card / Alipay), so it can be
   * inquired, listed, voided, settled or refunded like any other.
   */
  function createOrphan(request: SimOrphanRequest): SimCharge {
    const currency = request.currency ?? 'THB';
    const sourceType = request.sourceType ?? 'card';
    const state = request.state ?? 'Authorized';
    const qr = sourceType === 'qr' || sourceType === 'wechat';
    if (qr && currency !== 'THB') throw new SimError(400, 'invalid_currency', 'QR and WeChat are THB only');
    if (qr && state !== 'Authorized') {
      throw new SimError(400, 'invalid_state', 'a QR or WeChat orphan can only be Authorized (paid)');
    }
    if (!Number.isSafeInteger(request.amount) || request.amount <= 0) {
      throw new SimError(400, 'invalid_amount', 'amount must be more than zero');
    }
    if (request.referenceOrder === '' || request.referenceOrder.length > 50) {
      throw new SimError(400, 'invalid_request', 'reference_order must be 1 to 50 characters');
    }
    requireNewReference(request.referenceOrder);
    const created = now();
    const id = `chrg_test_${randomBytes(12).toString('hex')}`;
    const brands: Record<SimSourceType, string> = {
      card: 'Visa',
      alipay: 'Alipay',
      qr: 'PromptPay',
      wechat: 'WeChat Pay',
    };
    const charge: SimCharge = {
      id,
      referenceOrder: request.referenceOrder,
      amount: request.amount,
      currency,
      status: 'success',
      state,
      behaviour: sourceType === 'card' ? 'approve' : 'await_customer',
      brand: brands[sourceType],
      cardMasking: sourceType === 'card' ? '411111xxxxxx1111' : '',
      sourceId: `${sourceType === 'card' ? 'card' : 'src'}_test_${randomBytes(8).toString('hex')}`,
      approvalCode: String(randomInt(0, 1_000_000)).padStart(6, '0'),
      refs: {},
      created: kbankTimestamp(created),
      settledAmount: state === 'Settled' ? request.amount : 0,
      refundedAmount: 0,
      orphan: true,
    };
    if (sourceType !== 'card') charge.sourceType = sourceType;
    if (qr) {
      const qrReference = `SIM${randomBytes(8).toString('hex').toUpperCase()}`;
      charge.orderId = `order_test_${randomBytes(12).toString('hex')}`;
      charge.qrPayload =
        sourceType === 'qr'
          ? thaiQrPayload(request.amount, qrReference, request.referenceOrder)
          : `weixin://wxpay/bizpayurl?pr=${qrReference}`;
      charge.expiresAt = new Date(created.getTime() + qrExpiryMs).toISOString();
      chargeIdByOrder.set(charge.orderId, id);
    }
    charges.set(id, charge);
    chargeIdByReference.set(charge.referenceOrder, id);
    saveState();
    return structuredClone(charge);
  }

  function unlistCharge(chargeId: string): void {
    if (!charges.has(chargeId)) throw new SimError(404, 'charge_not_found', 'no such charge');
    unlisted.add(chargeId);
    saveState();
  }

  function forgetCharge(chargeId: string): void {
    const charge = charges.get(chargeId);
    if (!charge) throw new SimError(404, 'charge_not_found', 'no such charge');
    charges.delete(chargeId);
    chargeIdByReference.delete(charge.referenceOrder);
    if (charge.orderId !== undefined) chargeIdByOrder.delete(charge.orderId);
    unlisted.delete(chargeId);
    faultsByTarget.delete(chargeId);
    saveState();
  }

  /** QR / WeChat orders, the simulator's control endpoints and pages; undefined when no route matches. */
  async function handleAsync(
    req: http.IncomingMessage,
    method: string,
    path: string,
  ): Promise<Reply | undefined> {
    if (path === '/qr/v2/order') {
      requireKey(req, secretKey);
      requireMethod(method, 'POST');
      return createQrOrder(await readJson(req));
    }
    const order = /^\/qr\/v2\/order\/([^/]+)$/.exec(path);
    if (order) {
      requireKey(req, secretKey);
      requireMethod(method, 'GET');
      return { status: 200, body: toOrderWire(orderCharge(pathId(order[1]))) };
    }
    if (path === '/qr/v2/qr') {
      requireKey(req, secretKey);
      requireMethod(method, 'POST');
      return createQr(await readJson(req));
    }
    const qr = /^\/qr\/v2\/qr\/([^/]+)(?:\/(void|refund))?$/.exec(path);
    if (qr) {
      requireKey(req, secretKey);
      const id = pathId(qr[1]);
      const action = qr[2];
      if (action === 'refund') {
        requireMethod(method, 'POST');
        return refundQr(qrChargeById(id), await readJson(req));
      }
      const charge = qrCharge(id);
      if (!action) {
        requireMethod(method, 'GET');
        return { status: 200, body: toWire(charge) };
      }
      requireMethod(method, 'POST');
      return cancelQr(charge, await readJson(req));
    }

    const control = /^\/_sim\/(orders|charges)\/([^/]+)\/([a-z]+)$/.exec(path);
    if (control) {
      const [, kind, rawId, action = ''] = control;
      const actions = kind === 'orders' ? ['pay', 'decline', 'abandon'] : ['complete', 'fail'];
      if (!actions.includes(action)) throw new SimError(404, 'not_found', `no route for ${method} ${path}`);
      requireMethod(method, 'POST');
      const fromBrowser = isForm(req);
      await drain(req);
      const id = pathId(rawId);
      const charge = kind === 'orders' ? orderCharge(id) : anyCharge(id);
      const done =
        action === 'abandon'
          ? abandon(charge)
          : await customerAction(charge, action === 'pay' || action === 'complete');
      return fromBrowser
        ? { status: 200, body: null, html: donePage(done) }
        : { status: 200, body: toWire(done) };
    }
    if (path === '/_sim/charges') {
      // Read-only, for reconciliation checks from another process (npm run chaos): what charges() returns.
      requireMethod(method, 'GET');
      const list = [...charges.values()].map((charge) => {
        const { tokenId: _token, ...listed } = structuredClone(refresh(charge));
        return listed;
      });
      return { status: 200, body: { object: 'list', data: list } };
    }
    if (path === '/_sim/faults') {
      requireMethod(method, 'POST');
      return setFaultsReply(await readJson(req));
    }
    // Before the pages: `/_sim/qr/scan` would otherwise read as the page of an order named "scan".
    if (path === '/_sim/qr/scan') {
      requireMethod(method, 'POST');
      return scanQr(await readJson(req));
    }
    const page = /^\/_sim\/(3ds|alipay|qr)\/([^/]+)$/.exec(path);
    if (page) {
      requireMethod(method, 'GET');
      return pageReply(page[1] ?? '', pathId(page[2]));
    }
    return undefined;
  }

  /** The card endpoints never show QR / WeChat charges (they live under /qr/v2). */
  function cardPath(charge: SimCharge | undefined): SimCharge | undefined {
    return charge && charge.orderId === undefined ? charge : undefined;
  }

  /** An order that was not paid in time becomes `Expired` when next looked at (no timers). */
  function refresh(charge: SimCharge): SimCharge {
    if (
      charge.orderId !== undefined &&
      charge.state === 'Initialize' &&
      charge.expiresAt !== undefined &&
      now().getTime() >= Date.parse(charge.expiresAt)
    ) {
      charge.state = 'Expired';
      charge.status = 'fail';
      charge.failureCode = 'order_expired';
      charge.failureMessage = 'the QR was not paid in time';
    }
    return charge;
  }

  function anyCharge(chargeId: string): SimCharge {
    const charge = charges.get(chargeId);
    if (!charge) throw new SimError(404, 'charge_not_found', 'no such charge');
    return refresh(charge);
  }

  function orderCharge(orderId: string): SimCharge {
    const chargeId = chargeIdByOrder.get(orderId);
    const charge = chargeId === undefined ? undefined : charges.get(chargeId);
    if (!charge) throw new SimError(404, 'order_not_found', 'no such order');
    return refresh(charge);
  }

  /** A QR / WeChat charge by charge id or order id. */
  function qrCharge(chargeIdOrOrderId: string): SimCharge {
    const byId = charges.get(chargeIdOrOrderId);
    if (byId?.orderId !== undefined) return refresh(byId);
    const chargeId = chargeIdByOrder.get(chargeIdOrOrderId);
    const charge = chargeId === undefined ? undefined : charges.get(chargeId);
    if (!charge) throw new SimError(404, 'charge_not_found', 'no such charge or order');
    return refresh(charge);
  }

  /** A QR / WeChat charge by charge id only: the refund path names a charge [ours], never an order. */
  function qrChargeById(chargeId: string): SimCharge {
    const charge = charges.get(chargeId);
    if (charge?.orderId === undefined) throw new SimError(404, 'charge_not_found', 'no such charge');
    return refresh(charge);
  }

  function createQrOrder(json: unknown): Reply {
    const currency = (json as { currency?: unknown } | null)?.currency;
    if (typeof currency === 'string' && currency !== 'THB') {
      throw new SimError(400, 'invalid_currency', 'QR and WeChat orders are THB only');
    }
    const parsed = kbankCreateQrOrderRequestSchema.safeParse(json);
    if (!parsed.success) throw invalidRequest(parsed.error);
    const request = parsed.data;
    const amount = parseAmount(request.amount, 'THB');
    requireNewReference(request.reference_order);

    const created = now();
    const orderId = `order_test_${randomBytes(12).toString('hex')}`;
    const qrReference = `SIM${randomBytes(8).toString('hex').toUpperCase()}`;
    const charge: SimCharge = {
      id: `chrg_test_${randomBytes(12).toString('hex')}`,
      referenceOrder: request.reference_order,
      amount,
      currency: 'THB',
      status: 'success',
      state: 'Initialize',
      behaviour: 'await_customer',
      brand: request.source_type === 'qr' ? 'PromptPay' : 'WeChat Pay',
      cardMasking: '',
      sourceId: `src_test_${randomBytes(8).toString('hex')}`,
      refs: { ref_1: request.ref_1 },
      created: kbankTimestamp(created),
      settledAmount: 0,
      refundedAmount: 0,
      sourceType: request.source_type,
      orderId,
      qrPayload:
        request.source_type === 'qr'
          ? thaiQrPayload(amount, qrReference, request.reference_order)
          : `weixin://wxpay/bizpayurl?pr=${qrReference}`,
      expiresAt: new Date(created.getTime() + qrExpiryMs).toISOString(),
    };
    if (request.description !== undefined) charge.description = request.description;
    if (request.metadata !== undefined) charge.metadata = request.metadata;
    charges.set(charge.id, charge);
    chargeIdByReference.set(charge.referenceOrder, charge.id);
    chargeIdByOrder.set(orderId, charge.id);
    return { status: 200, body: toOrderWire(charge) };
  }

  /** A bill-payment Thai QR for the configured merchant; reference 2 is our reference_order, cleaned. */
  function thaiQrPayload(amount: number, reference1: string, referenceOrder: string): string {
    const reference2 = referenceOrder
      .toUpperCase()
      .replace(/[^A-Z0-9]/g, '')
      .slice(0, 20);
    return buildPromptPayPayload({
      merchant: {
        kind: 'billPayment',
        billerId: promptPay.billerId,
        reference1,
        ...(reference2 ? { reference2 } : {}),
      },
      amount,
      merchantName: promptPay.merchantName,
      merchantCity: promptPay.merchantCity,
    });
  }

  function createQr(json: unknown): Reply {
    const parsed = kbankCreateQrRequestSchema.safeParse(json);
    if (!parsed.success) throw invalidRequest(parsed.error);
    const request = parsed.data;
    const charge = orderCharge(request.order_id);
    if (parseAmount(request.amount, 'THB') !== charge.amount) {
      throw new SimError(400, 'amount_mismatch', 'amount differs from the order');
    }
    if (request.reference_order !== charge.referenceOrder) {
      throw new SimError(400, 'reference_order_mismatch', 'reference_order differs from the order');
    }
    if (request.sof !== (charge.sourceType === 'wechat' ? 'WeChat' : 'ThaiQR')) {
      throw new SimError(400, 'invalid_sof', 'sof does not match the order source_type');
    }
    requireOpen(charge);
    return {
      status: 200,
      body: {
        id: charge.id,
        object: 'qr',
        order_id: charge.orderId,
        qr_code: charge.qrPayload,
        expire_time: charge.expiresAt,
      },
    };
  }

  function cancelQr(charge: SimCharge, json: unknown): Reply {
    const parsed = kbankQrVoidRequestSchema.safeParse(json);
    if (!parsed.success) throw invalidRequest(parsed.error);
    requireOpen(charge);
    charge.state = 'Voided';
    if (parsed.data.reason !== undefined) charge.voidReason = parsed.data.reason;
    return { status: 200, body: toWire(charge) };
  }

  /**
   * [ours: KBank publishes no QR refund] Gives back money paid to an order, e.g. one paid after the
   * merchant's payment had expired: only once paid (a cancel is for before), whole or in parts up to the
   * paid amount, reported like a card refund (`Refund Sent`, `refund_info`). No notify, like the card refund.
   */
  function refundQr(charge: SimCharge, json: unknown): Reply {
    const parsed = kbankQrRefundRequestSchema.safeParse(json);
    if (!parsed.success) throw invalidRequest(parsed.error);
    if (charge.state !== 'Authorized' && charge.state !== 'Refund Sent') {
      throw new SimError(400, 'invalid_state', `cannot refund a charge in state ${charge.state}`);
    }
    const amount = parseAmount(parsed.data.amount, charge.currency);
    if (charge.refundedAmount + amount > charge.amount) {
      throw new SimError(400, 'amount_exceeds_refundable', 'refunds would exceed the paid amount');
    }
    charge.state = 'Refund Sent';
    charge.refundedAmount += amount;
    recordRefund(charge, amount);
    return { status: 200, body: toWire(charge) };
  }

  /** Only an order still waiting for payment can be paid, shown, cancelled or abandoned. */
  function requireOpen(charge: SimCharge): void {
    if (charge.state === 'Expired') throw new SimError(400, 'order_expired', 'the order has expired');
    if (charge.state !== 'Initialize') {
      throw new SimError(400, 'invalid_state', `the order is ${charge.state}, not waiting for payment`);
    }
  }

  function requireNewReference(referenceOrder: string): void {
    if (chargeIdByReference.has(referenceOrder)) {
      throw new SimError(
        400,
        'duplicate_reference_order',
        'a charge with this reference_order already exists',
      );
    }
  }

  function createAlipayCharge(json: unknown): Reply {
    const parsed = kbankCreateAlipayChargeRequestSchema.safeParse(json);
    if (!parsed.success) throw invalidRequest(parsed.error);
    const request = parsed.data;
    const amount = parseAmount(request.amount, request.currency);
    requireNewReference(request.reference_order);
    const id = `chrg_test_${randomBytes(12).toString('hex')}`;
    const charge: SimCharge = {
      id,
      referenceOrder: request.reference_order,
      amount,
      currency: request.currency,
      status: 'success',
      state: 'Initialize',
      behaviour: 'await_customer',
      brand: 'Alipay',
      cardMasking: '',
      sourceId: `src_test_${randomBytes(8).toString('hex')}`,
      refs: { ref_1: request.ref_1, ref_2: request.ref_2, ref_3: request.ref_3 },
      created: kbankTimestamp(now()),
      settledAmount: 0,
      refundedAmount: 0,
      sourceType: 'alipay',
      redirectUrl: `${url}/_sim/alipay/${id}`,
    };
    if (request.description !== undefined) charge.description = request.description;
    if (request.metadata !== undefined) charge.metadata = request.metadata;
    charges.set(id, charge);
    chargeIdByReference.set(charge.referenceOrder, id);
    return { status: 200, body: toWire(charge) };
  }

  /** The customer walks away: the order expires now, without a notify. */
  function abandon(charge: SimCharge): SimCharge {
    requireOpen(charge);
    charge.expiresAt = now().toISOString();
    return refresh(charge);
  }

  /**
   * The customer pays (or the payment fails): a QR / WeChat order, an Alipay charge, or a 3-D Secure card
   * charge. Then the browser return (3-D Secure only) and the notify, both awaited unless held by a fault.
   */
  async function customerAction(charge: SimCharge, success: boolean): Promise<SimCharge> {
    const threeDs = charge.behaviour === 'three_d_secure';
    if (charge.orderId !== undefined) requireOpen(charge);
    else if (!awaitsCustomer(charge)) {
      throw new SimError(400, 'invalid_state', `the charge is ${charge.state}, not waiting for the customer`);
    }
    if (success) {
      charge.state = 'Authorized';
      charge.status = 'success';
      charge.approvalCode = String(randomInt(0, 1_000_000)).padStart(6, '0');
    } else {
      charge.state = 'Declined';
      charge.status = 'fail';
      charge.failureCode = threeDs ? 'authentication_failed' : 'payment_declined';
      charge.failureMessage = threeDs ? '3-D Secure authentication failed' : 'the payment was declined';
    }
    if (threeDs) await browserReturn(charge, success);
    await notify(charge);
    return charge;
  }

  /**
   * The customer scans the code our API showed them (the QR payload is all they have) and pays or is
   * declined: the same as `/_sim/orders/{orderId}/pay|decline`, found by the payload.
   */
  async function scanQr(json: unknown): Promise<Reply> {
    const parsed = simQrScanRequestSchema.safeParse(json);
    if (!parsed.success) throw invalidRequest(parsed.error);
    const { payload, action } = parsed.data;
    const charge = [...charges.values()].find(
      (candidate) => candidate.orderId !== undefined && candidate.qrPayload === payload,
    );
    if (!charge) throw new SimError(404, 'order_not_found', 'no order has this QR payload');
    return { status: 200, body: toWire(await customerAction(refresh(charge), action === 'pay')) };
  }

  function faultsFor(charge: SimCharge): NotifyFaults {
    return {
      ...globalFaults,
      ...(charge.orderId === undefined ? {} : faultsByTarget.get(charge.orderId)),
      ...faultsByTarget.get(charge.id),
    };
  }

  function setFaultsFor(faults: NotifyFaults, targetId?: string): void {
    const clean: NotifyFaults = {};
    if (faults.duplicateNotify !== undefined) clean.duplicateNotify = faults.duplicateNotify;
    if (faults.lateNotifyMs !== undefined) clean.lateNotifyMs = faults.lateNotifyMs;
    if (faults.lostNotify !== undefined) clean.lostNotify = faults.lostNotify;
    if (faults.wrongChecksum !== undefined) clean.wrongChecksum = faults.wrongChecksum;
    if (targetId === undefined) globalFaults = clean;
    else if (Object.keys(clean).length === 0) faultsByTarget.delete(targetId);
    else faultsByTarget.set(targetId, clean);
  }

  function setFaultsReply(json: unknown): Reply {
    const parsed = simFaultsRequestSchema.safeParse(json);
    if (!parsed.success) throw invalidRequest(parsed.error);
    const { orderId, chargeId, ...faults } = parsed.data;
    if (orderId !== undefined && chargeId !== undefined) {
      throw new SimError(400, 'invalid_request', 'give orderId or chargeId, not both');
    }
    setFaultsFor(faults, orderId ?? chargeId);
    const scope = orderId !== undefined ? { orderId } : chargeId !== undefined ? { chargeId } : 'global';
    return { status: 200, body: { scope, faults } };
  }

  /** Sends the charge object + checksum to the notify URL, as the faults say. */
  async function notify(charge: SimCharge): Promise<void> {
    // The receiver inquires while this call is still running: the state it reads must already be kept.
    saveState();
    const faults = faultsFor(charge);
    const checksum = kbankChecksum(
      {
        id: charge.id,
        amount: charge.amount,
        currency: charge.currency,
        status: charge.status,
        transactionState: charge.state,
      },
      faults.wrongChecksum ? `${secretKey}_wrong` : secretKey,
    );
    const body: Record<string, unknown> = { ...toWire(charge), checksum };
    const copies = faults.duplicateNotify ? 2 : 1;
    for (let copy = 1; copy <= copies; copy++) {
      const delivery: SimDelivery = {
        kind: 'notify',
        chargeId: charge.id,
        transactionState: charge.state,
        copy,
        outcome: 'held',
        body: structuredClone(body),
      };
      if (charge.orderId !== undefined) delivery.orderId = charge.orderId;
      deliveryLog.push(delivery);
      if (faults.lostNotify) {
        delivery.outcome = 'lost';
        continue;
      }
      const lateMs = faults.lateNotifyMs ?? 0;
      if (lateMs > 0) {
        const timer = setTimeout(() => {
          heldNotifies.delete(delivery);
          void deliver(delivery);
        }, lateMs);
        heldNotifies.set(delivery, timer);
        continue;
      }
      await deliver(delivery);
    }
  }

  /** 3-D Secure: the form KBank makes the customer's browser post to the merchant's callback URL. */
  async function browserReturn(charge: SimCharge, success: boolean): Promise<void> {
    saveState();
    const delivery: SimDelivery = {
      kind: 'browser_return',
      chargeId: charge.id,
      transactionState: charge.state,
      copy: 1,
      outcome: 'held',
      body: { objectId: charge.id, token: charge.tokenId ?? '', status: success ? 'true' : 'false' },
    };
    deliveryLog.push(delivery);
    await deliver(delivery);
  }

  async function deliver(delivery: SimDelivery): Promise<void> {
    const target = delivery.kind === 'notify' ? notifyUrl : browserReturnUrl;
    if (!target) {
      delivery.outcome = 'no_url';
      return;
    }
    const form = delivery.kind === 'browser_return';
    try {
      const response = await fetch(target, {
        method: 'POST',
        headers: {
          'Content-Type': form ? 'application/x-www-form-urlencoded' : 'application/json',
        },
        body: form
          ? new URLSearchParams(delivery.body as Record<string, string>).toString()
          : JSON.stringify(delivery.body),
        redirect: 'manual',
        signal: AbortSignal.timeout(deliveryTimeoutMs),
      });
      await response.arrayBuffer();
      delivery.httpStatus = response.status;
      delivery.outcome = response.ok ? 'delivered' : 'failed';
    } catch (error) {
      delivery.outcome = 'failed';
      delivery.error = error instanceof Error ? error.message : String(error);
    }
  }

  /** The customer-facing pages [ours]: 3-D Secure, Alipay, and a QR order with its code. */
  async function pageReply(kind: string, id: string): Promise<Reply> {
    if (kind === 'qr') {
      const charge = orderCharge(id);
      const image = charge.qrPayload && charge.sourceType === 'qr' ? await qrSvg(charge.qrPayload) : '';
      const actions: [string, string][] = ['pay', 'decline', 'abandon'].map((action) => [
        action,
        `/_sim/orders/${encodeURIComponent(id)}/${action}`,
      ]);
      return { status: 200, body: null, html: actionPage('Thai QR (simulated)', charge, actions, image) };
    }
    const charge = anyCharge(id);
    const expected = kind === '3ds' ? charge.behaviour === 'three_d_secure' : charge.sourceType === 'alipay';
    if (!expected) throw new SimError(404, 'charge_not_found', 'no such charge');
    const actions: [string, string][] = [
      ['Pay', `/_sim/charges/${encodeURIComponent(id)}/complete`],
      ['Fail', `/_sim/charges/${encodeURIComponent(id)}/fail`],
    ];
    const title = kind === '3ds' ? '3-D Secure (simulated)' : 'Alipay (simulated)';
    return { status: 200, body: null, html: actionPage(title, charge, actions) };
  }

  function requireKey(req: http.IncomingMessage, expected: string): void {
    if (req.headers['x-api-key'] !== expected) {
      throw new SimError(401, 'unauthorized', 'missing or wrong x-api-key');
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        for (const timer of heldReplies) clearTimeout(timer);
        heldReplies.clear();
        for (const timer of heldNotifies.values()) clearTimeout(timer);
        heldNotifies.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        // Held answers and keep-alive connections would otherwise keep close() waiting.
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
      });
      return closing;
    },
    charges: () => [...charges.values()].map((charge) => structuredClone(refresh(charge))),
    reset() {
      unlisted.clear();
      charges.clear();
      chargeIdByReference.clear();
      tokens.clear();
      unavailableAnswered.clear();
      chargeIdByOrder.clear();
      globalFaults = {};
      faultsByTarget.clear();
      deliveryLog.length = 0;
      for (const timer of heldNotifies.values()) clearTimeout(timer);
      heldNotifies.clear();
      saveState();
    },
    setNotifyUrl(next) {
      notifyUrl = next;
    },
    setBrowserReturnUrl(next) {
      browserReturnUrl = next;
    },
    setFaults(faults, target) {
      setFaultsFor(faults, target && ('orderId' in target ? target.orderId : target.chargeId));
      saveState();
    },
    deliveries: () => deliveryLog.map((delivery) => structuredClone(delivery)),
    async flushNotifies() {
      const held = [...heldNotifies.entries()];
      for (const [delivery, timer] of held) {
        clearTimeout(timer);
        heldNotifies.delete(delivery);
      }
      for (const [delivery] of held) await deliver(delivery);
    },
    createOrphan,
    unlistCharge,
    forgetCharge,
  };
}

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

function toWire(charge: SimCharge): z.input<typeof kbankQrChargeSchema> {
  return {
    id: charge.id,
    object: 'charge',
    // KBank shows 2 decimals whatever the currency.
    amount: toDecimalString(charge.amount, charge.currency, 2),
    currency: charge.currency,
    status: charge.status,
    transaction_state: charge.state,
    approval_code: charge.approvalCode ?? null,
    source: isCardCharge(charge)
      ? {
          id: charge.sourceId,
          brand: charge.brand,
          card_masking: charge.cardMasking,
          issuer_bank: 'KBANK SIMULATOR',
        }
      : { id: charge.sourceId, brand: charge.brand, card_masking: null, issuer_bank: null },
    created: charge.created,
    livemode: false,
    failure_code: charge.failureCode ?? null,
    failure_message: charge.failureMessage ?? null,
    redirect_url: charge.redirectUrl ?? null,
    reference_order: charge.referenceOrder,
    ref_1: charge.refs.ref_1 ?? null,
    ref_2: charge.refs.ref_2 ?? null,
    ref_3: charge.refs.ref_3 ?? null,
    metadata: charge.metadata ?? {},
    // [ours] KBank publishes no refund_info format: the refunded total is what our adapter reads.
    refund_info: { refunded_amount: toDecimalString(charge.refundedAmount, charge.currency, 2) },
    ...(charge.orderId ? { order_id: charge.orderId } : {}),
  };
}

type TransactionWire = z.input<typeof kbankTransactionSchema>;

/** A charge on the daily transaction list [ours]. */
function toTransactionWire(charge: SimCharge): TransactionWire {
  return {
    object: 'charge',
    id: charge.id,
    charge_id: charge.id,
    order_id: charge.orderId ?? null,
    reference_order: charge.referenceOrder,
    source_type: charge.sourceType ?? 'card',
    amount: toDecimalString(charge.amount, charge.currency, 2),
    currency: charge.currency,
    status: charge.status,
    transaction_state: charge.state,
    refunded_amount: toDecimalString(charge.refundedAmount, charge.currency, 2),
    created: charge.created,
  };
}

/** A refund on the daily transaction list [ours]: its own id, the charge it belongs to, its amount. */
function toRefundTransactionWire(charge: SimCharge, refund: SimRefund): TransactionWire {
  return {
    ...toTransactionWire(charge),
    object: 'refund',
    id: refund.id,
    amount: toDecimalString(refund.amount, charge.currency, 2),
    status: 'success',
    transaction_state: 'Refund Sent',
    refunded_amount: toDecimalString(refund.amount, charge.currency, 2),
    created: refund.created,
  };
}

function requireState(charge: SimCharge, expected: KbankState, operation: string): void {
  if (charge.state !== expected) {
    throw new SimError(400, 'invalid_state', `cannot ${operation} a charge in state ${charge.state}`);
  }
}

function requireMethod(actual: string, expected: string): void {
  if (actual !== expected) throw new SimError(405, 'method_not_allowed', `use ${expected}`);
}

function parseAmount(value: string | number, currency: Currency): number {
  let minor: number;
  try {
    minor = fromDecimalString(value, currency);
  } catch {
    throw new SimError(400, 'invalid_amount', `amount is not valid for ${currency}`);
  }
  if (minor <= 0) throw new SimError(400, 'invalid_amount', 'amount must be more than zero');
  return minor;
}

function invalidRequest(error: z.ZodError): SimError {
  const fields = error.issues.map((issue) => issue.path.join('.') || '(body)').join(', ');
  return new SimError(400, 'invalid_request', `invalid fields: ${fields}`);
}

function errorReply(status: number, code: string, message: string): Reply {
  return { status, body: { object: 'error', code, message } };
}

function writeJson(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.destroyed || res.writableEnded) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Body of `POST /_sim/faults` [ours]: the knobs of one scope (global without orderId / chargeId). */
const simFaultsRequestSchema = z
  .object({
    orderId: z.string().min(1).optional(),
    chargeId: z.string().min(1).optional(),
    duplicateNotify: z.boolean().optional(),
    lateNotifyMs: z.number().int().nonnegative().max(3_600_000).optional(),
    lostNotify: z.boolean().optional(),
    wrongChecksum: z.boolean().optional(),
  })
  .strict();

/** Query of `GET /v2/transactions` [ours]: a real calendar day, pages from 1, at most 500 per page. */
const transactionsQuerySchema = z
  .object({
    date: z.iso.date(),
    page: z.coerce.number().int().min(1).default(1),
    page_size: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

/** Body of `POST /_sim/orphans` [ours]: amount in major units, like KBank's own bodies. */
const simOrphanRequestSchema = z
  .object({
    reference_order: z.string().min(1).max(50),
    amount: kbankAmountSchema,
    currency: kbankCurrencySchema.default('THB'),
    source_type: z.enum(['card', 'alipay', 'qr', 'wechat']).default('card'),
    state: z.enum(['Authorized', 'Settled']).default('Authorized'),
  })
  .strict();

/** The state file's shape (statePath). Bump the version when it changes incompatibly. */
interface SimState {
  version: number;
  charges: SimCharge[];
  tokens: TokenRecord[];
  unavailableAnswered: string[];
  faults: { global: NotifyFaults; byTarget: [string, NotifyFaults][] };
  unlisted: string[];
}

const STATE_VERSION = 1;

/**
 * Body of `POST /_sim/qr/scan` [ours]: the payload as shown to the customer (surrounding whitespace from a
 * scanner or a paste is ignored) and what the customer does.
 */
const simQrScanRequestSchema = z
  .object({
    payload: z.string().trim().min(1),
    action: z.enum(['pay', 'decline']).default('pay'),
  })
  .strict();

function isAlipayRequest(json: unknown): boolean {
  return (
    typeof json === 'object' && json !== null && (json as { source_type?: unknown }).source_type === 'alipay'
  );
}

function isCardCharge(charge: SimCharge): boolean {
  return charge.sourceType === undefined || charge.sourceType === 'card';
}

/** A 3-D Secure card charge or an Alipay charge whose customer has not finished yet (orders: requireOpen). */
function awaitsCustomer(charge: SimCharge): boolean {
  return charge.behaviour === 'three_d_secure'
    ? charge.state === 'Pre-Authorized'
    : charge.sourceType === 'alipay' && charge.state === 'Initialize';
}

/** The order object [ours beyond `id`: KBank publishes nothing else [?]]. */
function toOrderWire(charge: SimCharge): Record<string, unknown> {
  return {
    id: charge.orderId,
    object: 'order',
    amount: toDecimalString(charge.amount, charge.currency, 2),
    currency: charge.currency,
    description: charge.description ?? null,
    source_type: charge.sourceType,
    reference_order: charge.referenceOrder,
    status: charge.status,
    transaction_state: charge.state,
    qr_code: charge.qrPayload ?? null,
    expire_time: charge.expiresAt ?? null,
    created: charge.created,
    metadata: charge.metadata ?? {},
  };
}

/** Path segments are URI-decoded; a malformed escape is the caller's error, not a 500. */
function pathId(segment: string | undefined): string {
  try {
    return decodeURIComponent(segment ?? '');
  } catch {
    throw new SimError(400, 'invalid_request', 'malformed id in the path');
  }
}

function isForm(req: http.IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
}

/** Reads and discards a body the route does not use (control calls may send none, JSON or a form). */
async function drain(req: http.IncomingMessage): Promise<void> {
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new SimError(413, 'request_too_large', 'body too large');
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function actionPage(title: string, charge: SimCharge, actions: [string, string][], extra = ''): string {
  const waiting = charge.state === 'Initialize' || charge.state === 'Pre-Authorized';
  const buttons = waiting
    ? actions
        .map(
          ([label, action]) =>
            `<form method="post" action="${escapeHtml(action)}"><button type="submit">${escapeHtml(label)}</button></form>`,
        )
        .join('\n')
    : '';
  const amount = toDecimalString(charge.amount, charge.currency, 2);
  return [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>${escapeHtml(`${charge.id}: ${amount} ${charge.currency}, ${charge.state}`)}</p>`,
    extra,
    buttons,
    '</body></html>',
  ].join('\n');
}

function donePage(charge: SimCharge): string {
  const text = `${charge.id} is now ${charge.state}. You can close this page.`;
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Done</title></head><body><p>${escapeHtml(text)}</p></body></html>`;
}

function writeHtml(res: http.ServerResponse, status: number, html: string): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
  });
  res.end(html);
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new SimError(413, 'request_too_large', 'body too large');
    chunks.push(buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new SimError(400, 'invalid_json', 'body is not valid JSON');
  }
}

function toInteger(value: number | string | undefined): number | undefined {
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

function brandOf(number: string): string {
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
function mask(number: string): string {
  return `${number.slice(0, 6)}${'x'.repeat(number.length - 10)}${number.slice(-4)}`;
}

/** KBank's `created`: 17 digits YYYYMMDDHHmmssSSS. Bangkok time (UTC+7, no DST) [ours]. */
function kbankTimestamp(date: Date): string {
  const local = new Date(date.getTime() + BANGKOK_OFFSET_MS);
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return [
    local.getUTCFullYear(),
    pad(local.getUTCMonth() + 1),
    pad(local.getUTCDate()),
    pad(local.getUTCHours()),
    pad(local.getUTCMinutes()),
    pad(local.getUTCSeconds()),
    pad(local.getUTCMilliseconds(), 3),
  ].join('');
}
