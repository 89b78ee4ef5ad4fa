/**
 * What one payment goes through in `npm run chaos`: the merchant's calls (create, then at most one action:
 * capture, partial capture, amount change + capture, cancel, refunds), the customer's (scan a QR, finish or
 * fail an Alipay or 3-D Secure page, walk away) and, for a share of payments, a fault the KBank simulator
 * or the cost service offers. Every request our API accepted (2xx) is recorded with what it promised, for
 * bench/chaos-check.ts to hold the end state against.
 */
import { randomUUID } from 'node:crypto';
import { MAGIC_CARDS } from '../local/kbank-simulator.js';
import type { Answer, ChaosClient } from './chaos-client.js';
import { sleep } from './stats.js';

export type MethodType = 'card' | 'qr_promptpay' | 'wechat_pay' | 'alipay';
type CardKey = keyof typeof MAGIC_CARDS;

/** What an accepted request (or a customer's action KBank accepted) promised about the end state. */
export interface Accepted {
  op: 'create' | 'capture' | 'cancel' | 'change_amount' | 'refund' | 'customer_paid' | 'customer_declined';
  key?: string;
  /** The payment's final status. */
  status?: string;
  /** One of these final statuses (when either outcome keeps the promise). */
  oneOf?: string[];
  amountCaptured?: number;
  amount?: number;
  refundId?: string;
  /** A refund's final status. */
  refundStatus?: string;
}

export interface Flow {
  index: number;
  scenario: string;
  method: MethodType;
  capture: 'automatic' | 'manual';
  card?: CardKey;
  /** The fault this payment meets (null: none). */
  fault: string | null;
  amount: number;
  paymentId?: string;
  /** The last status the flow saw. */
  status?: string;
  accepted: Accepted[];
  /** Requests refused that a careful client would not expect refused (for the report, not a failure). */
  refusals: string[];
  /** Why the flow stopped early (a deadline, a create that never got through). */
  error?: string;
  startedAt: number;
  endedAt?: number;
}

export interface FlowContext {
  client: ChaosClient;
  random: () => number;
  /** performance.now() past which flows stop waiting. */
  deadline: () => number;
  actionSeconds: number;
  /** Payments not terminal yet, for the forged-notify flood. */
  live: Set<string>;
  /** False: succeeded Alipay payments are not refunded (a known issue, see docs/chaos.md). */
  refundAlipay: boolean;
}

export const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'rejected', 'expired']);
const REFUND_TERMINAL = new Set(['succeeded', 'failed']);

interface Line {
  sku: string;
  quantity: number;
  unit_amount: number;
}

interface Scenario {
  name: string;
  weight: number;
  method: MethodType;
  capture?: 'automatic' | 'manual';
  card?: CardKey;
  fault?: string;
  run: (ctx: FlowContext, flow: Flow, order: Line[]) => Promise<void>;
}

function orderLines(random: () => number): Line[] {
  const lines: Line[] = [{ sku: 'SKU-TSHIRT', quantity: 1 + Math.floor(random() * 2), unit_amount: 35_000 }];
  if (random() < 0.5) lines.push({ sku: 'SKU-MUG', quantity: 1, unit_amount: 19_900 });
  // Always last, so that an amount change can drop it.
  lines.push({ sku: 'SKU-STICKER', quantity: 1, unit_amount: 2_500 });
  return lines;
}
const total = (lines: Line[]) => lines.reduce((sum, l) => sum + l.quantity * l.unit_amount, 0);

// ---------------------------------------------------------------- the merchant's and the customer's steps

async function tokenize(ctx: FlowContext, card: CardKey): Promise<string | null> {
  const answer = await ctx.client.kbank(
    'kbank.tokenize',
    'POST',
    '/card/v2/tokens',
    {
      card: {
        number: MAGIC_CARDS[card].number,
        expiration_month: 12,
        expiration_year: 2099,
        security_code: '123',
        name: 'CHAOS',
      },
    },
    { 'x-api-key': ctx.client.kbankPublicKey },
  );
  return answer.status === 200 ? (answer.body as { id: string }).id : null;
}

