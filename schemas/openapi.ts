/**
 * Builds the OpenAPI 3.1 document from the zod schemas (JSON Schema 2020-12 is OpenAPI 3.1's dialect).
 * bin/openapi.ts writes it to docs/openapi.json; a test fails when the committed file drifts.
 */
import { z } from 'zod';
import { CATALOG, type NamesWhere } from '../functions/catalog.js';
import { PAYMENT_STATUSES } from '../functions/core/payment.js';
// Importing the schema modules registers their components.
import './api.js';
import './events.js';
import './settlements.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

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

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});

const paymentId = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^pay_[0-9A-HJKMNP-TV-Z]{26}$' },
};

const idempotencyKeyHeader = {
  name: 'Idempotency-Key',
  in: 'header',
  required: true,
  description:
    'Unique per request (e.g. a UUID), scoped to your merchant account. Same key and body replays the first ' +
    'answer (`Idempotent-Replayed: true`), refusals found against the payment (409, 422, 400) included; a refusal ' +
    'before the key is looked at (invalid request, 404) stores nothing. A different body is 422; a request still in ' +
    'flight is 409; after a 5xx the same key may retry at once.',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
};

/** POST /v1/payments/{id}/capture and /cancel: both resume the parked saga and answer 202. */
function resumeOperation(
  operationId: string,
  summary: string,
  conflict: string,
  body?: Record<string, unknown>,
): Operation {
  return {
    operationId,
    summary,
    parameters: [paymentId, idempotencyKeyHeader],
    ...(body ? { requestBody: { required: false, content: { 'application/json': { schema: body } } } } : {}),
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

/** GET /v1/payments/{id}/events and /refunds: a page of what belongs to one payment, oldest first. */
function pageOfPayment(operationId: string, summary: string, page: string, list: string): Operation {
  return {
    operationId,
    summary,
    parameters: [
      paymentId,
      { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 100 } },
      { name: 'cursor', in: 'query', schema: { type: 'string' } },
    ],
    responses: {
      '200': { description: page, content: { 'application/json': { schema: ref(list) } } },
      '400': problem('Invalid query.'),
      '401': problem('Missing or unknown API key.'),
      '404': problem('No such payment for this merchant.'),
    },
  };
}

// Settlements: the read-only routes of docs/api.md "Settlements".
const settlementId = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^stl_[0-9]{8}_[A-Z]{3}_[0-9a-f]{12}$' },
};

const settlementOperations = {
  'api-list-settlements': {
    operationId: 'listSettlements',
    summary: "The merchant's daily settlements (Asia/Bangkok days), newest day first.",
    parameters: [
      { name: 'status', in: 'query', schema: { type: 'string', enum: ['open', 'closed'] } },
      {
        name: 'from',
        in: 'query',
        description: 'First day (inclusive), `YYYY-MM-DD`.',
        schema: { type: 'string', format: 'date' },
      },
      {
        name: 'to',
        in: 'query',
        description: 'Last day (inclusive), `YYYY-MM-DD`; not before `from`.',
        schema: { type: 'string', format: 'date' },
      },
      { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
      {
        name: 'cursor',
        in: 'query',
        description: '`next_cursor` of the previous page.',
        schema: { type: 'string' },
      },
    ],
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
    summary: 'One settlement with its totals.',
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
    summary: "A settlement's lines (one per captured payment or refund), oldest first.",
    parameters: [
      settlementId,
      { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 100 } },
      { name: 'cursor', in: 'query', schema: { type: 'string' } },
    ],
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
    summary: 'Every line of a settlement as CSV (RFC 4180, header row, amounts in minor units).',
    parameters: [settlementId],
    responses: {
      '200': {
        description: 'The lines; the columns are listed in docs/api.md.',
        content: { 'text/csv': { schema: { type: 'string' } } },
      },
      '401': problem('Missing or unknown API key.'),
      '404': problem('No such settlement for this merchant.'),
    },
  },
} satisfies Record<string, Operation>;

