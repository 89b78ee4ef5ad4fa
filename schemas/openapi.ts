/**
 * Builds the OpenAPI 3.1 document from the zod schemas (JSON Schema 2020-12 is OpenAPI 3.1's dialect).
 * bin/openapi.ts writes it to docs/openapi.json; a test fails when the committed file drifts.
 */
import { z } from 'zod';
import { CATALOG, type NamesWhere } from '../functions/catalog.js';
import { PAYMENT_STATUSES } from '../functions/core/payment.js';
// Importing the schema modules registers their components (and gives the query schemas).
import { IdempotencyKeySchema, ListPaymentsQuerySchema, ListQuerySchema } from './api.js';
import {
  PaymentEventDetailSchema,
  PointsEventDetailSchema,
  ReconciliationEventDetailSchema,
  RefundEventDetailSchema,
} from './events.js';
import {
  CAPTURE_EXAMPLES,
  CREATE_PAYMENT_EXAMPLES,
  CREATE_REFUND_EXAMPLES,
  GRANT_POINTS_EXAMPLES,
  KBANK_NOTIFY_EXAMPLES,
  KBANK_RETURN_EXAMPLES,
  UPDATE_PAYMENT_EXAMPLES,
} from './examples.js';
import { kbankThreeDsReturnSchema } from './kbank.js';
import { ListPointsMovementsQuerySchema } from './points.js';
import {
  ListSettlementLinesQuerySchema,
  ListSettlementsQuerySchema,
  SettlementEventDetailSchema,
} from './settlements.js';
import {
  ListWebhookDeliveriesQuerySchema,
  WEBHOOK_EVENT_TYPES,
  WebhookNoticeDetailSchema,
} from './webhooks.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** The JSON Schema of what a client sends, as zod parses it. */
function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return rest;
}

/**
 * The query parameters of an operation as its handler parses them: one per field of the zod query schema,
 * its JSON Schema (limits and patterns included) from that field, with a description where given and a
 * whole parameter where the query string spells it otherwise (a comma-separated list).
 */
function queryParameters(
  query: z.ZodObject,
  descriptions: Record<string, string> = {},
  replaced: Record<string, Record<string, unknown>> = {},
) {
  return Object.entries(query.shape).map(([name, field]) => {
    if (replaced[name]) return { name, in: 'query', ...replaced[name] };
    const schema = jsonSchemaOf(field as z.ZodType);
    const description = descriptions[name];
    return { name, in: 'query', ...(description ? { description } : {}), schema };
  });
}

/**
 * Every schema registered with an `id` (via `.meta({ id })`) becomes a component; references between
 * them point at #/components/schemas/<id>.
 */
function components(io: 'input' | 'output'): Record<string, unknown> {
  const { schemas } = z.toJSONSchema(z.globalRegistry, {
    io,
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, Record<string, unknown>> };
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      const { $schema, $id, id: _id, ...rest } = schema;
      return [id, rest];
    }),
  );
}

/** The components an operation reaches, directly or through other components (the rest is not the API's). */
function reachable(from: unknown, schemas: Record<string, unknown>): Set<string> {
  const seen = new Set<string>();
  const visit = (node: unknown) => {
    for (const [, name] of JSON.stringify(node).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      if (name === undefined || seen.has(name)) continue;
      seen.add(name);
      visit(schemas[name]);
    }
  };
  visit(from);
  return seen;
}

/** A JSON body with its named examples (`summary` and `value`). */
const json = (schema: unknown, examples?: Record<string, unknown>) => ({
  'application/json': { schema, ...(examples ? { examples } : {}) },
});

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});

const paymentId = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^pay_[0-9A-HJKMNP-TV-Z]{26}$', maxLength: 30 },
};

/** The Idempotency-Key header, described for the operation that takes it. */
const idempotencyKey = (description: string) => ({
  name: 'Idempotency-Key',
  in: 'header',
  required: true,
  description,
  schema: jsonSchemaOf(IdempotencyKeySchema),
});

const idempotencyKeyHeader = idempotencyKey(
  'Unique per request (e.g. a UUID), scoped to your merchant account. Same key and body replays the first ' +
    'answer (`Idempotent-Replayed: true`), refusals found against the payment (409, 422, 400) included; a refusal ' +
    'before the key is looked at (invalid request, 404) stores nothing. A different body is 422; a request still in ' +
    'flight is 409; after a 5xx the same key may retry at once.',
);

/** POST /v1/payments/{id}/capture and /cancel: both resume the parked saga and answer 202. */
function resumeOperation(
  operationId: string,
  summary: string,
  description: string,
  conflict: string,
  body?: { schema: Record<string, unknown>; examples: Record<string, unknown> },
): Operation {
  return {
    operationId,
    tags: ['Payments'],
    summary,
    description,
    parameters: [paymentId, idempotencyKeyHeader],
    ...(body ? { requestBody: { required: false, content: json(body.schema, body.examples) } } : {}),
    responses: {
      '202': {
        description:
          'Accepted: recorded, and the payment’s processing resumed. Watch the status or the events.',
        content: { 'application/json': { schema: ref('Payment') } },
      },
      '400': problem('Invalid amount, header or body.'),
      '401': problem('Missing or unknown API key.'),
      '404': problem('No such payment for this merchant.'),
      '409': problem(conflict),
      '422': problem('This Idempotency-Key was used with a different request.'),
    },
  };
}

