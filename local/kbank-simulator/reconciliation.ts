/** What the daily reconciliation reads, and the controls that give it something to find [ours]: the transaction list, orphans, unlisted and forgotten charges. */
import { z } from 'zod';
import {
  kbankAmountSchema,
  kbankCurrencySchema,
  type kbankTransactionListSchema,
} from '../../schemas/kbank.js';
import { approvalCode, newCharge, refresh, requireNewReference, testId } from './charges.js';
import type { SimContext } from './context.js';
import { orderFields } from './qr-protocol.js';
import { invalidRequest, parseAmount, type Reply, SimError } from './replies.js';
import type { SimCharge, SimOrphanRequest, SimSourceType } from './types.js';
import { type TransactionWire, toRefundTransactionWire, toTransactionWire, toWire } from './wire.js';

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

const ORPHAN_BRANDS: Record<SimSourceType, string> = {
  card: 'Visa',
  alipay: 'Alipay',
  qr: 'PromptPay',
  wechat: 'WeChat Pay',
};

/**
 * `GET /v2/transactions?date=YYYY-MM-DD[&page=1&page_size=100]` [ours, ?: KBank publishes no report
 * API]: every charge created on that Bangkok business day (any state, QR / WeChat orders included) and
 * every refund applied that day, oldest first, paginated.
 */
export function listTransactions(ctx: SimContext, query: URLSearchParams): Reply {
  const parsed = transactionsQuerySchema.safeParse(Object.fromEntries(query));
  if (!parsed.success) throw invalidRequest(parsed.error);
  const { date, page, page_size: pageSize } = parsed.data;
  const day = date.replaceAll('-', '');
  const entries: TransactionWire[] = [];
  for (const charge of ctx.state.charges()) {
    if (ctx.state.isUnlisted(charge.id)) continue;
    refresh(ctx, charge);
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
export function orphanReply(ctx: SimContext, json: unknown): Reply {
  const parsed = simOrphanRequestSchema.safeParse(json);
  if (!parsed.success) throw invalidRequest(parsed.error);
  const request = parsed.data;
  const charge = createOrphan(ctx, {
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
export function createOrphan(ctx: SimContext, request: SimOrphanRequest): SimCharge {
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
  requireNewReference(ctx, request.referenceOrder);
  const created = ctx.now();
  const charge = newCharge(ctx, {
    referenceOrder: request.referenceOrder,
    amount: request.amount,
    currency,
    state,
    behaviour: sourceType === 'card' ? 'approve' : 'await_customer',
    brand: ORPHAN_BRANDS[sourceType],
    cardMasking: sourceType === 'card' ? '411111xxxxxx1111' : '',
    sourceId: testId(sourceType === 'card' ? 'card' : 'src', 8),
    refs: {},
    created,
  });
  charge.approvalCode = approvalCode();
  charge.settledAmount = state === 'Settled' ? request.amount : 0;
  charge.orphan = true;
  if (sourceType !== 'card') charge.sourceType = sourceType;
  if (sourceType === 'qr' || sourceType === 'wechat') {
    Object.assign(charge, orderFields(ctx, sourceType, request.amount, request.referenceOrder, created));
  }
  ctx.state.putCharge(charge);
  ctx.commit();
  return structuredClone(charge);
}

/** The charge (and its refunds) no longer appear on the daily list; inquiry still finds it. */
export function unlistCharge(ctx: SimContext, chargeId: string): void {
  if (!ctx.state.charge(chargeId)) throw new SimError(404, 'charge_not_found', 'no such charge');
  ctx.state.unlist(chargeId);
  ctx.commit();
}

/** KBank loses the charge entirely: not listed, inquiry answers 404, its reference order free again. */
export function forgetCharge(ctx: SimContext, chargeId: string): void {
  if (!ctx.state.charge(chargeId)) throw new SimError(404, 'charge_not_found', 'no such charge');
  ctx.state.forget(chargeId);
  ctx.commit();
}
