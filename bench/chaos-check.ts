/**
 * The end of `npm run chaos`: every payment, charge and refund held against the KBank simulator's own
 * records (`GET /_sim/charges`), and every request our API accepted against what it promised. Our side is
 * read only through the merchant API (`GET /v1/payments/{id}`, `/refunds`, `/events`).
 */
import type { ChaosClient } from './chaos-client.js';
import { type Flow, TERMINAL } from './chaos-flows.js';

/** A charge as the simulator lists it (amounts in minor units). */
export interface SimChargeView {
  id: string;
  referenceOrder: string;
  amount: number;
  currency: string;
  state: string;
  sourceType?: 'card' | 'qr' | 'wechat' | 'alipay';
  settledAmount: number;
  refundedAmount: number;
}

/** What KBank holds on a charge: captured (settled or paid) money not refunded, plus an open authorization. */
export function kbankMoney(charge: SimChargeView): { captured: number; refunded: number; held: number } {
  const card = charge.sourceType === undefined || charge.sourceType === 'card';
  let captured = 0;
  let authorization = 0;
  if (charge.settledAmount > 0) captured = charge.settledAmount;
  else if (card && charge.state === 'Authorized') authorization = charge.amount;
  else if (!card && ['Authorized', 'Settled', 'Refund Sent'].includes(charge.state)) captured = charge.amount;
  return {
    captured,
    refunded: charge.refundedAmount,
    held: captured - charge.refundedAmount + authorization,
  };
}

export interface Finding {
  paymentId: string | null;
  scenario?: string;
  what: string;
  detail?: unknown;
}

export interface CheckReport {
  payments: number;
  byMethodStatus: Record<string, Record<string, number>>;
  byScenarioStatus: Record<string, Record<string, number>>;
  kbankCharges: number;
  refunds: { total: number; byStatus: Record<string, number> };
  counts: {
    untrackedCharges: number;
    doubleCharges: number;
    stuck: number;
    amountMismatches: number;
    acceptedNotCarriedOut: number;
    forgedAccepted: number;
    /** The stack exited by itself (not one of the run's SIGKILLs). */
    stackCrashes: number;
  };
  findings: {
    untrackedCharges: Finding[];
    doubleCharges: Finding[];
    stuck: Finding[];
    amountMismatches: Finding[];
    acceptedNotCarriedOut: Finding[];
  };
  /** From the audit trails: what the recovery and the sweep did. */
  audit: {
    sagaRestarted: number;
    paymentsRestarted: number;
    unresolved: number;
    notificationsRejected: number;
    latePaymentsReversed: number;
  };
  /** Flows that stopped early (create never accepted, deadline). Not failures by themselves. */
  flowErrors: Record<string, number>;
  /** Refusals a client would not expect, by code. */
  refusals: Record<string, number>;
}

// biome-ignore lint/suspicious/noExplicitAny: API resources, read field by field
type Json = any;

