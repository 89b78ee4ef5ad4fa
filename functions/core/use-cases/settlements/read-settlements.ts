/**
 * Use cases of the settlements API (read-only, merchant-scoped): list, one settlement, its lines, the CSV
 * export. Another merchant's settlement does not exist (404). Cursors are opaque to the merchant.
 */
import type {
  ListSettlementsQuery,
  SettlementLineList,
  SettlementList,
  SettlementResource,
} from '../../../../schemas/settlements.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import { settlementLineView, settlementView } from '../../settlement-views.js';
import {
  type LinePosition,
  linesCsv,
  parseSettlementId,
  type Settlement,
  type SettlementLine,
  type SettlementPosition,
  type SettlementStore,
} from '../../settlements.js';

export interface ReadSettlementsDeps {
  settlements: SettlementStore;
}

export async function listSettlements(
  deps: ReadSettlementsDeps,
  query: { merchantId: string } & Omit<ListSettlementsQuery, 'limit'> & { limit: number },
): Promise<SettlementList> {
  const after = query.cursor === undefined ? undefined : decodeSettlementCursor(query.cursor);
  const page = await deps.settlements.list({
    merchantId: query.merchantId,
    limit: query.limit,
    ...(query.status ? { status: query.status } : {}),
    ...(query.from ? { fromDay: query.from } : {}),
    ...(query.to ? { toDay: query.to } : {}),
    ...(after ? { after } : {}),
  });
  return {
    object: 'list',
    data: page.settlements.map(settlementView),
    has_more: page.next !== null,
    next_cursor: page.next ? encode(page.next) : null,
  };
}

export async function getSettlement(
  deps: ReadSettlementsDeps,
  query: { merchantId: string; settlementId: string },
): Promise<SettlementResource> {
  return settlementView(await find(deps, query));
}

export async function listSettlementLines(
  deps: ReadSettlementsDeps,
  query: { merchantId: string; settlementId: string; limit: number; cursor?: string },
): Promise<SettlementLineList> {
  const settlement = await find(deps, query);
  const after = query.cursor === undefined ? undefined : decodeLineCursor(query.cursor);
  const page = await deps.settlements.listLines(settlement, {
    limit: query.limit,
    ...(after ? { after } : {}),
  });
  return {
    object: 'list',
    data: page.lines.map(settlementLineView),
    has_more: page.next !== null,
    next_cursor: page.next ? encode(page.next) : null,
  };
}

/** Lines read per query while exporting. */
const EXPORT_PAGE = 500;

/** Every line of the settlement as CSV (docs/api.md lists the columns). */
export async function exportSettlementLines(
  deps: ReadSettlementsDeps,
  query: { merchantId: string; settlementId: string },
): Promise<{ settlement: Settlement; csv: string }> {
  const settlement = await find(deps, query);
  const lines: SettlementLine[] = [];
  let after: LinePosition | undefined;
  do {
    const page = await deps.settlements.listLines(settlement, {
      limit: EXPORT_PAGE,
      ...(after ? { after } : {}),
    });
    lines.push(...page.lines);
    after = page.next ?? undefined;
  } while (after);
  return { settlement, csv: linesCsv(lines) };
}

async function find(
  deps: ReadSettlementsDeps,
  query: { merchantId: string; settlementId: string },
): Promise<Settlement> {
  const named = parseSettlementId(query.settlementId);
  const settlement = named ? await deps.settlements.get(query.merchantId, named.day, named.currency) : null;
  // The id also carries the merchant's hash: another merchant's id finds nothing here.
  if (!settlement || settlement.id !== query.settlementId) throw new NotFoundError('No such settlement.');
  return settlement;
}

function encode(position: SettlementPosition | LinePosition): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function decoded(cursor: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null) return parsed as Record<string, unknown>;
  } catch {
    // the typed error below
  }
  return {};
}

function invalidCursor(): ValidationError {
  return new ValidationError('Invalid cursor.', [
    { field: 'cursor', message: 'not a cursor this API returned' },
  ]);
}

function decodeSettlementCursor(cursor: string): SettlementPosition {
  const { day, currency } = decoded(cursor);
  if (
    typeof day === 'string' &&
    /^\d{4}-\d{2}-\d{2}$/.test(day) &&
    typeof currency === 'string' &&
    /^[A-Z]{3}$/.test(currency)
  ) {
    return { day, currency };
  }
  throw invalidCursor();
}

function decodeLineCursor(cursor: string): LinePosition {
  const { occurredAt, eventId } = decoded(cursor);
  if (
    typeof occurredAt === 'string' &&
    !Number.isNaN(Date.parse(occurredAt)) &&
    typeof eventId === 'string' &&
    /^evt_[A-Za-z0-9_]{1,120}$/.test(eventId)
  ) {
    return { occurredAt, eventId };
  }
  throw invalidCursor();
}