/** What every paged list's query says of its page. */
const PAGE = {
  limit: 'At most this many items.',
  cursor: '`next_cursor` of the previous page.',
};

/** GET /v1/payments/{id}/events and /refunds: a page of what belongs to one payment, oldest first. */
function pageOfPayment(
  operationId: string,
  tag: string,
  summary: string,
  description: string,
  page: string,
  list: string,
): Operation {
  return {
    operationId,
    tags: [tag],
    summary,
    description,
    parameters: [paymentId, ...queryParameters(ListQuerySchema, PAGE)],
    responses: {
      '200': { description: page, content: { 'application/json': { schema: ref(list) } } },
      '400': problem('Invalid query.'),
      '401': problem('Missing or unknown API key.'),
      '404': problem('No such payment for this merchant.'),
    },
  };
}

/** The `Location` of what a POST made: its path under /v1. */
const LOCATION = {
  description: 'The path of what was made.',
  schema: { type: 'string', format: 'uri-reference', pattern: '^/v1/[A-Za-z0-9_/-]+$', maxLength: 200 },
};

/** What any route may answer, whoever answers it (API Gateway or the function). */
const ANY_ROUTE = {
  '400': problem(
    'The path is not validly percent-encoded (`malformed_path`), or, on a route that takes input, it is invalid.',
  ),
  '413': problem(
    'Body larger than 64 KiB (`payload_too_large`): refused on every route, before anything runs.',
  ),
  '429': {
    ...problem(
      'Too many requests (`rate_limited`: the stage allows 200 requests/s with bursts of 400; KBank’s 3-D ' +
        'Secure return 50/s). Nothing ran: retry after `Retry-After`, with the same Idempotency-Key.',
    ),
    headers: {
      'Retry-After': {
        description: 'Seconds to wait before retrying (the stage’s token bucket refills within one).',
        schema: { type: 'integer', minimum: 1, maximum: 60 },
      },
    },
  },
  '500': problem(
    'Our fault (`internal_error`); nothing is left half-done. Retry with the same Idempotency-Key.',
  ),
};

/** One OpenAPI operation, without what the catalog says (its path, method and whether it is public). */
type Operation = { responses: Record<string, unknown>; requestBody?: unknown } & Record<string, unknown>;

const settlementId = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The settlement id (`stl_<day>_<currency>_<merchant hash>`).',
  schema: { type: 'string', pattern: '^stl_[0-9]{8}_[A-Z]{3}_[0-9a-f]{12}$', maxLength: 29 },
};

/** Settlements: the read-only routes of docs/api.md "Settlements". */
const SETTLEMENT_OPERATIONS = {
  'api-list-settlements': {
    operationId: 'listSettlements',
    tags: ['Settlements'],
    summary: "The merchant's daily settlements (Asia/Bangkok days), newest day first.",
    description:
      'One settlement per Bangkok day and currency, built from the `payment.captured` and `refund.succeeded` ' +
      'events; `open` until the close after the day ended, then `closed` with final totals.',
    parameters: queryParameters(ListSettlementsQuerySchema, {
      status: 'Only open or only closed settlements.',
      from: 'First day (inclusive), `YYYY-MM-DD`.',
      to: 'Last day (inclusive), `YYYY-MM-DD`; not before `from`.',
      ...PAGE,
    }),
    responses: {
      '200': {
        description: 'A page of settlements.',
        content: { 'application/json': { schema: ref('SettlementList') } },
      },
      '400': problem('Invalid query parameter or cursor (`errors` lists each field).'),
      '401': problem('Missing or unknown API key.'),
    },
  },
  'api-get-settlement': {
    operationId: 'getSettlement',
    tags: ['Settlements'],
    summary: 'One settlement with its totals.',
    description: 'Gross captured, refunds, fees and the net payable, in minor units.',
    parameters: [settlementId],
    responses: {
      '200': {
        description: 'The settlement.',
        content: { 'application/json': { schema: ref('Settlement') } },
      },
      '401': problem('Missing or unknown API key.'),
      '404': problem('No such settlement for this merchant.'),
    },
  },
  'api-list-settlement-lines': {
    operationId: 'listSettlementLines',
    tags: ['Settlements'],
    summary: "A settlement's lines (one per captured payment or refund), oldest first.",
    description: 'Each line names the event it was booked from; follow `next_cursor` while `has_more`.',
    parameters: [settlementId, ...queryParameters(ListSettlementLinesQuerySchema, PAGE)],
    responses: {
      '200': {
        description: 'A page of lines.',
        content: { 'application/json': { schema: ref('SettlementLineList') } },
      },
      '400': problem('Invalid query or cursor.'),
      '401': problem('Missing or unknown API key.'),
      '404': problem('No such settlement for this merchant.'),
    },
  },
  'api-export-settlement-lines': {
    operationId: 'exportSettlementLines',
    tags: ['Settlements'],
    summary: 'Every line of a settlement as CSV (RFC 4180, header row, amounts in minor units).',
    description: 'For a spreadsheet or a finance import; the columns are listed in docs/api.md.',
    parameters: [settlementId],
    responses: {
      '200': {
        description: 'The lines.',
        content: { 'text/csv': { schema: { type: 'string' } } },
      },
      '401': problem('Missing or unknown API key.'),
      '404': problem('No such settlement for this merchant.'),
    },
  },
} satisfies Record<string, Operation>;

