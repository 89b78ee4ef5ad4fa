/** What the API and the bus show of a settlement and its lines (schemas/settlements.ts). */
import type { SettlementLineResource, SettlementResource } from '../../schemas/settlements.js';
import type { Settlement, SettlementLine } from './settlements.js';

export function settlementView(settlement: Settlement): SettlementResource {
  const self = `/v1/settlements/${settlement.id}`;
  const { totals } = settlement;
  return {
    id: settlement.id,
    object: 'settlement',
    day: settlement.day,
    currency: settlement.currency,
    status: settlement.status,
    period: { start: settlement.periodStart, end: settlement.periodEnd },
    gross_captured: totals.grossCaptured,
    refunds: totals.refunds,
    fees: totals.fees,
    net_payable: totals.netPayable,
    counts: { captures: totals.captureCount, refunds: totals.refundCount, lines: totals.lineCount },
    closed_at: settlement.closedAt ?? null,
    created_at: settlement.createdAt,
    updated_at: settlement.updatedAt,
    links: { self, lines: `${self}/lines`, csv: `${self}/lines.csv` },
  };
}

export function settlementLineView(line: SettlementLine): SettlementLineResource {
  return {
    object: 'settlement_line',
    settlement_id: line.settlementId,
    event_id: line.eventId,
    type: line.kind,
    payment_id: line.paymentId,
    refund_id: line.refundId ?? null,
    payment_method: line.method,
    currency: line.currency,
    amount: line.amount,
    fee_rate: line.rate,
    fee: line.fee,
    net: line.net,
    occurred_at: line.occurredAt,
    rolled_from: line.rolledFrom ?? null,
  };
}
