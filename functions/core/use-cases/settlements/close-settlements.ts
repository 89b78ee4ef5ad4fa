/**
 * Use case of the scheduled close: every open settlement whose day has ended becomes `closed` (a movement
 * arriving later is booked on the next open day) and `settlement.closed` is published. A close whose event
 * could not be published stays in the close's index, so the next run publishes it (same event id).
 */
import type { SettlementEventDetail } from '../../../../schemas/settlements.js';
import type { Clock, EventPublisher } from '../../ports.js';
import { settlementView } from '../../settlement-views.js';
import type { Settlement, SettlementStore } from '../../settlements.js';

export interface CloseSettlementsDeps {
  settlements: SettlementStore;
  events: EventPublisher;
  clock: Clock;
}

export interface CloseReport {
  closed: string[];
  published: string[];
}

/** Settlements handled per run at most; the rest wait for the next run. */
const BATCH = 500;

export async function closeSettlements(deps: CloseSettlementsDeps): Promise<CloseReport> {
  const now = deps.clock.now().toISOString();
  const closable = await deps.settlements.listClosable(now, BATCH);
  const report: CloseReport = { closed: [], published: [] };
  for (const found of closable) {
    let closed: Settlement | null = found;
    if (found.status === 'open') {
      closed = await deps.settlements.close(found, now);
      // Another run closed it first: that run publishes.
      if (!closed) continue;
      report.closed.push(closed.id);
    }
    await deps.events.publish([{ type: 'settlement.closed', detail: closedEvent(closed) }]);
    await deps.settlements.markPublished(closed);
    report.published.push(closed.id);
  }
  return report;
}

export function closedEvent(settlement: Settlement): SettlementEventDetail {
  return {
    version: '1',
    event_id: `evt_${settlement.id}_closed`,
    type: 'settlement.closed',
    occurred_at: settlement.closedAt ?? settlement.updatedAt,
    merchant_id: settlement.merchantId,
    settlement: settlementView(settlement),
  };
}