const customerId = {
  name: 'customer_id',
  in: 'path',
  required: true,
  description: "Your customer's id, as `customer.id` of its payments.",
  schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$', maxLength: 64 },
};

/** Points: the routes of docs/api.md "Points" (a customer's balance and ledger with this merchant). */
const POINTS_OPERATIONS = {
  'api-grant-points': {
    operationId: 'grantPoints',
    tags: ['Points'],
    summary: 'Grant points to a customer (a purchase elsewhere, a promotion, a correction).',
    description:
      'Adds the points to the available balance with one ledger entry, in one transaction; the first grant ' +
      'makes the customer known. Answers the movement and the new balance.',
    parameters: [
      customerId,
      idempotencyKey(
        'Unique per grant (e.g. a UUID), scoped to your merchant account. The same key and body replays the ' +
          'first answer (`Idempotent-Replayed: true`); a different body is 422; a request in flight is 409.',
      ),
    ],
    requestBody: { required: true, content: json(ref('GrantPointsRequest'), GRANT_POINTS_EXAMPLES) },
    responses: {
      '201': {
        description: 'Granted: the ledger entry and the balance after it.',
        headers: { 'Idempotent-Replayed': { schema: { type: 'string', enum: ['true'] } } },
        content: { 'application/json': { schema: ref('PointsGrant') } },
      },
      '400': problem('Invalid points (0, negative, fractional), reason, header or body.'),
      '401': problem('Missing or unknown API key.'),
      '404': problem('Not a customer id.'),
      '409': problem('No points program for this merchant (`points_not_enabled`), or the key is in flight.'),
      '415': problem('Body is not application/json.'),
      '422': problem('This Idempotency-Key was used with a different body.'),
    },
  },
  'api-get-customer-points': {
    operationId: 'getCustomerPoints',
    tags: ['Points'],
    summary: "A customer's points: available, held by payments not captured yet, and what one is worth.",
    description:
      'Always current (a consistent read). Another merchant’s customer of the same id is not yours: 404.',
    parameters: [customerId],
    responses: {
      '200': {
        description: 'The balance.',
        content: { 'application/json': { schema: ref('PointsBalance') } },
      },
      '401': problem('Missing or unknown API key.'),
      '404': problem('No customer with points for this merchant.'),
      '409': problem('No points program for this merchant (`points_not_enabled`).'),
    },
  },
  'api-list-points-movements': {
    operationId: 'listPointsMovements',
    tags: ['Points'],
    summary: "Every movement of a customer's points (the ledger), newest or oldest first.",
    description:
      'Grants, holds, commits, releases and refunds, each with the payment or refund it belongs to; the ' +
      'balance is the sum of their `available` and `held`. Follow `next_cursor` while `has_more`.',
    parameters: [
      customerId,
      ...queryParameters(ListPointsMovementsQuerySchema, {
        ...PAGE,
        cursor: '`next_cursor` of the previous page (with the same `order`).',
      }),
    ],
    responses: {
      '200': {
        description: 'A page of movements.',
        content: { 'application/json': { schema: ref('PointsMovementList') } },
      },
      '400': problem('Invalid query or cursor.'),
      '401': problem('Missing or unknown API key.'),
      '404': problem('No customer with points for this merchant.'),
      '409': problem('No points program for this merchant (`points_not_enabled`).'),
    },
  },
} satisfies Record<string, Operation>;

const webhookEndpointId = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The endpoint id (`we_…`).',
  schema: { type: 'string', pattern: '^we_[0-9A-HJKMNP-TV-Z]{26}$', maxLength: 29 },
};

const webhookIdempotencyKey = idempotencyKey(
  'Unique per request (e.g. a UUID), scoped to your merchant account. The same key and body replays the first ' +
    'answer (`Idempotent-Replayed: true`) without the signing secret (`secret: null`): rotate if you lost it. ' +
    'A different body is 422; a request still in flight is 409.',
);

