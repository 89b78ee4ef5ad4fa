/** The KBank simulator's public types: its options and defaults, the records it holds, the handle it returns. */
import type { Currency } from '../../functions/core/money.js';
import type { KbankQrState } from '../../functions/core/ports.js';

export type SimBehaviour =
  | 'approve'
  | 'decline'
  | 'unavailable_once'
  | 'timeout_after_success'
  | 'lands_late'
  | 'settle_fails'
  | 'settle_unavailable'
  | 'slow'
  | 'three_d_secure'
  | 'refund_fails'
  | 'refund_timeout_after_success'
  /** QR / WeChat orders and Alipay charges: the outcome waits for a `/_sim/` control call. */
  | 'await_customer';

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
   * Keep the state (charges, orders, refunds, tokens, faults) in this JSON snapshot and the journal
   * `<statePath>.journal` beside it: replayed on start; each change is appended to the journal before the
   * answer that reports it, so a SIGKILL right after an answer loses nothing. Default: in memory only.
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

/** How many settle calls the `settle_unavailable` card answers 503 before one settles [ours]. */
export const SETTLE_REFUSALS = 6;

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
  /** `settle_unavailable`: how many settle calls were answered 503 so far. */
  settleRefusals?: number;
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

/** A card token as the simulator keeps it: the behaviour its PAN chose, never the PAN or the CVV. */
export interface TokenRecord {
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