async function create(ctx: FlowContext, flow: Flow, lines: Line[]): Promise<boolean> {
  let paymentMethod: Record<string, string> = { type: flow.method };
  if (flow.method === 'card') {
    const token = await tokenize(ctx, flow.card ?? 'visa');
    if (!token) {
      flow.error = 'tokenize';
      return false;
    }
    paymentMethod = { type: 'card', token };
  }
  const key = randomUUID();
  const body = {
    amount: total(lines),
    currency: 'THB',
    order: { id: `chaos-${flow.index}-${key.slice(0, 8)}`, lines },
    customer: { id: `chaos-${flow.index % 97}` },
    payment_method: paymentMethod,
    capture: flow.capture,
    ...(flow.method === 'card' && flow.card !== 'threeDSecure'
      ? {}
      : { action_expires_in: ctx.actionSeconds }),
    metadata: { chaos: flow.scenario },
  };
  const answer = await ctx.client.api('POST /v1/payments', 'POST', '/v1/payments', { body, key });
  if (answer.status !== 201) {
    flow.error = `create:${answer.status}:${answer.body?.code ?? ''}`;
    return false;
  }
  flow.paymentId = answer.body.id as string;
  flow.status = answer.body.status as string;
  flow.accepted.push({ op: 'create', key });
  ctx.live.add(flow.paymentId);
  return true;
}

// biome-ignore lint/suspicious/noExplicitAny: the payment resource, read field by field
type View = any;

/**
 * The longest pause between two polls of one flow. Polling stands in for the webhooks a merchant would
 * listen to; with hundreds of flows in flight, 1 s pauses alone were more GETs than the one-process local
 * stack serves, and every answer (a health check included) then waited minutes in its queue.
 */
const POLL_MAX_MS = 4000;

/** Polls the payment (backing off from 50 ms to POLL_MAX_MS) until `want` holds, it is terminal, or the deadline. */
async function waitFor(ctx: FlowContext, flow: Flow, want: (p: View) => boolean): Promise<View | null> {
  let interval = 50;
  for (;;) {
    const answer = await ctx.client.api('GET /v1/payments/{id}', 'GET', `/v1/payments/${flow.paymentId}`);
    if (answer.status === 200) {
      const view = answer.body as View;
      flow.status = view.status;
      if (TERMINAL.has(view.status) && flow.paymentId) ctx.live.delete(flow.paymentId);
      if (want(view)) return view;
      if (TERMINAL.has(view.status)) return view;
    }
    if (performance.now() > ctx.deadline()) return null;
    await sleep(interval);
    interval = Math.min(POLL_MAX_MS, interval * 1.5);
  }
}

const terminal = (ctx: FlowContext, flow: Flow) => waitFor(ctx, flow, (p) => TERMINAL.has(p.status));

async function auditEntry(ctx: FlowContext, flow: Flow, type: string): Promise<View | null> {
  const answer = await ctx.client.api(
    'GET /v1/payments/{id}/events',
    'GET',
    `/v1/payments/${flow.paymentId}/events?limit=100`,
  );
  return (answer.body?.data as View[] | undefined)?.find((e) => e.type === type) ?? null;
}

async function merchant(
  ctx: FlowContext,
  flow: Flow,
  op: 'capture' | 'cancel' | 'change_amount',
  body?: unknown,
): Promise<{ accepted: boolean; key: string; status: number; code?: string }> {
  const key = randomUUID();
  const path =
    op === 'change_amount' ? `/v1/payments/${flow.paymentId}` : `/v1/payments/${flow.paymentId}/${op}`;
  const answer = await persistently(ctx, () =>
    ctx.client.api(
      `${op === 'change_amount' ? 'PATCH' : 'POST'} /v1/payments/{id}${op === 'change_amount' ? '' : `/${op}`}`,
      op === 'change_amount' ? 'PATCH' : 'POST',
      path,
      { key, ...(body === undefined ? {} : { body }) },
    ),
  );
  const accepted = answer.status >= 200 && answer.status < 300;
  if (!accepted) flow.refusals.push(`${op}:${answer.status}:${answer.body?.code ?? ''}`);
  return { accepted, key, status: answer.status, code: answer.body?.code };
}

/**
 * A merchant's request that got no answer within the client's retry budget (the stack overloaded or down)
 * is sent again with the same key, as a merchant's job queue would, until it is answered or the run's
 * deadline: an unanswered capture must not leave the payment waiting for a request nobody makes.
 */
async function persistently(ctx: FlowContext, send: () => Promise<Answer>): Promise<Answer> {
  let answer = await send();
  while (answer.status === 0 && performance.now() < ctx.deadline()) answer = await send();
  return answer;
}