/** Merchant webhooks: the endpoint registry and the delivery history of docs/api.md "Webhooks". */
const WEBHOOK_OPERATIONS = {
  'api-create-webhook-endpoint': {
    operationId: 'createWebhookEndpoint',
    tags: ['Webhooks'],
    summary: 'Register an endpoint for the events it lists; its signing secret is answered once.',
    description:
      'Only `https` URLs to public hosts (locally also `http://127.0.0.1` and `http://localhost`); private, ' +
      'link-local and loopback addresses are refused, when registered and again at every delivery. ' +
      '`events` lists types (`payment.succeeded`), families (`refund.*`) or `*`.',
    parameters: [webhookIdempotencyKey],
    requestBody: {
      required: true,
      content: json(ref('CreateWebhookEndpointRequest'), {
        shop: {
          summary: 'Payment outcomes and every refund event',
          value: {
            url: 'https://shop.example.com/hooks/payments',
            events: ['payment.succeeded', 'refund.*'],
          },
        },
      }),
    },
    responses: {
      '201': {
        description: 'Registered; `secret` is shown in this answer only.',
        headers: {
          Location: LOCATION,
          'Idempotent-Replayed': { schema: { type: 'string', enum: ['true'] } },
        },
        content: { 'application/json': { schema: ref('WebhookEndpointWithSecret') } },
      },
      '400': problem('Invalid body, URL (`errors` says why) or header; nothing is written.'),
      '401': problem('Missing or unknown API key.'),
      '409': problem('A request with this Idempotency-Key is still in flight.'),
      '415': problem('Body is not application/json.'),
      '422': problem('This Idempotency-Key was used with a different body.'),
    },
  },
  'api-list-webhook-endpoints': {
    operationId: 'listWebhookEndpoints',
    tags: ['Webhooks'],
    summary: "The merchant's webhook endpoints (at most 16), without their secrets.",
    description: 'Each with its status: `disabled` endpoints receive nothing until registered again.',
    responses: {
      '200': {
        description: 'Every endpoint.',
        content: { 'application/json': { schema: ref('WebhookEndpointList') } },
      },
      '401': problem('Missing or unknown API key.'),
    },
  },
  'api-get-webhook-endpoint': {
    operationId: 'getWebhookEndpoint',
    tags: ['Webhooks'],
    summary: 'One webhook endpoint, without its secret.',
    description: 'Another merchant’s endpoint does not exist for you (404).',
    parameters: [webhookEndpointId],
    responses: {
      '200': {
        description: 'The endpoint.',
        content: { 'application/json': { schema: ref('WebhookEndpoint') } },
      },
      '401': problem('Missing or unknown API key.'),
      '404': problem('No such endpoint for this merchant.'),
    },
  },
  'api-delete-webhook-endpoint': {
    operationId: 'deleteWebhookEndpoint',
    tags: ['Webhooks'],
    summary: 'Delete an endpoint and its signing secret; its pending deliveries stop.',
    description: 'Deleting again answers 404.',
    parameters: [webhookEndpointId],
    responses: {
      '200': {
        description: 'Deleted.',
        content: { 'application/json': { schema: ref('DeletedWebhookEndpoint') } },
      },
      '401': problem('Missing or unknown API key.'),
      '404': problem('No such endpoint for this merchant.'),
    },
  },
  'api-rotate-webhook-secret': {
    operationId: 'rotateWebhookSecret',
    tags: ['Webhooks'],
    summary: 'A new signing secret (answered once); the previous one also signs for 24 hours.',
    description:
      'During the overlap every delivery carries two `v1,` signatures: verify with either secret, and switch ' +
      'your receiver to the new one before `previous_secret_expires_at`.',
    parameters: [webhookEndpointId, webhookIdempotencyKey],
    responses: {
      '200': {
        description: 'Rotated; `secret` is the new secret, shown in this answer only.',
        content: { 'application/json': { schema: ref('WebhookEndpointWithSecret') } },
      },
      '400': problem('Invalid header.'),
      '401': problem('Missing or unknown API key.'),
      '404': problem('No such endpoint for this merchant.'),
      '409': problem('A request with this Idempotency-Key is still in flight.'),
    },
  },
  'api-list-webhook-deliveries': {
    operationId: 'listWebhookDeliveries',
    tags: ['Webhooks'],
    summary: "An endpoint's deliveries, newest first, each with every attempt made.",
    description:
      'Each attempt: when, the status code (null when none came), the latency and the first 1024 bytes of the ' +
      'answer. Deliveries are kept 30 days. Follow `next_cursor` while `has_more`.',
    parameters: [webhookEndpointId, ...queryParameters(ListWebhookDeliveriesQuerySchema, PAGE)],
    responses: {
      '200': {
        description: 'A page of deliveries.',
        content: { 'application/json': { schema: ref('WebhookDeliveryList') } },
      },
      '400': problem('Invalid query or cursor.'),
      '401': problem('Missing or unknown API key.'),
      '404': problem('No such endpoint for this merchant.'),
    },
  },
  'api-retry-webhook-delivery': {
    operationId: 'retryWebhookDelivery',
    tags: ['Webhooks'],
    summary: 'Send one delivery again now (a manual attempt, recorded like the others).',
    description:
      'Queued at once; the attempt shows in the delivery’s `attempts` with `manual: true`. A 2xx makes the ' +
      'delivery `delivered`; a failure changes nothing else (a pending delivery keeps its schedule).',
    parameters: [
      webhookEndpointId,
      {
        name: 'delivery_id',
        in: 'path',
        required: true,
        description: 'The delivery id (`whd_…`).',
        schema: { type: 'string', pattern: '^whd_[0-9A-HJKMNP-TV-Z]{26}$', maxLength: 30 },
      },
      idempotencyKey('Unique per resend (e.g. a UUID): the same key resends once.'),
    ],
    responses: {
      '202': {
        description: 'Queued; the delivery as it stood.',
        content: { 'application/json': { schema: ref('WebhookDelivery') } },
      },
      '400': problem('Invalid header.'),
      '401': problem('Missing or unknown API key.'),
      '404': problem('No such endpoint or delivery for this merchant.'),
      '409': problem('A request with this Idempotency-Key is still in flight.'),
      '422': problem('This Idempotency-Key was used for another delivery.'),
    },
  },
} satisfies Record<string, Operation>;