const TOO_LARGE = problem(
  'Body larger than 64 KiB (`payload_too_large`): refused on every route, before anything runs.',
);

/** One OpenAPI operation, without what the catalog says (its path, method and whether it is public). */
type Operation = { responses: Record<string, unknown>; requestBody?: unknown } & Record<string, unknown>;

/**
 * The paths of the API functions of the catalog, in the order of `operations`. A public route (`auth:
 * 'none'`) needs no bearer key (`security: []`). Every operation answers 413 to a body over the limit,
 * whether it takes a body or not.
 */
function pathsFrom(operations: Record<NamesWhere<{ kind: 'api' }>, Operation>) {
  const paths: Record<string, Record<string, Operation>> = {};
  for (const [name, { responses, requestBody, ...head }] of Object.entries(operations)) {
    const { route } = CATALOG[name as keyof typeof operations];
    const withLimit = { ...responses, '413': responses['413'] ?? TOO_LARGE };
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

export function buildOpenApi(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Payments API',
      version: '1.0.0',
      description:
        'Card, Thai QR, WeChat Pay and Alipay payments through KBank, one Step Functions saga per payment. ' +
        'Amounts are integers in minor units. ' +
        'Errors are RFC 9457 problems. See docs/api.md for the guide.',
    },
    servers: [{ url: 'http://127.0.0.1:3000', description: 'local stack' }],
    security: [{ bearer: [] }],
    paths: pathsFrom({
      'api-health': {
        operationId: 'health',
        responses: {
          '200': {
            description: 'The API is up.',
            content: { 'application/json': { schema: ref('Health') } },
          },
        },
      },
      'api-list-payments': {
        operationId: 'listPayments',
        summary: "Search the merchant's payments, newest first.",
        description:
          'Served by the merchant index (never a scan). A page may hold fewer than `limit` payments, even none, ' +
          'while `has_more` is true when a status filter matches few payments: keep following `next_cursor`. ' +
          'The list is eventually consistent (about a second behind `GET /v1/payments/{id}`).',
        parameters: [
          {
            name: 'status',
            in: 'query',
            description: 'Only payments in one of these statuses (comma-separated).',
            style: 'form',
            explode: false,
            schema: { type: 'array', items: { type: 'string', enum: [...PAYMENT_STATUSES] } },
            example: 'succeeded,failed',
          },
          {
            name: 'created_gte',
            in: 'query',
            description: 'Created at or after this instant (ISO 8601 with `Z` or an offset).',
            schema: { type: 'string', format: 'date-time' },
          },
          {
            name: 'created_lt',
            in: 'query',
            description: 'Created before this instant (exclusive); must be after `created_gte`.',
            schema: { type: 'string', format: 'date-time' },
          },
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
          },
          {
            name: 'cursor',
            in: 'query',
            description: "`next_cursor` of the previous page; only valid with the same merchant's API key.",
            schema: { type: 'string' },
          },
        ],
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
        summary: 'Create a card payment and start its processing.',
        parameters: [
          {
            name: 'Idempotency-Key',
            in: 'header',
            required: true,
            description:
              'Unique per payment attempt (e.g. a UUID). The same key and body replays the first response with ' +
              '`Idempotent-Replayed: true`; a different body is 422; a request still in flight is 409. Kept 32 days.',
            schema: { type: 'string', minLength: 1, maxLength: 255 },
          },
        ],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: ref('CreatePaymentRequest') } },
        },
        responses: {
          '201': {
            description: 'Created; status is `processing` until the saga finishes.',
            headers: {
              Location: { schema: { type: 'string' } },
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
        summary: 'Change the order and amount of a manual-capture payment before it is captured.',
        description:
          'The new order is re-priced by the cost service. A lower amount becomes `amount_capturable`; a higher ' +
          'one needs a new authorization and is refused with `409 reauthorization_required`.',
        parameters: [paymentId, idempotencyKeyHeader],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: ref('UpdatePaymentRequest') } },
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
        summary: 'The QR the customer scans (Thai QR, WeChat Pay), as PNG and SVG data URLs.',
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
        summary: "KBank's notify webhook (register this URL with KBank). Not for merchants.",
        description:
          'No API key: the body is the KBank charge object with its `checksum`, verified against the amount ' +
          'and currency we stored. Answered once the notify is queued durably; processed asynchronously, ' +
          'after an inquiry at KBank.',
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
        responses: {
          '200': { description: 'Queued.' },
          '400': problem('No body, or not a KBank notify (`malformed_notification`, `validation_failed`).'),
          '401': problem('The checksum does not match (`invalid_checksum`); recorded on the payment.'),
          '404': problem('The notify names no payment of ours.'),
        },
      },
      'api-kbank-return': {
        operationId: 'kbankBrowserReturn',
        summary: "Where KBank sends the customer's browser after 3-D Secure (register it with KBank).",
        description:
          'A form `{objectId, token, status}`, never trusted: queued, and the charge is inquired at KBank.',
        requestBody: {
          required: true,
          content: { 'application/x-www-form-urlencoded': { schema: { type: 'object' } } },
        },
        responses: {
          '200': { description: 'A short page for the customer.', content: { 'text/html': {} } },
          '400': problem('No charge id in the form.'),
        },
      },
      'api-capture-payment': resumeOperation(
        'capturePayment',
        'Capture a manual-capture payment, all of it or part (the rest is released).',
        'The payment is not in `requires_capture` (`payment_not_capturable`), or other requests kept changing it ' +
          '(`stale_write`, not stored: retry), or this Idempotency-Key is in flight.',
        ref('CaptureRequest'),
      ),
      'api-cancel-payment': resumeOperation(
        'cancelPayment',
        'Cancel a payment that is not captured yet: in `requires_capture` the authorization is voided at KBank; ' +
          'in `requires_action` the QR order is canceled (Thai QR, WeChat Pay) or the charge voided (Alipay, ' +
          '3-D Secure) at KBank, and money the customer paid in the meantime is given back. Ends `canceled`.',
        'The payment is neither in `requires_capture` nor in `requires_action` (`payment_not_cancelable`, the ' +
          'status in `detail`), another request is already canceling it (`payment_cancel_in_progress`), other ' +
          'requests kept changing it (`stale_write`, not stored: retry), or this Idempotency-Key is in flight.',
      ),
      'api-list-payment-events': pageOfPayment(
        'listPaymentEvents',
        "The payment's audit trail, oldest first.",
        'A page of audit entries.',
        'PaymentEventList',
      ),
      'api-create-refund': {
        operationId: 'createRefund',
        summary: 'Refund a succeeded payment, all that is left or part of it; several refunds may follow.',
        description:
          'The amount is reserved on the payment at once (the database refuses a refund that does not fit in ' +
          '`amount_refundable`), then KBank is asked asynchronously: follow `GET /v1/payments/{id}/refunds` or ' +
          'the `refund.succeeded` / `refund.failed` events. A refusal is stored under the Idempotency-Key too: ' +
          'the same key replays it.',
        parameters: [
          paymentId,
          {
            name: 'Idempotency-Key',
            in: 'header',
            required: true,
            description:
              'Unique per refund (e.g. a UUID); keys are scoped per merchant. The same key and body replays the ' +
              'first response with `Idempotent-Replayed: true`; a different body is 422; in flight is 409.',
            schema: { type: 'string', minLength: 1, maxLength: 255 },
          },
        ],
        requestBody: {
          required: false,
          content: { 'application/json': { schema: ref('CreateRefundRequest') } },
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
        "The payment's refunds, oldest first.",
        'A page of refunds.',
        'RefundList',
      ),
      ...settlementOperations,
    }),
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'Merchant secret API key `sk_…`.' },
      },
      schemas: {
        ...components('output'),
        // Requests are documented as clients send them (defaults optional).
        CreatePaymentRequest: components('input').CreatePaymentRequest,
      },
    },
  };
}