async function allPages(client: ChaosClient, op: string, path: string): Promise<Json[] | null> {
  const out: Json[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const answer = await client.api(
      op,
      'GET',
      `${path}?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    if (answer.status !== 200) return null;
    out.push(...(answer.body.data as Json[]));
    if (!answer.body.has_more) return out;
    cursor = answer.body.next_cursor as string;
  }
  return out;
}

const bump = (map: Record<string, number>, key: string, by = 1) => {
  map[key] = (map[key] ?? 0) + by;
};

/** `<paymentId>-<attemptNo>`: ours; anything else names no payment. */
const paymentOf = (referenceOrder: string) => /^(pay_[0-9A-Z]{26})-\d+$/.exec(referenceOrder)?.[1] ?? null;

/**
 * Failed payments whose late-charge check (a last inquiry by the sweep, for a charge call that may land after
 * the saga gave up) has not run yet: the system has not finished with them, so the comparison waits.
 * Returns how many were still pending when `deadline` (performance.now() ms) passed.
 */
export async function awaitLateChargeChecks(
  client: ChaosClient,
  flows: Flow[],
  deadline: number,
  log: (line: string) => void,
): Promise<number> {
  let pending = flows.filter((flow) => flow.paymentId && flow.status === 'failed');
  while (pending.length > 0) {
    const still: Flow[] = [];
    for (const flow of pending) {
      const events = await allPages(
        client,
        'GET /v1/payments/{id}/events',
        `/v1/payments/${flow.paymentId}/events`,
      );
      const awaited = (events ?? []).some((e) => e.type === 'payment.failed' && e.detail?.lateChargeCheckAt);
      const checked = (events ?? []).some((e) => e.type === 'reconciliation.late_charge_checked');
      if (events === null || (awaited && !checked)) still.push(flow);
    }
    pending = still;
    if (pending.length === 0 || performance.now() > deadline) break;
    log(`  ${pending.length} failed payments wait for their late-charge check`);
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }
  return pending.length;
}

export async function check(
  client: ChaosClient,
  flows: Flow[],
  forgedAccepted: number,
  stackCrashes: number,
  onProgress: (done: number, total: number) => void = () => undefined,
): Promise<CheckReport> {
  const simAnswer = await client.kbank('kbank._sim.charges', 'GET', '/_sim/charges');
  if (simAnswer.status !== 200) throw new Error(`GET /_sim/charges answered ${simAnswer.status}`);
  const charges = simAnswer.body.data as SimChargeView[];
  const chargesByPayment = new Map<string, SimChargeView[]>();
  const strays: SimChargeView[] = [];
  for (const charge of charges) {
    const id = paymentOf(charge.referenceOrder);
    if (!id) strays.push(charge);
    else chargesByPayment.set(id, [...(chargesByPayment.get(id) ?? []), charge]);
  }

  const report: CheckReport = {
    payments: 0,
    byMethodStatus: {},
    byScenarioStatus: {},
    kbankCharges: charges.length,
    refunds: { total: 0, byStatus: {} },
    counts: {
      untrackedCharges: 0,
      doubleCharges: 0,
      stuck: 0,
      amountMismatches: 0,
      acceptedNotCarriedOut: 0,
      forgedAccepted,
      stackCrashes,
    },
    findings: {
      untrackedCharges: [],
      doubleCharges: [],
      stuck: [],
      amountMismatches: [],
      acceptedNotCarriedOut: [],
    },
    audit: {
      sagaRestarted: 0,
      paymentsRestarted: 0,
      unresolved: 0,
      notificationsRejected: 0,
      latePaymentsReversed: 0,
    },
    flowErrors: {},
    refusals: {},
  };
  const f = report.findings;
  for (const flow of flows) {
    if (flow.error) bump(report.flowErrors, flow.error.replace(/^exception:.*/, 'exception'));
    for (const refusal of flow.refusals) bump(report.refusals, refusal);
  }

  // Payments KBank has charges for that no flow knows (a create whose answer never came back).
  const known = new Map(flows.filter((fl) => fl.paymentId).map((fl) => [fl.paymentId as string, fl]));
  const ids = [...new Set([...known.keys(), ...chargesByPayment.keys()])];
  let done = 0;
  const work = async (id: string) => {
    const flow = known.get(id);
    const payment = await client.api('GET /v1/payments/{id}', 'GET', `/v1/payments/${id}`);
    const kbank = chargesByPayment.get(id) ?? [];
    if (payment.status === 404) {
      for (const charge of kbank) {
        if (kbankMoney(charge).held > 0) {
          f.untrackedCharges.push({
            paymentId: id,
            what: 'KBank holds money for a payment we do not have',
            detail: charge,
          });
        }
      }
      return;
    }
    if (payment.status !== 200) {
      f.stuck.push({ paymentId: id, what: `GET answered ${payment.status}` });
      return;
    }
    const p = payment.body as Json;
    const [events, refunds] = await Promise.all([
      allPages(client, 'GET /v1/payments/{id}/events', `/v1/payments/${id}/events`),
      allPages(client, 'GET /v1/payments/{id}/refunds', `/v1/payments/${id}/refunds`),
    ]);
    report.payments += 1;
    const method = p.payment_method.type as string;
    const label = flow?.scenario ?? 'unknown-to-the-driver';
    report.byMethodStatus[method] ??= {};
    bump(report.byMethodStatus[method], p.status);
    report.byScenarioStatus[label] ??= {};
    bump(report.byScenarioStatus[label], p.status);
    const restarted = (events ?? []).filter((e) => e.type === 'reconciliation.saga_restarted').length;
    report.audit.sagaRestarted += restarted;
    if (restarted > 0) report.audit.paymentsRestarted += 1;
    report.audit.unresolved += (events ?? []).filter((e) => e.type === 'reconciliation.unresolved').length;
    report.audit.notificationsRejected += (events ?? []).filter(
      (e) => e.type === 'notification.rejected',
    ).length;
    report.audit.latePaymentsReversed += (events ?? []).filter(
      (e) => e.type === 'late_payment.reversed',
    ).length;

    const base = { paymentId: id, ...(flow ? { scenario: flow.scenario } : {}) };
    const terminal = TERMINAL.has(p.status);
    const money = kbank.map((charge) => ({ charge, ...kbankMoney(charge) }));
    const holding = money.filter((m) => m.held > 0);

    // Stuck: not terminal once the run settled, or a refund still open.
    if (!terminal) f.stuck.push({ ...base, what: `payment still ${p.status}`, detail: { kbank: money } });
    for (const refund of refunds ?? []) {
      report.refunds.total += 1;
      bump(report.refunds.byStatus, refund.status);
      if (refund.status !== 'succeeded' && refund.status !== 'failed') {
        f.stuck.push({ ...base, what: `refund ${refund.id} still ${refund.status}` });
      }
    }

    // Double charges: more than one charge holding money for one payment.
    if (holding.length > 1) {
      f.doubleCharges.push({ ...base, what: `${holding.length} charges hold money`, detail: holding });
    }

    // Untracked: money KBank holds that this payment does not account for.
    const capturedEntry = (events ?? []).find((e) => e.type === 'payment.captured');
    const accountedId =
      p.status === 'succeeded' ? (capturedEntry?.detail?.chargeId as string | undefined) : undefined;
    if (terminal) {
      for (const m of holding) {
        if (m.charge.id !== accountedId) {
          f.untrackedCharges.push({
            ...base,
            what: `KBank holds ${m.held} on ${m.charge.id} (${m.charge.state}); payment ${p.status}`,
            detail: m,
          });
        }
      }
    }

    // Amounts: ours against KBank's for the charge the payment accounts for.
    const succeededRefunds = (refunds ?? []).filter((r) => r.status === 'succeeded');
    const refundedByUs = succeededRefunds.reduce((sum, r) => sum + (r.amount as number), 0);
    if (refunds && refundedByUs !== p.amount_refunded) {
      f.amountMismatches.push({
        ...base,
        what: `amount_refunded ${p.amount_refunded} but succeeded refunds add up to ${refundedByUs}`,
      });
    }
    if (p.status === 'succeeded') {
      const accounted = money.find((m) => m.charge.id === accountedId);
      if (!accounted) {
        f.amountMismatches.push({
          ...base,
          what: `succeeded, but KBank has no charge ${accountedId ?? '(none named in payment.captured)'}`,
          detail: money,
        });
      } else if (accounted.captured !== p.amount_captured || accounted.refunded !== p.amount_refunded) {
        f.amountMismatches.push({
          ...base,
          what: `ours captured ${p.amount_captured} refunded ${p.amount_refunded}; KBank ${accounted.captured} / ${accounted.refunded}`,
          detail: accounted,
        });
      }
    } else if (terminal && (p.amount_captured !== 0 || p.amount_refunded !== 0)) {
      f.amountMismatches.push({
        ...base,
        what: `${p.status} with amount_captured ${p.amount_captured}, amount_refunded ${p.amount_refunded}`,
      });
    }

    // Accepted requests against the end state.
    for (const a of flow?.accepted ?? []) {
      const broken: string[] = [];
      if (a.status && p.status !== a.status) broken.push(`status ${p.status}, promised ${a.status}`);
      if (a.oneOf && !a.oneOf.includes(p.status)) {
        broken.push(`status ${p.status}, promised one of ${a.oneOf.join(', ')}`);
      }
      if (a.amountCaptured !== undefined && p.amount_captured !== a.amountCaptured) {
        broken.push(`amount_captured ${p.amount_captured}, promised ${a.amountCaptured}`);
      }
      if (a.op === 'change_amount' && p.amount !== a.amount)
        broken.push(`amount ${p.amount}, promised ${a.amount}`);
      if (a.op === 'create' && !terminal) broken.push(`never ended (${p.status})`);
      if (a.refundId) {
        const refund = (refunds ?? []).find((r) => r.id === a.refundId);
        if (!refund) broken.push(`refund ${a.refundId} not listed`);
        else if (refund.status !== a.refundStatus) {
          broken.push(`refund ${a.refundId} ${refund.status}, expected ${a.refundStatus}`);
        }
      }
      if (broken.length > 0) {
        f.acceptedNotCarriedOut.push({ ...base, what: `${a.op}: ${broken.join('; ')}`, detail: a });
      }
    }
  };
  const queue = [...ids];
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        await work(id);
        done += 1;
        if (done % 500 === 0) onProgress(done, ids.length);
      }
    }),
  );
  for (const charge of strays) {
    if (kbankMoney(charge).held > 0) {
      f.untrackedCharges.push({
        paymentId: null,
        what: `charge ${charge.id} names no payment`,
        detail: charge,
      });
    }
  }
  report.counts.untrackedCharges = f.untrackedCharges.length;
  report.counts.doubleCharges = f.doubleCharges.length;
  report.counts.stuck = f.stuck.length;
  report.counts.amountMismatches = f.amountMismatches.length;
  report.counts.acceptedNotCarriedOut = f.acceptedNotCarriedOut.length;
  return report;
}