/** The signature headers every delivery carries (Standard Webhooks). */
const WEBHOOK_HEADERS = {
  'webhook-id': {
    description: 'The event id, the same on every attempt: deduplicate on it.',
    required: true,
    schema: { type: 'string' },
  },
  'webhook-timestamp': {
    description: 'Unix seconds when this attempt was signed: refuse it when more than 5 minutes off.',
    required: true,
    schema: { type: 'string', pattern: '^[0-9]+$' },
  },
  'webhook-signature': {
    description:
      'Space-separated `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, one per secret ' +
      'that signs (two during a rotation). Key: the base64-decoded part of the secret after `whsec_`.',
    required: true,
    schema: { type: 'string' },
  },
};

const WEBHOOK_FAMILY_TEXT = {
  payment: {
    text: 'A payment event: `data` is the payment as the API shows it',
    schema: 'PaymentWebhookEvent',
  },
  refund: { text: 'A refund event: `data` is the refund as the API shows it', schema: 'RefundWebhookEvent' },
  points: {
    text: "A movement of a customer's points: `data` is the ledger entry as the API shows it",
    schema: 'PointsWebhookEvent',
  },
};

/** OpenAPI 3.1 `webhooks`: what we POST to a registered endpoint, one entry per event type. */
function buildWebhooks(): Record<string, unknown> {
  return Object.fromEntries(
    WEBHOOK_EVENT_TYPES.map((type) => {
      const family = type.startsWith('refund.')
        ? 'refund'
        : type.startsWith('points.')
          ? 'points'
          : 'payment';
      const about = WEBHOOK_FAMILY_TEXT[family];
      return [
        type,
        {
          post: {
            operationId: `webhook_${type.replace(/\W/g, '_')}`,
            tags: ['Webhooks'],
            summary: `\`${type}\`, POSTed to every endpoint that subscribes to it.`,
            description:
              `${about.text}. Answer 2xx within 10 s; anything else (redirects included) is retried with ` +
              'exponential backoff for more than 4 days. Verify the signature first (docs/api.md "Webhooks").',
            security: [],
            parameters: Object.entries(WEBHOOK_HEADERS).map(([name, header]) => ({
              name,
              in: 'header',
              ...header,
            })),
            requestBody: {
              required: true,
              content: json(ref(about.schema)),
            },
            responses: {
              '200': { description: 'Received (any 2xx): not sent again.' },
              default: { description: 'Not received: sent again later, on the retry schedule.' },
            },
          },
        },
      ];
    }),
  );
}

/**
 * The paths of the API functions of the catalog, in the order of `operations`. A public route (`auth:
 * 'none'`) needs no bearer key (`security: []`). Every operation answers 413 to a body over the limit,
 * whether it takes a body or not, 429 when throttled and 500 on our failures.
 */
function pathsFrom(operations: Record<NamesWhere<{ kind: 'api' }>, Operation>) {
  const paths: Record<string, Record<string, Operation>> = {};
  for (const [name, { responses, requestBody, ...head }] of Object.entries(operations)) {
    const { route } = CATALOG[name as keyof typeof operations];
    const withLimit = { ...ANY_ROUTE, ...responses };
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, Operation>)[route.method.toLowerCase()] = {
      ...head,
      ...(route.auth === 'none' ? { security: [] } : {}),
      ...(requestBody === undefined ? {} : { requestBody }),
      responses: Object.fromEntries(Object.entries(withLimit).sort(([a], [b]) => a.localeCompare(b))),
    };
  }
  return paths;
}

/** The tags of the document, in the order a reader meets them. */
const TAGS = [
  { name: 'Payments', description: 'Create, follow, capture, change and cancel payments.' },
  { name: 'Refunds', description: 'Give back all or part of a succeeded payment.' },
  { name: 'Settlements', description: 'What each day’s captures and refunds add up to, fees deducted.' },
  { name: 'Points', description: "Your customers' loyalty points: grants, balances and the ledger." },
  {
    name: 'Webhooks',
    description:
      'Signed POSTs of payment, refund and points events to your endpoints, retried for more than 4 days.',
  },
  { name: 'Health', description: 'Is the API up.' },
  {
    name: 'KBank callbacks',
    description: 'Called by KBank and the customer’s browser, never by merchants. Register them with KBank.',
  },
];

const INT32 = 2 ** 31;

/**
 * Gives every integer schema its `format`: `int32` where its bounds fit, else `int64` (zod's integers are
 * bounded by JavaScript's safe integers, which int64 holds), so that generated clients pick their types.
 */
