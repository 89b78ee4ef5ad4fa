/**
 * Settlements at their boundaries: the API's resources and query strings, the `settlement.closed` event and
 * the fee table a stage configures (SETTLEMENT_FEES). Rules: docs/api.md ("Settlements").
 */
import * as z from 'zod';
import { CURRENCIES } from '../functions/core/money.js';
import { PAYMENT_METHOD_TYPES } from '../functions/core/vocabulary.js';
import { CURSOR_PATTERN, listOf } from './api.js';

const DaySchema = z
  .string()
  .length(10)
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a day is YYYY-MM-DD')
  .refine((day) => !Number.isNaN(Date.parse(`${day}T00:00:00Z`)), 'not a calendar day')
  .meta({ description: 'A settlement day in Asia/Bangkok (UTC+7), `YYYY-MM-DD`.', example: '2026-11-22' });

export const SETTLEMENT_STATUSES = ['open', 'closed'] as const;

const MinorSchema = z.int().meta({ description: 'Minor units of the currency (THB: satang).' });

/**
 * One merchant's settlement of one Bangkok day and currency.
 * @example {"id":"stl_20261122_THB_3f7a0c2b9d1e","object":"settlement","day":"2026-11-22","currency":"THB","status":"closed","period":{"start":"2026-11-21T17:00:00.000Z","end":"2026-11-22T17:00:00.000Z"},"gross_captured":145000,"refunds":10000,"fees":4205,"net_payable":130795,"counts":{"captures":2,"refunds":1,"lines":3},"closed_at":"2026-11-22T17:05:00.000Z","created_at":"2026-11-22T03:00:00.000Z","updated_at":"2026-11-22T17:05:00.000Z","links":{"self":"/v1/settlements/stl_20261122_THB_3f7a0c2b9d1e","lines":"/v1/settlements/stl_20261122_THB_3f7a0c2b9d1e/lines","csv":"/v1/settlements/stl_20261122_THB_3f7a0c2b9d1e/lines.csv"}}
 */
export const SettlementResourceSchema = z
  .object({
    id: z.string().meta({ example: 'stl_20261122_THB_3f7a0c2b9d1e' }),
    object: z.literal('settlement'),
    day: DaySchema,
    currency: z.enum(CURRENCIES),
    status: z.enum(SETTLEMENT_STATUSES).meta({
      description:
        '`open` while its day may still get movements; `closed` once the day ended and the close ran.',
    }),
    period: z.object({ start: z.iso.datetime(), end: z.iso.datetime() }).meta({
      description: 'The instants the day covers, [start, end) in UTC.',
    }),
    gross_captured: MinorSchema,
    refunds: MinorSchema,
    fees: MinorSchema,
    net_payable: MinorSchema.meta({ description: 'gross_captured − refunds − fees; may be negative.' }),
    counts: z.object({ captures: z.int(), refunds: z.int(), lines: z.int() }),
    closed_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    links: z.object({ self: z.string(), lines: z.string(), csv: z.string() }),
  })
  .meta({ id: 'Settlement' });
export type SettlementResource = z.infer<typeof SettlementResourceSchema>;

export const SettlementLineResourceSchema = z
  .object({
    object: z.literal('settlement_line'),
    settlement_id: z.string(),
    event_id: z.string().meta({ description: 'The bus event the line was booked from (counted once).' }),
    type: z.enum(['capture', 'refund']),
    payment_id: z.string(),
    refund_id: z.string().nullable(),
    payment_method: z.enum(PAYMENT_METHOD_TYPES),
    currency: z.enum(CURRENCIES),
    amount: MinorSchema.meta({ description: 'Captured or refunded, > 0.' }),
    fee_rate: z
      .object({ bps: z.int(), fixed: z.int() })
      .nullable()
      .meta({ description: 'The rate the fee was computed with (captures); null for a refund.' }),
    fee: MinorSchema,
    net: MinorSchema.meta({ description: 'What the line adds to net_payable: amount − fee, or −amount.' }),
    occurred_at: z.iso.datetime(),
    rolled_from: DaySchema.nullable().meta({
      description:
        'Set when the movement happened on a day already closed when it arrived: that day. It is booked on the next open day.',
    }),
  })
  .meta({ id: 'SettlementLine' });
export type SettlementLineResource = z.infer<typeof SettlementLineResourceSchema>;

export const SettlementListSchema = listOf(SettlementResourceSchema).meta({ id: 'SettlementList' });
export type SettlementList = z.infer<typeof SettlementListSchema>;

export const SettlementLineListSchema = listOf(SettlementLineResourceSchema).meta({
  id: 'SettlementLineList',
});
export type SettlementLineList = z.infer<typeof SettlementLineListSchema>;

const LimitSchema = z.coerce.number().int().min(1).max(100);
const CursorSchema = z.string().min(1).max(500).regex(CURSOR_PATTERN, 'not a cursor of ours');

/** GET /v1/settlements: `status`, days `from`…`to` (inclusive), newest day first. */
export const ListSettlementsQuerySchema = z
  .object({
    status: z.enum(SETTLEMENT_STATUSES).optional(),
    from: DaySchema.optional(),
    to: DaySchema.optional(),
    limit: LimitSchema.default(20),
    cursor: CursorSchema.optional(),
  })
  .strict()
  .superRefine((query, ctx) => {
    if (query.from && query.to && query.from > query.to) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'to must not be before from' });
    }
  });
export type ListSettlementsQuery = z.infer<typeof ListSettlementsQuerySchema>;

/** GET /v1/settlements/{id}/lines. */
export const ListSettlementLinesQuerySchema = z
  .object({ limit: LimitSchema.default(100), cursor: CursorSchema.optional() })
  .strict();

/**
 * `settlement.closed`: a day's settlement closed; its totals are final. `event_id` is derived from the
 * settlement, so a close published twice (a retried run) deduplicates.
 * @example {"version":"1","event_id":"evt_stl_20261122_THB_3f7a0c2b9d1e_closed","type":"settlement.closed","occurred_at":"2026-11-22T17:05:00.000Z","merchant_id":"merchant_demo","settlement":{"id":"stl_20261122_THB_3f7a0c2b9d1e","status":"closed"}}
 */
export const SettlementEventDetailSchema = z
  .object({
    version: z.literal('1'),
    event_id: z.string(),
    type: z.literal('settlement.closed'),
    occurred_at: z.iso.datetime(),
    merchant_id: z.string(),
    settlement: SettlementResourceSchema,
  })
  .meta({ id: 'SettlementEventDetail' });
export type SettlementEventDetail = z.infer<typeof SettlementEventDetailSchema>;
