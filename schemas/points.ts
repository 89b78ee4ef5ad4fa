/**
 * Points at the API boundary: a grant's body, a customer's balance, the ledger's movements and their query
 * string. Rules: functions/core/points.ts; guide: docs/api.md ("Points").
 */
import * as z from 'zod';
import { MAX_POINTS } from '../functions/core/points.js';
import { CURSOR_PATTERN, listOf } from './api.js';

/** A merchant's customer id, as `customer.id` of a payment (path parameter `{customer_id}`). */
export const CustomerIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'customer id may use letters, digits and . _ : - only');

const PointsSchema = z
  .int()
  .positive()
  .max(MAX_POINTS)
  .meta({ description: 'Whole points, at least 1.', example: 500 });

/**
 * POST /v1/customers/{customer_id}/points/grants.
 * @example {"points":500,"reason":"Welcome bonus"}
 */
export const GrantPointsRequestSchema = z
  .object({
    points: PointsSchema,
    reason: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .meta({ description: 'Why the points are granted (shown in the ledger).', example: 'Welcome bonus' }),
  })
  .strict()
  .meta({ id: 'GrantPointsRequest' });
export type GrantPointsRequest = z.infer<typeof GrantPointsRequestSchema>;

/** What one customer has with the merchant: available to spend, and held by payments not captured yet. */
export const PointsBalanceSchema = z
  .object({
    object: z.literal('points_balance'),
    customer_id: z.string(),
    available: z.int().min(0).meta({ description: 'Points the customer may spend now.', example: 1200 }),
    held: z
      .int()
      .min(0)
      .meta({ description: 'Points held by payments not captured or canceled yet.', example: 300 }),
    currency: z.string().meta({ example: 'THB' }),
    currency_value_per_point: z.int().positive().meta({
      description: "What one point is worth, in minor units of `currency` (the merchant's program).",
      example: 100,
    }),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'PointsBalance' });
export type PointsBalanceResource = z.infer<typeof PointsBalanceSchema>;

export const POINTS_MOVEMENT_TYPES = ['grant', 'reserve', 'commit', 'release', 'refund'] as const;

/** One entry of the append-only ledger: the balance is the sum of every entry's `available` and `held`. */
export const PointsMovementSchema = z
  .object({
    id: z.string().meta({ example: 'pm_01JD3Q4V7M6X2N8P9R0S1T2V3W' }),
    object: z.literal('points_movement'),
    customer_id: z.string(),
    type: z.enum(POINTS_MOVEMENT_TYPES).meta({
      description:
        '`grant` adds points; `reserve` holds points for a payment; `commit` spends them (captured); ' +
        '`release` gives a hold back (failed, declined, expired, canceled); `refund` gives spent points back.',
    }),
    points: PointsSchema,
    available: z.int().meta({ description: 'Signed change of the available points.', example: 500 }),
    held: z.int().meta({ description: 'Signed change of the held points.', example: 0 }),
    payment_id: z.string().nullable(),
    refund_id: z.string().nullable(),
    reason: z.string().nullable(),
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'PointsMovement' });
export type PointsMovementResource = z.infer<typeof PointsMovementSchema>;

/** A grant's answer: its ledger entry and the balance it left. */
export const PointsGrantSchema = z
  .object({
    object: z.literal('points_grant'),
    movement: PointsMovementSchema,
    balance: PointsBalanceSchema,
  })
  .meta({ id: 'PointsGrant' });
export type PointsGrantResource = z.infer<typeof PointsGrantSchema>;

export const PointsMovementListSchema = listOf(PointsMovementSchema).meta({ id: 'PointsMovementList' });
export type PointsMovementList = z.infer<typeof PointsMovementListSchema>;

export const ListPointsMovementsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(200).regex(CURSOR_PATTERN, 'not a cursor of ours').optional(),
    order: z.enum(['oldest_first', 'newest_first']).default('newest_first'),
  })
  .strict();
export type ListPointsMovementsQuery = z.infer<typeof ListPointsMovementsQuerySchema>;
