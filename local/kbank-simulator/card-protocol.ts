/** The card protocol: tokenize, charge (card and Alipay), void, settle and refund, with the magic cards' behaviours. */
import {
  kbankCreateAlipayChargeRequestSchema,
  kbankCreateChargeRequestSchema,
  kbankRefundRequestSchema,
  kbankSettleRequestSchema,
  kbankTokenRequestSchema,
  kbankTokenSchema,
  kbankVoidRequestSchema,
} from '../../schemas/kbank.js';
import {
  applyRefund,
  approvalCode,
  awaitsCustomer,
  newCharge,
  requireNewReference,
  testId,
} from './charges.js';
import type { SimContext } from './context.js';
import { errorReply, invalidRequest, parseAmount, type Reply, requireState, SimError } from './replies.js';
import { brandOf, luhnValid, MAGIC_CARDS, mask, toInteger } from './test-cards.js';
import { SETTLE_REFUSALS, type SimCharge, TOKEN_TTL_MS, type TokenRecord } from './types.js';
import { toWire } from './wire.js';

/** `POST /card/v2/tokens` [ours]: checks the card field by field, keeps only what the PAN chose. */
export function tokenize(ctx: SimContext, json: unknown): unknown {
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
  const today = ctx.now();
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
    id: testId('tokn'),
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
  ctx.state.putToken(token);
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

/** `POST /card/v2/charge` with a token: the token's magic behaviour decides the outcome. */
export function createCharge(ctx: SimContext, json: unknown): Reply {
  const parsed = kbankCreateChargeRequestSchema.safeParse(json);
  if (!parsed.success) throw invalidRequest(parsed.error);
  const request = parsed.data;
  const amount = parseAmount(request.amount, request.currency);
  // A held charge lands before a re-sent create is looked at: the re-send finds it.
  ctx.state.land(request.reference_order);
  requireNewReference(ctx, request.reference_order);
  const token = ctx.state.token(request.token);
  if (!token) throw new SimError(400, 'invalid_token', 'token not found');
  if (token.used) throw new SimError(400, 'token_already_used', 'token has already been used');
  if (ctx.now().getTime() - token.createdAtMs >= TOKEN_TTL_MS) {
    throw new SimError(400, 'token_expired', 'token has expired');
  }
  if (token.behaviour === 'unavailable_once' && !ctx.state.wasUnavailableAnswered(request.reference_order)) {
    ctx.state.markUnavailableAnswered(request.reference_order);
    return errorReply(503, 'service_unavailable', 'service temporarily unavailable');
  }

  token.used = true;
  ctx.state.putToken(token);
  const charge = newCharge(ctx, {
    referenceOrder: request.reference_order,
    amount,
    currency: request.currency,
    state: 'Authorized',
    behaviour: token.behaviour,
    brand: token.brand,
    cardMasking: token.cardMasking,
    sourceId: testId('card', 8),
    refs: { ref_1: request.ref_1, ref_2: request.ref_2, ref_3: request.ref_3 },
    description: request.description,
    metadata: request.metadata,
  });
  if (token.behaviour === 'decline') {
    charge.status = 'fail';
    charge.state = 'Declined';
    charge.failureCode = token.failureCode ?? 'card_declined';
    charge.failureMessage = token.failureMessage ?? 'declined';
  } else if (token.behaviour === 'three_d_secure') {
    charge.state = 'Pre-Authorized';
    charge.redirectUrl = `${ctx.url}/_sim/3ds/${charge.id}`;
    charge.tokenId = token.id;
  } else {
    charge.approvalCode = approvalCode();
  }
  if (token.behaviour === 'lands_late') {
    ctx.state.hold(charge);
    return errorReply(504, 'gateway_timeout', 'the request timed out inside the gateway');
  }
  ctx.state.putCharge(charge);

  const reply: Reply = { status: 200, body: toWire(charge) };
  if (token.behaviour === 'timeout_after_success') reply.delayMs = ctx.config.hangMs;
  if (token.behaviour === 'slow') reply.delayMs = ctx.config.slowMs;
  return reply;
}

/** Whether a `POST /card/v2/charge` body is an Alipay charge (no token) rather than a card one. */
export function isAlipayRequest(json: unknown): boolean {
  return (
    typeof json === 'object' && json !== null && (json as { source_type?: unknown }).source_type === 'alipay'
  );
}

/** `POST /card/v2/charge` with `source_type: "alipay"`: a charge waiting for the customer on the Alipay page. */
export function createAlipayCharge(ctx: SimContext, json: unknown): Reply {
  const parsed = kbankCreateAlipayChargeRequestSchema.safeParse(json);
  if (!parsed.success) throw invalidRequest(parsed.error);
  const request = parsed.data;
  const amount = parseAmount(request.amount, request.currency);
  requireNewReference(ctx, request.reference_order);
  const charge = newCharge(ctx, {
    referenceOrder: request.reference_order,
    amount,
    currency: request.currency,
    state: 'Initialize',
    behaviour: 'await_customer',
    brand: 'Alipay',
    cardMasking: '',
    sourceId: testId('src', 8),
    refs: { ref_1: request.ref_1, ref_2: request.ref_2, ref_3: request.ref_3 },
    description: request.description,
    metadata: request.metadata,
  });
  charge.sourceType = 'alipay';
  charge.redirectUrl = `${ctx.url}/_sim/alipay/${charge.id}`;
  ctx.state.putCharge(charge);
  return { status: 200, body: toWire(charge) };
}

export function voidCharge(ctx: SimContext, charge: SimCharge, json: unknown): Reply {
  const parsed = kbankVoidRequestSchema.safeParse(json);
  if (!parsed.success) throw invalidRequest(parsed.error);
  // A 3-D Secure or Alipay charge the customer never finished is voided too: the saga gives up on it.
  if (!awaitsCustomer(charge)) requireState(charge, 'Authorized', 'void');
  charge.state = 'Voided';
  charge.voidReason = parsed.data.reason;
  ctx.state.putCharge(charge);
  return { status: 200, body: toWire(charge) };
}

export function settleCharge(ctx: SimContext, charge: SimCharge, json: unknown): Reply {
  const parsed = kbankSettleRequestSchema.safeParse(json);
  if (!parsed.success) throw invalidRequest(parsed.error);
  requireState(charge, 'Authorized', 'settle');
  if (charge.behaviour === 'settle_fails') {
    throw new SimError(400, 'settlement_failed', 'settlement failed');
  }
  if (charge.behaviour === 'settle_unavailable' && (charge.settleRefusals ?? 0) < SETTLE_REFUSALS) {
    charge.settleRefusals = (charge.settleRefusals ?? 0) + 1;
    ctx.state.putCharge(charge);
    throw new SimError(503, 'service_unavailable', 'settlement is temporarily unavailable');
  }
  const amount = parseAmount(parsed.data.amount, charge.currency);
  if (amount > charge.amount) {
    throw new SimError(400, 'amount_exceeds_authorized', 'settle amount is more than the authorized amount');
  }
  if (parsed.data.type === 'full' && amount !== charge.amount) {
    throw new SimError(400, 'invalid_settle_type', 'type full needs the whole authorized amount');
  }
  charge.state = 'Settled';
  charge.settledAmount = amount;
  ctx.state.putCharge(charge);
  return { status: 200, body: toWire(charge) };
}

export function refundCharge(ctx: SimContext, charge: SimCharge, json: unknown): Reply {
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
  applyRefund(ctx, charge, amount);
  const reply: Reply = { status: 200, body: toWire(charge) };
  if (charge.behaviour === 'refund_timeout_after_success') reply.delayMs = ctx.config.hangMs;
  return reply;
}