function withIntegerFormats<T>(node: T): T {
  if (Array.isArray(node)) return node.map(withIntegerFormats) as T;
  if (node === null || typeof node !== 'object') return node;
  const object = Object.fromEntries(
    Object.entries(node).map(([key, value]) => [key, withIntegerFormats(value)]),
  ) as Record<string, unknown>;
  if (object.type !== 'integer' || object.format !== undefined) return object as T;
  const { minimum, maximum } = object as { minimum?: number; maximum?: number };
  const fits = minimum !== undefined && maximum !== undefined && minimum >= -INT32 && maximum < INT32;
  return { ...object, format: fits ? 'int32' : 'int64' } as T;
}

export function buildOpenApi(): Record<string, unknown> {
  const paths = buildPaths();
  const webhooks = buildWebhooks();
  const schemas: Record<string, unknown> = {
    ...components('output'),
    // Requests are documented as clients send them (defaults optional).
    CreatePaymentRequest: components('input').CreatePaymentRequest,
  };
  // Only what the API's operations reach: the event schemas (events.ts) describe the bus, not the API.
  const used = reachable({ paths, webhooks }, schemas);
  return withIntegerFormats({
    openapi: '3.1.0',
    info: {
      title: 'Payments API',
      version: '1.0.0',
      description:
        'Card, Thai QR, WeChat Pay and Alipay payments through KBank, one Step Functions saga per payment. ' +
        'Amounts are integers in minor units. ' +
        'Errors are RFC 9457 problems. See docs/api.md for the guide.',
      contact: { name: 'The payments team (docs/runbook.md)' },
      // Not open source: a license reference, as SPDX writes one for a license without an identifier.
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [
      {
        url: 'http://127.0.0.1:3000',
        description:
          'The local stack (`npm start`), on loopback only: plain HTTP, test keys. Paths start with /v1.',
        'x-internal': false,
      },
      {
        url: 'https://{apiId}.execute-api.{region}.amazonaws.com/{stage}',
        description:
          'A deployment (API Gateway, regional, HTTPS only): production, staging or dev by its stage; the stack ' +
          'output `ApiUrl` less its `/v1`, as every path starts with /v1.',
        'x-internal': false,
        variables: {
          apiId: { default: 'abc123defg', description: 'The REST API id (in the stack output `ApiUrl`).' },
          region: { default: 'ap-southeast-1', description: 'The AWS region of the deployment.' },
          stage: {
            default: 'prod',
            enum: ['prod', 'staging', 'dev'],
            description: 'The stage (`-c stage=…`).',
          },
        },
      },
    ],
    security: [{ bearer: [] }],
    tags: TAGS,
    paths,
    webhooks,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'Merchant secret API key `sk_…`.' },
      },
      schemas: Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name))),
    },
  });
}