/** Refunds of a succeeded payment: none, everything, a part, or three parts at once. */
async function refunds(ctx: FlowContext, flow: Flow, view: View, mode: RefundMode): Promise<void> {
  if (mode === 'none' || view?.status !== 'succeeded') return;
  if (flow.method === 'alipay' && !ctx.refundAlipay) return;
  const captured = view.amount_captured as number;
  const amounts: (number | undefined)[] =
    mode === 'full'
      ? [undefined]
      : mode === 'partial'
        ? [Math.floor(captured / 2)]
        : [1, 2, 3].map(() => Math.floor(captured / 4));
  const expectFailed = flow.card === 'refundFails';
  await Promise.all(
    amounts.map(async (amount) => {
      const key = randomUUID();
      const answer = await persistently(ctx, () =>
        ctx.client.api('POST /v1/payments/{id}/refunds', 'POST', `/v1/payments/${flow.paymentId}/refunds`, {
          key,
          ...(amount === undefined ? {} : { body: { amount } }),
        }),
      );
      if (answer.status === 202) {
        flow.accepted.push({
          op: 'refund',
          key,
          amount: answer.body.amount,
          refundId: answer.body.id,
          refundStatus: expectFailed ? 'failed' : 'succeeded',
        });
      } else flow.refusals.push(`refund:${answer.status}:${answer.body?.code ?? ''}`);
    }),
  );
  // Until every refund ended (or the deadline).
  let interval = 100;
  for (;;) {
    const answer = await ctx.client.api(
      'GET /v1/payments/{id}/refunds',
      'GET',
      `/v1/payments/${flow.paymentId}/refunds?limit=100`,
    );
    const list = (answer.body?.data ?? []) as { status: string }[];
    if (answer.status === 200 && list.every((r) => REFUND_TERMINAL.has(r.status))) return;
    if (performance.now() > ctx.deadline()) return;
    await sleep(interval);
    interval = Math.min(POLL_MAX_MS, interval * 1.5);
  }
}

type RefundMode = 'none' | 'full' | 'partial' | 'parallel';
const refundMode = (random: () => number): RefundMode => {
  const r = random();
  return r < 0.55 ? 'none' : r < 0.7 ? 'full' : r < 0.85 ? 'partial' : 'parallel';
};

/** The notify fault for this payment's charge or order, set before the customer acts. */
async function notifyFault(ctx: FlowContext, flow: Flow, target: Record<string, string>): Promise<void> {
  if (!flow.fault?.startsWith('notify:')) return;
  const knob = flow.fault.slice('notify:'.length);
  const knobs: Record<string, unknown> =
    knob === 'late'
      ? { lateNotifyMs: 2000 + Math.floor(ctx.random() * 13_000) }
      : knob === 'duplicate'
        ? { duplicateNotify: true }
        : knob === 'lost'
          ? { lostNotify: true }
          : { wrongChecksum: true };
  const answer = await ctx.client.kbank('kbank._sim.faults', 'POST', '/_sim/faults', { ...target, ...knobs });
  if (answer.status !== 200) flow.refusals.push(`faults:${answer.status}`);
}

// ---------------------------------------------------------------- scenarios

type CustomerAct = 'pay' | 'decline' | 'cancel' | 'walk_away' | 'race_cancel';

/** Thai QR and WeChat Pay: shown a QR; the customer scans it (or not); the merchant may cancel. */
function qrRun(act: CustomerAct) {
  return async (ctx: FlowContext, flow: Flow) => {
    const view = await waitFor(ctx, flow, (p) => p.status === 'requires_action' && p.next_action);
    if (view?.status !== 'requires_action') return;
    const payload = view.next_action.qr_payload as string;
    if (flow.fault?.startsWith('notify:')) {
      const entry = await auditEntry(ctx, flow, 'payment.requires_action');
      if (entry?.detail?.orderId) await notifyFault(ctx, flow, { orderId: entry.detail.orderId });
    }
    await customer(ctx, flow, act, view.next_action.expires_at, () =>
      ctx.client.kbank('kbank._sim.qr.scan', 'POST', '/_sim/qr/scan', {
        payload,
        action: act === 'decline' ? 'decline' : 'pay',
      }),
    );
    const end = await terminal(ctx, flow);
    await refunds(ctx, flow, end, act === 'pay' ? refundMode(ctx.random) : 'none');
  };
}