function buildPaths() {
  return pathsFrom({
    'api-health': {
      operationId: 'health',
      tags: ['Health'],
      summary: 'Check that the API is up.',
      description: 'Needs no API key. Answers as soon as the API function runs; it reads nothing else.',
      responses: {
        '200': {
          description: 'The API is up.',
          content: { 'application/json': { schema: ref('Health') } },
        },
      },
    },
    'api-list-payments': {
      operationId: 'listPayments',
      tags: ['Payments'],
      summary: "Search the merchant's payments, newest first.",
      description:
        'Served by the merchant index (never a scan). A page may hold fewer than `limit` payments, even none, ' +
        'while `has_more` is true when a status filter matches few payments: keep following `next_cursor`. ' +
        'The list is eventually consistent (about a second behind `GET /v1/payments/{id}`).',
      parameters: queryParameters(
        ListPaymentsQuerySchema,
        {
          created_gte: 'Created at or after this instant (ISO 8601 with `Z` or an offset).',
          created_lt: 'Created before this instant (exclusive); must be after `created_gte`.',
          ...PAGE,
          cursor: "`next_cursor` of the previous page; only valid with the same merchant's API key.",
        },
        {
          status: {
            description: 'Only payments in one of these statuses (comma-separated).',
            style: 'form',
            explode: false,
            schema: {
              type: 'array',
              items: { type: 'string', enum: [...PAYMENT_STATUSES] },
              maxItems: PAYMENT_STATUSES.length,
            },
            example: ['succeeded', 'failed'],
          },
        },
      ),
      responses: {
        '200': {
          description: 'A page of payments, newest first.',
          content: { 'application/json': { schema: ref('PaymentList') } },
        },
        '400': problem('Invalid query parameter or cursor (`errors` lists each field).'),
        '401': problem('Missing or unknown API key.'),
      },
    },
    'api-create-payment': {
      operationId: 'createPayment',
      tags: ['Payments'],
      summary: 'Create a payment and start its processing.',
      description:
        'By card (a one-time token from KBank’s card form), Thai QR, WeChat Pay or Alipay. Answers at once with ' +
        'the payment in `processing`; follow `GET /v1/payments/{id}` until it is `succeeded`, `failed`, ' +
        '`rejected`, or `requires_action` (show the QR, or send the customer to `next_action.url`).',
      parameters: [
        idempotencyKey(
          'Unique per payment attempt (e.g. a UUID). The same key and body replays the first response with ' +
            '`Idempotent-Replayed: true`; a different body is 422; a request still in flight is 409. Kept 32 days.',
        ),
      ],
      requestBody: {
        required: true,
        content: json(ref('CreatePaymentRequest'), CREATE_PAYMENT_EXAMPLES),
      },
      responses: {
        '201': {
          description: 'Created; status is `processing` until the saga finishes.',
          headers: {
            Location: LOCATION,
            'Idempotent-Replayed': { schema: { type: 'string', enum: ['true'] } },
          },
          content: { 'application/json': { schema: ref('Payment') } },
        },
        '400': problem('Invalid body, header or JSON (`errors` lists each field).'),
        '401': problem('Missing or unknown API key.'),
        '409': problem('A request with this Idempotency-Key is still in flight.'),
        '413': problem('Body larger than 64 KiB.'),
        '415': problem('Body is not application/json.'),
        '422': problem('This Idempotency-Key was used with a different body.'),
      },
    },
    'api-update-payment': {
      operationId: 'updatePayment',
      tags: ['Payments'],
      summary: 'Change the order and amount of a manual-capture payment before it is captured.',
      description:
        'The new order is re-priced by the cost service. A lower amount becomes `amount_capturable`; a higher ' +
        'one needs a new authorization and is refused with `409 reauthorization_required`.',
      parameters: [paymentId, idempotencyKeyHeader],
      requestBody: {
        required: true,
        content: json(ref('UpdatePaymentRequest'), UPDATE_PAYMENT_EXAMPLES),
      },
      responses: {
        '200': { description: 'Changed.', content: { 'application/json': { schema: ref('Payment') } } },
        '400': problem('Invalid body or header (`errors` lists each field).'),
        '401': problem('Missing or unknown API key.'),
        '404': problem('No such payment for this merchant.'),
        '409': problem(
          'Not in `requires_capture` (`amount_not_changeable`), an increase (`reauthorization_required`), ' +
            'or changed continuously by other requests (`stale_write`, not stored: retry).',
        ),
        '422': problem(
          'The cost service prices the new order differently (`cost_mismatch`) or cannot price it ' +
            '(`cost_service_rejected`), or the key was reused.',
        ),
        '503': problem(
          'The cost service is unavailable (`cost_service_unavailable`): retry, the same key may be used at once.',
        ),
      },
    },
    'api-get-payment': {
      operationId: 'getPayment',
      tags: ['Payments'],
      summary: 'Read a payment.',
      description:
        'Always current (unlike the search). While `requires_action`, `next_action` says what the customer ' +
        'must do and until when.',
      parameters: [paymentId],
      responses: {
        '200': {
          description: 'The payment.',
          content: { 'application/json': { schema: ref('Payment') } },
        },
        '401': problem('Missing or unknown API key.'),
        '404': problem('No such payment for this merchant.'),
      },
    },
    'api-get-payment-qr': {
      operationId: 'getPaymentQr',
      tags: ['Payments'],
      summary: 'The QR the customer scans (Thai QR, WeChat Pay), as PNG and SVG data URLs.',
      description:
        'Ready for an `<img src>` while the payment is `requires_action` with `display_qr`; not cached ' +
        '(`Cache-Control: no-store`).',
      parameters: [paymentId],
      responses: {
        '200': { description: 'The QR.', content: { 'application/json': { schema: ref('PaymentQr') } } },
        '401': problem('Missing or unknown API key.'),
        '404': problem('No such payment for this merchant.'),
        '409': problem('The payment is not waiting for a QR to be scanned (`no_qr`).'),
      },
    },
    'api-kbank-webhook': {
      operationId: 'kbankNotify',
      tags: ['KBank callbacks'],
      summary: "KBank's notify webhook (register this URL with KBank). Not for merchants.",
      description:
        'No API key: the body is the KBank charge object with its `checksum`, verified against the amount ' +
        'and currency we stored. Answered once the notify is queued durably; processed asynchronously, ' +
        'after an inquiry at KBank.',
      requestBody: { required: true, content: json({ type: 'object' }, KBANK_NOTIFY_EXAMPLES) },
      responses: {
        '200': { description: 'Queued.' },
        '400': problem('No body, or not a KBank notify (`malformed_notification`, `validation_failed`).'),
        '401': problem('The checksum does not match (`invalid_checksum`); recorded on the payment.'),
        '404': problem('The notify names no payment of ours.'),
      },
    },
    'api-kbank-return': {
      operationId: 'kbankBrowserReturn',
      tags: ['KBank callbacks'],
      summary: "Where KBank sends the customer's browser after 3-D Secure (register it with KBank).",
      description:
        'A form `{objectId, token, status}`, never trusted: queued, and the charge is inquired at KBank.',
      requestBody: {
        required: true,
        content: {
          'application/x-www-form-urlencoded': {
            schema: jsonSchemaOf(kbankThreeDsReturnSchema),
            examples: KBANK_RETURN_EXAMPLES,
          },
        },
      },
      responses: {
        '200': { description: 'A short page for the customer.', content: { 'text/html': {} } },
        '400': problem('No charge id in the form.'),
      },
    },
    'api-capture-payment': resumeOperation(
      'capturePayment',
      'Capture a manual-capture payment, all of it or part (the rest is released).',
      'Only in `requires_capture`. Answers 202 with the payment in `processing`; it becomes `succeeded` once ' +
        'KBank settled it. Without a body, all of `amount_capturable` is captured.',
      'The payment is not in `requires_capture` (`payment_not_capturable`), or other requests kept changing it ' +
        '(`stale_write`, not stored: retry), or this Idempotency-Key is in flight.',
      { schema: ref('CaptureRequest'), examples: CAPTURE_EXAMPLES },
    ),
    'api-cancel-payment': resumeOperation(
      'cancelPayment',
      'Cancel a payment that is not captured yet.',
      'In `requires_capture` the authorization is voided at KBank; in `requires_action` the QR order is ' +
        'canceled (Thai QR, WeChat Pay) or the charge voided (Alipay, 3-D Secure) at KBank, and money the ' +
        'customer paid in the meantime is given back. Answers 202; the payment ends `canceled`. No body.',
      'The payment is neither in `requires_capture` nor in `requires_action` (`payment_not_cancelable`, the ' +
        'status in `detail`), another request is already canceling it (`payment_cancel_in_progress`), other ' +
        'requests kept changing it (`stale_write`, not stored: retry), or this Idempotency-Key is in flight.',
    ),
    'api-list-payment-events': pageOfPayment(
      'listPaymentEvents',
      'Payments',
      "The payment's audit trail, oldest first.",
      'Every change and note, `sequence` 1, 2, …; follow `next_cursor` while `has_more`.',
      'A page of audit entries.',
      'PaymentEventList',
    ),
    'api-create-refund': {
      operationId: 'createRefund',
      tags: ['Refunds'],
      summary: 'Refund a succeeded payment, all that is left or part of it; several refunds may follow.',
      description:
        'The amount is reserved on the payment at once (the database refuses a refund that does not fit in ' +
        '`amount_refundable`), then KBank is asked asynchronously: follow `GET /v1/payments/{id}/refunds` or ' +
        'the `refund.succeeded` / `refund.failed` events. A refusal is stored under the Idempotency-Key too: ' +
        'the same key replays it.',
      parameters: [
        paymentId,
        idempotencyKey(
          'Unique per refund (e.g. a UUID); keys are scoped per merchant. The same key and body replays the ' +
            'first response with `Idempotent-Replayed: true`; a different body is 422; in flight is 409.',
        ),
      ],
      requestBody: {
        required: false,
        content: json(ref('CreateRefundRequest'), CREATE_REFUND_EXAMPLES),
      },
      responses: {
        '202': {
          description: 'Accepted: the amount is reserved and the refund is `pending` until KBank answers.',
          headers: { 'Idempotent-Replayed': { schema: { type: 'string', enum: ['true'] } } },
          content: { 'application/json': { schema: ref('Refund') } },
        },
        '400': problem('Invalid body, amount (0, negative, not an integer) or header.'),
        '401': problem('Missing or unknown API key.'),
        '404': problem('No such payment for this merchant.'),
        '409': problem(
          '`payment_not_refundable`: the payment is not `succeeded`; or `idempotency_key_in_use`.',
        ),
        '413': problem('Body larger than 64 KiB.'),
        '415': problem('Body is not application/json.'),
        '422': problem(
          '`refund_exceeds_refundable`: more than `amount_refundable` (the `detail` says how much is left); ' +
            'or `idempotency_key_reused`.',
        ),
      },
    },
    'api-list-refunds': pageOfPayment(
      'listRefunds',
      'Refunds',
      "The payment's refunds, oldest first.",
      'Each with its `status` (`pending`, `succeeded`, `failed`, `unknown`); follow `next_cursor` while `has_more`.',
      'A page of refunds.',
      'RefundList',
    ),
    ...SETTLEMENT_OPERATIONS,
    ...POINTS_OPERATIONS,
    ...WEBHOOK_OPERATIONS,
  });
}

/**
 * The bodies of the events on the bus (EventBridge `detail`), as one JSON Schema 2020-12 document: the
 * `oneOf` names the four kinds, `$defs` holds them and what they share (the payment and refund resources).
 * bin/openapi.ts writes it to docs/events.schema.json beside the API's document.
 */
export function buildEventSchemas(): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  const kinds = [
    PaymentEventDetailSchema,
    RefundEventDetailSchema,
    PointsEventDetailSchema,
    ReconciliationEventDetailSchema,
    SettlementEventDetailSchema,
    WebhookNoticeDetailSchema,
  ].map((schema) => {
    const { $ref, $defs } = z.toJSONSchema(schema, { unrepresentable: 'any' }) as {
      $ref: string;
      $defs: Record<string, unknown>;
    };
    Object.assign(defs, $defs);
    return { $ref };
  });
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Payments events (EventBridge detail, source `payments`)',
    description: 'docs/api.md#events-eventbridge-source-payments says when each is sent.',
    oneOf: kinds,
    $defs: defs,
  };
}