/** Alipay and 3-D Secure: a KBank page the customer finishes or fails; the merchant may cancel. */
function redirectRun(act: CustomerAct) {
  return async (ctx: FlowContext, flow: Flow) => {
    const view = await waitFor(ctx, flow, (p) => p.status === 'requires_action' && p.next_action);
    if (view?.status !== 'requires_action') return;
    const chargeId = /\/_sim\/(?:3ds|alipay)\/([^/?#]+)/.exec(view.next_action.url as string)?.[1];
    if (!chargeId) {
      flow.error = 'no_charge_in_redirect_url';
      return;
    }
    await notifyFault(ctx, flow, { chargeId });
    await customer(ctx, flow, act, view.next_action.expires_at, () =>
      ctx.client.kbank(
        'kbank._sim.charges.complete',
        'POST',
        `/_sim/charges/${chargeId}/${act === 'decline' ? 'fail' : 'complete'}`,
      ),
    );
    const end = await terminal(ctx, flow);
    await refunds(ctx, flow, end, act === 'pay' ? refundMode(ctx.random) : 'none');
  };
}

/**
 * The customer's part (and the merchant's cancel, alone or racing the customer's payment). `expiresAt` is
 * the end of the customer's time: a payment KBank confirmed before it must succeed; one confirmed after it
 * (a customer slowed by a loaded machine) may succeed or be given back by the expiry (docs/api.md,
 * `action.expiry_cancel_sent`), and the money check holds either way.
 */
async function customer(
  ctx: FlowContext,
  flow: Flow,
  act: CustomerAct,
  expiresAt: string | undefined,
  action: () => Promise<{ status: number; body?: { code?: string } | null }>,
): Promise<void> {
  if (act === 'walk_away') return;
  if (act === 'cancel') {
    const cancel = await merchant(ctx, flow, 'cancel');
    if (cancel.accepted) flow.accepted.push({ op: 'cancel', key: cancel.key, status: 'canceled' });
    return;
  }
  if (act === 'race_cancel') {
    const [paid, cancel] = await Promise.all([action(), merchant(ctx, flow, 'cancel')]);
    // Whichever is recorded first wins (docs/api.md): an accepted cancel ends canceled, a refused one
    // means the payment was recorded first.
    if (cancel.accepted) flow.accepted.push({ op: 'cancel', key: cancel.key, status: 'canceled' });
    else if (paid.status === 200 && cancel.code === 'payment_not_cancelable') {
      flow.accepted.push({ op: 'customer_paid', status: 'succeeded', amountCaptured: flow.amount });
    }
    return;
  }
  const answer = await action();
  // A customer's action KBank answered 200: the money moved (or was refused) at KBank.
  if (answer.status !== 200) {
    flow.refusals.push(`customer:${act}:${answer.status}:${answer.body?.code ?? ''}`);
    return;
  }
  const late = expiresAt !== undefined && Date.now() >= Date.parse(expiresAt);
  if (act === 'decline') {
    flow.accepted.push(
      late
        ? { op: 'customer_declined', oneOf: ['failed', 'expired'] }
        : { op: 'customer_declined', status: 'failed' },
    );
  } else if (flow.capture === 'automatic') {
    flow.accepted.push(
      late
        ? { op: 'customer_paid', oneOf: ['succeeded', 'expired'] }
        : { op: 'customer_paid', status: 'succeeded', amountCaptured: flow.amount },
    );
  }
}

type ManualAct = 'capture_full' | 'capture_partial' | 'cancel' | 'change_amount';

/** Manual capture: authorized, then the merchant captures (all, a part, after an amount change) or cancels. */
function manualRun(act: ManualAct) {
  return async (ctx: FlowContext, flow: Flow, lines: Line[]) => {
    const view = await waitFor(ctx, flow, (p) => p.status === 'requires_capture');
    if (view?.status !== 'requires_capture') return;
    let captureAmount = view.amount_capturable as number;
    if (act === 'cancel') {
      const cancel = await merchant(ctx, flow, 'cancel');
      if (cancel.accepted) flow.accepted.push({ op: 'cancel', key: cancel.key, status: 'canceled' });
      await terminal(ctx, flow);
      return;
    }
    if (act === 'change_amount') {
      const changed = lines.slice(0, -1);
      const change = await merchant(ctx, flow, 'change_amount', {
        amount: total(changed),
        currency: 'THB',
        order: { id: view.order.id, lines: changed },
      });
      if (change.accepted) {
        flow.accepted.push({ op: 'change_amount', key: change.key, amount: total(changed) });
        captureAmount = total(changed);
      }
    }
    const partial = act === 'capture_partial' ? Math.floor(captureAmount * 0.6) : undefined;
    const capture = await merchant(
      ctx,
      flow,
      'capture',
      partial === undefined ? undefined : { amount: partial },
    );
    if (capture.accepted) {
      flow.accepted.push({
        op: 'capture',
        key: capture.key,
        status: 'succeeded',
        amountCaptured: partial ?? captureAmount,
      });
    }
    const end = await terminal(ctx, flow);
    await refunds(ctx, flow, end, refundMode(ctx.random));
  };
}

/** Automatic capture by card: nothing to do but wait, then maybe refund. */
function autoRun(refund?: RefundMode) {
  return async (ctx: FlowContext, flow: Flow) => {
    const end = await terminal(ctx, flow);
    await refunds(ctx, flow, end, refund ?? refundMode(ctx.random));
  };
}

const SCENARIOS: Scenario[] = [
  // Cards, automatic capture (refunds: none, full, partial or three in parallel).
  { name: 'card.auto', weight: 20, method: 'card', card: 'visa', run: autoRun() },
  { name: 'card.auto.mastercard', weight: 3, method: 'card', card: 'mastercard', run: autoRun() },
  { name: 'card.auto.jcb', weight: 2, method: 'card', card: 'jcb', run: autoRun() },
  // Cards, manual capture.
  ...(['capture_full', 'capture_partial', 'cancel', 'change_amount'] as const).map((act) => ({
    name: `card.manual.${act}`,
    weight: 6,
    method: 'card' as const,
    capture: 'manual' as const,
    card: 'visa' as const,
    run: manualRun(act),
  })),
  // 3-D Secure.
  { name: '3ds.complete', weight: 5, method: 'card', card: 'threeDSecure', run: redirectRun('pay') },
  { name: '3ds.fail', weight: 2, method: 'card', card: 'threeDSecure', run: redirectRun('decline') },
  { name: '3ds.cancel', weight: 2, method: 'card', card: 'threeDSecure', run: redirectRun('cancel') },
  // Thai QR and WeChat Pay.
  { name: 'qr.pay', weight: 10, method: 'qr_promptpay', run: qrRun('pay') },
  { name: 'qr.decline', weight: 2, method: 'qr_promptpay', run: qrRun('decline') },
  { name: 'qr.cancel', weight: 3, method: 'qr_promptpay', run: qrRun('cancel') },
  { name: 'qr.walk_away', weight: 1, method: 'qr_promptpay', run: qrRun('walk_away') },
  { name: 'qr.race_cancel', weight: 2, method: 'qr_promptpay', run: qrRun('race_cancel') },
  { name: 'wechat.pay', weight: 5, method: 'wechat_pay', run: qrRun('pay') },
  { name: 'wechat.decline', weight: 1, method: 'wechat_pay', run: qrRun('decline') },
  { name: 'wechat.cancel', weight: 2, method: 'wechat_pay', run: qrRun('cancel') },
  // Alipay.
  { name: 'alipay.complete', weight: 5, method: 'alipay', run: redirectRun('pay') },
  { name: 'alipay.fail', weight: 1, method: 'alipay', run: redirectRun('decline') },
  { name: 'alipay.cancel', weight: 2, method: 'alipay', run: redirectRun('cancel') },
  { name: 'alipay.race_cancel', weight: 1, method: 'alipay', run: redirectRun('race_cancel') },
  // The cost service disagrees with the order's prices.
  { name: 'card.cost_mismatch', weight: 1, method: 'card', card: 'visa', run: autoRun('none') },
];

/** Every fault the simulators offer: magic cards, notify knobs (per order or charge), a flaky cost service. */
const FAULTS: Scenario[] = [
  { name: 'fault.card.unavailable_once', weight: 3, method: 'card', card: 'unavailableOnce', run: autoRun() },
  {
    name: 'fault.card.timeout_after_success',
    weight: 3,
    method: 'card',
    card: 'timeoutAfterSuccess',
    run: autoRun(),
  },
  {
    name: 'fault.card.timeout_after_success.manual',
    weight: 1,
    method: 'card',
    capture: 'manual',
    card: 'timeoutAfterSuccess',
    run: manualRun('capture_full'),
  },
  { name: 'fault.card.lands_late', weight: 2, method: 'card', card: 'landsLate', run: autoRun() },
  { name: 'fault.card.settle_fails', weight: 2, method: 'card', card: 'settleFails', run: autoRun('none') },
  // Not yet: fault.card.settle_unavailable.manual (the settleUnavailable card, manual capture). In the run
  // the sweep restarts its saga, but the restarted run sometimes parks in AwaitCapture without resuming
  // (issue 8's note); the statemachine test of the card holds the capture path meanwhile.
  { name: 'fault.card.slow', weight: 2, method: 'card', card: 'slow', run: autoRun() },
  {
    name: 'fault.card.insufficient_funds',
    weight: 1,
    method: 'card',
    card: 'insufficientFunds',
    run: autoRun(),
  },
  { name: 'fault.card.declined', weight: 1, method: 'card', card: 'declined', run: autoRun() },
  {
    name: 'fault.card.refund_fails',
    weight: 1,
    method: 'card',
    card: 'refundFails',
    run: autoRun('partial'),
  },
  {
    name: 'fault.card.refund_timeout_after_success',
    weight: 1,
    method: 'card',
    card: 'refundTimeoutAfterSuccess',
    run: autoRun('full'),
  },
  { name: 'fault.cost.flaky', weight: 1, method: 'card', card: 'visa', fault: 'cost:flaky', run: autoRun() },
  ...(['duplicate', 'late', 'lost', 'wrong_checksum'] as const).flatMap((knob) => [
    {
      name: `fault.notify.${knob}.qr`,
      weight: 2,
      method: 'qr_promptpay' as const,
      fault: `notify:${knob}`,
      run: qrRun('pay'),
    },
    {
      name: `fault.notify.${knob}.wechat`,
      weight: 1,
      method: 'wechat_pay' as const,
      fault: `notify:${knob}`,
      run: qrRun('pay'),
    },
    {
      name: `fault.notify.${knob}.alipay`,
      weight: 1,
      method: 'alipay' as const,
      fault: `notify:${knob}`,
      run: redirectRun('pay'),
    },
    {
      name: `fault.notify.${knob}.3ds`,
      weight: 1,
      method: 'card' as const,
      card: 'threeDSecure' as const,
      fault: `notify:${knob}`,
      run: redirectRun('pay'),
    },
  ]),
];

function choose(random: () => number, list: Scenario[]): Scenario {
  const sum = list.reduce((s, x) => s + x.weight, 0);
  let r = random() * sum;
  for (const scenario of list) {
    r -= scenario.weight;
    if (r < 0) return scenario;
  }
  return list[list.length - 1] as Scenario;
}

/** Payment `index`: picks its scenario (a fault with probability `faultShare`) and drives it to its end. */
export async function runFlow(
  ctx: FlowContext,
  index: number,
  faultShare: number,
  register: (flow: Flow) => void,
): Promise<Flow> {
  const scenario = choose(ctx.random, ctx.random() < faultShare ? FAULTS : SCENARIOS);
  const lines = orderLines(ctx.random);
  if (scenario.name === 'card.cost_mismatch') lines[0] = { ...(lines[0] as Line), unit_amount: 30_000 };
  if (scenario.fault === 'cost:flaky') lines.unshift({ sku: 'SKU-FLAKY', quantity: 1, unit_amount: 10_000 });
  const flow: Flow = {
    index,
    scenario: scenario.name,
    method: scenario.method,
    capture: scenario.capture ?? 'automatic',
    ...(scenario.card ? { card: scenario.card } : {}),
    fault: scenario.fault ?? (scenario.name.startsWith('fault.') ? scenario.name.slice(6) : null),
    amount: total(lines),
    accepted: [],
    refusals: [],
    startedAt: performance.now(),
  };
  register(flow);
  try {
    if (await create(ctx, flow, lines)) await scenario.run(ctx, flow, lines);
    if (flow.paymentId && !TERMINAL.has(flow.status ?? '') && !flow.error) flow.error = 'deadline';
  } catch (error) {
    flow.error = `exception:${(error as Error).message}`;
  } finally {
    flow.endedAt = performance.now();
    if (flow.paymentId && TERMINAL.has(flow.status ?? '')) ctx.live.delete(flow.paymentId);
  }
  return flow;
}

/** Scenario names and weights, for the report. */
export const scenarioCatalog = () => ({
  normal: SCENARIOS.map((s) => `${s.name}×${s.weight}`),
  faults: FAULTS.map((s) => `${s.name}×${s.weight}`),
});
