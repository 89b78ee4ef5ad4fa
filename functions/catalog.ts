/**
 * The catalog: every function of the system, declared once. The CDK stacks (functions, IAM, routes, ASL
 * substitutions), the local stack (functions, routes, saga tasks) and the OpenAPI builder read it;
 * test/unit/catalog.test.ts holds it against the handler files, both ASL files and the OpenAPI document.
 * Plain data (no CDK, no AWS SDK), so anything may import it cheaply.
 *
 * A function's name is its handler module: `functions/handlers/<name>.ts`, exporting `handler` (what
 * Lambda runs, wired to AWS) and `createHandler(deps)` (the same handler on any edges: the local stack).
 */

import type { TABLE_DESIGN } from './adapters/table-design.js';
import type { PaymentStepName, RefundStepName } from './core/saga-contract.js';

/**
 * What a function may touch. Its IAM policy and its environment are made from this and nothing else, so
 * least privilege is readable here.
 */
export interface Access {
  /** DynamoDB on the table, its named GSIs and its CMK. */
  table?: 'read' | 'readwrite';
  /** dynamodb:Query on this GSI only (no table reads, no writes), for functions that only list. */
  queriesIndex?: (typeof TABLE_DESIGN.globalSecondaryIndexes)[number]['indexName'];
  /** Reads the KBank secret; gets the KBANK_* variables. */
  kbank?: true;
  /** Reads the cost service API key secret; gets the COST_SERVICE_* variables. */
  cost?: true;
  /** May PutEvents on the payments bus (the state machines emit the saga's own events). */
  publishesEvents?: true;
  /** May StartExecution on the payment saga; gets STATE_MACHINE_ARN. */
  startsSaga?: true;
  /** May StartExecution on the refund saga (and nothing else); gets REFUND_STATE_MACHINE_ARN. */
  startsRefundSaga?: true;
  /** May SendTaskSuccess/SendTaskFailure to resume the payment saga's parked tasks. */
  resumesSaga?: true;
  /**
   * The reconciliation sweep: StartExecution and DescribeExecution on both sagas (nothing else of them),
   * both ARNs and CAPTURE_WINDOW_SECONDS.
   */
  sweeps?: true;
  /** May SendMessage to the KBank notification queue (and nothing else on it); gets NOTIFICATION_QUEUE_URL. */
  sendsNotifications?: true;
  /** Gets QR_ACTION_WINDOW_SECONDS / REDIRECT_ACTION_WINDOW_SECONDS when the stage sets them. */
  actionWindows?: true;
  /** Gets SETTLEMENT_FEES (the settlements' fee table) when the stage sets it. */
  settlementFees?: true;
  /**
   * The webhook endpoints' signing secrets (Secrets Manager, under the stage's prefix only): `read` to
   * sign deliveries, `write` to create, rotate and delete them. Gets WEBHOOK_SECRET_* and the URL policy.
   */
  webhookSecrets?: 'read' | 'write';
  /** May SendMessage to the webhook delivery queue (and nothing else on it); gets WEBHOOK_DELIVERY_QUEUE_URL. */
  queuesWebhooks?: true;
  /**
   * Makes the HTTP calls to merchants' endpoints; may also SendMessage to the delivery queue's DLQ (a
   * delivery whose schedule is spent); gets WEBHOOK_DEAD_LETTER_QUEUE_URL and the retry schedule.
   */
  deliversWebhooks?: true;
}

interface FunctionBase {
  /** The Lambda description (and what the function is for). */
  description: string;
  access: Access;
  /** Default 10 s (PAYMENT_FUNCTION_DEFAULTS). Must exceed the function's own outbound timeouts × attempts. */
  timeoutSeconds?: number;
}

export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** API Gateway resource path; `{x}` is a path parameter. */
  path: `/v1/${string}`;
  /** `merchant`: the TOKEN authorizer (Bearer API key) runs first. `none`: public, `publicBecause` says why. */
  auth: 'merchant' | 'none';
  /** Why a route without our API key is safe (recorded where the security checks ask for it). */
  publicBecause?: string;
  /** Optional query parameters, declared so the contract is visible; the handler's zod schema validates them. */
  query?: readonly string[];
  /** API Gateway refuses a body that is not a JSON object before the function runs. */
  jsonObjectBody?: true;
}

/** One API route, behind API Gateway (a Lambda proxy integration). */
export interface ApiFunction extends FunctionBase {
  kind: 'api';
  route: Route;
}

/** The REST API's TOKEN authorizer: Bearer API key → merchant, for every `auth: 'merchant'` route. */
export interface AuthorizerFunction extends FunctionBase {
  kind: 'authorizer';
}

export type SagaName = 'payment' | 'refund';

/** A Lambda task of a state machine (statemachines/<saga>.asl.json). */
export interface SagaTaskFunction extends FunctionBase {
  kind: 'saga-task';
  saga: SagaName;
  /** The ASL's `${…}` for this function's ARN (definitionSubstitutions). */
  substitution: `${string}FunctionArn`;
  /**
   * The step of the saga contract it runs (functions/core/saga-contract.ts): the contract gives the step's
   * input schema (schemas/saga.ts) and its outcomes.
   */
  step: PaymentStepName | RefundStepName;
}

/** Fed by an SQS queue (batches, failures reported per item). */
export interface QueueConsumerFunction extends FunctionBase {
  kind: 'queue-consumer';
  /**
   * `notifications`: the KBank callback queue. `settlements`, `webhook-events`: fed by a rule on the
   * payments bus. `webhook-deliveries`: one message per webhook delivery attempt.
   */
  queue: 'notifications' | 'settlements' | 'webhook-events' | 'webhook-deliveries';
  batchSize: number;
  /** A queue fed by the bus: the event types (detail-types) its rule delivers. */
  eventTypes?: readonly string[];
}

/** Invoked by EventBridge Scheduler. */
export interface ScheduledFunction extends FunctionBase {
  kind: 'schedule';
  schedule: { rateMinutes: number } | { cron: { minute: string; hour: string; timeZone: string } };
  /** What Scheduler retries after a failed invoke (0: the next run finds the same work). */
  retryAttempts: number;
}

export type FunctionSpec =
  | ApiFunction
  | AuthorizerFunction
  | SagaTaskFunction
  | QueueConsumerFunction
  | ScheduledFunction;

/** Saga tasks call KBank (8 s per request) or the cost service (up to ~9.3 s with retries). */
const SAGA_TIMEOUT_SECONDS = 30;

/**
 * Every function, keyed by name. Order matters only for reading (and the order of resources in the
 * template): the authorizer, the API routes, each saga's tasks in the order of its states, the queue
 * consumer, the schedules.
 */
export const CATALOG = {
  'api-authorizer': {
    kind: 'authorizer',
    description: 'REST API TOKEN authorizer: Bearer API key → merchant',
    access: { table: 'read' },
  },

  'api-health': {
    kind: 'api',
    description: 'GET /v1/health (no auth, no data access)',
    route: {
      method: 'GET',
      path: '/v1/health',
      auth: 'none',
      publicBecause: 'Health check for uptime probes: public by design, touches no data.',
    },
    access: {},
  },
  'api-create-payment': {
    kind: 'api',
    description: 'POST /v1/payments',
    route: { method: 'POST', path: '/v1/payments', auth: 'merchant', jsonObjectBody: true },
    access: { table: 'readwrite', startsSaga: true, actionWindows: true },
  },
  'api-list-payments': {
    kind: 'api',
    description: 'GET /v1/payments (search, GSI1 Query only)',
    route: {
      method: 'GET',
      path: '/v1/payments',
      auth: 'merchant',
      query: ['status', 'created_gte', 'created_lt', 'limit', 'cursor'],
    },
    access: { queriesIndex: 'GSI1' },
  },
  'api-get-payment': {
    kind: 'api',
    description: 'GET /v1/payments/{id}',
    route: { method: 'GET', path: '/v1/payments/{id}', auth: 'merchant' },
    access: { table: 'read' },
  },
  'api-list-payment-events': {
    kind: 'api',
    description: 'GET /v1/payments/{id}/events',
    route: { method: 'GET', path: '/v1/payments/{id}/events', auth: 'merchant' },
    access: { table: 'read' },
  },
  'api-update-payment': {
    kind: 'api',
    description: 'PATCH /v1/payments/{id} (amount change before capture, re-priced by the cost service)',
    route: { method: 'PATCH', path: '/v1/payments/{id}', auth: 'merchant' },
    access: { table: 'readwrite', cost: true, resumesSaga: true },
    timeoutSeconds: SAGA_TIMEOUT_SECONDS,
  },
  'api-capture-payment': {
    kind: 'api',
    description: 'POST /v1/payments/{id}/capture',
    route: { method: 'POST', path: '/v1/payments/{id}/capture', auth: 'merchant' },
    access: { table: 'readwrite', resumesSaga: true },
  },
  'api-cancel-payment': {
    kind: 'api',
    description: 'POST /v1/payments/{id}/cancel',
    route: { method: 'POST', path: '/v1/payments/{id}/cancel', auth: 'merchant' },
    access: { table: 'readwrite', resumesSaga: true },
  },
  'api-create-refund': {
    kind: 'api',
    description: 'POST /v1/payments/{id}/refunds',
    // The body is optional (none = refund everything left), so no JSON object is required.
    route: { method: 'POST', path: '/v1/payments/{id}/refunds', auth: 'merchant' },
    access: { table: 'readwrite', startsRefundSaga: true },
    // Parallel refunds of one payment race for its version and retry for up to 20 s (DEFAULT_CONTENTION),
    // within API Gateway's 29 s.
    timeoutSeconds: 25,
  },
  'api-list-refunds': {
    kind: 'api',
    description: 'GET /v1/payments/{id}/refunds',
    route: { method: 'GET', path: '/v1/payments/{id}/refunds', auth: 'merchant' },
    access: { table: 'read' },
  },
  'api-get-payment-qr': {
    kind: 'api',
    description: 'GET /v1/payments/{id}/qr (the QR to scan)',
    route: { method: 'GET', path: '/v1/payments/{id}/qr', auth: 'merchant' },
    access: { table: 'read' },
  },
  // KBank's callbacks carry no credential of ours, and no request model either: the handlers read the raw
  // body (the notify's checksum is computed over it; the 3-D Secure return is a urlencoded form).
  'api-kbank-webhook': {
    kind: 'api',
    description: 'POST /v1/webhooks/kbank (KBank notify, no API key: checksum verified, then queued)',
    route: {
      method: 'POST',
      path: '/v1/webhooks/kbank',
      auth: 'none',
      publicBecause:
        "KBank's payment notify cannot carry our API key. It is authenticated by its checksum (SHA-256 over the charge id, amount, currency and state plus our KBank secret key), verified against the amount and currency WE stored before anything is queued; a mismatch is refused (401) and recorded on the payment, and even an accepted notify only makes the processor ask KBank. Behind the WAF and the stage throttling.",
    },
    // The KBank secret keys the notify checksum.
    access: { table: 'readwrite', kbank: true, sendsNotifications: true },
  },
  'api-kbank-return': {
    kind: 'api',
    description: 'POST /v1/webhooks/kbank/return (3-D Secure browser form, untrusted: only queued)',
    route: {
      method: 'POST',
      path: '/v1/webhooks/kbank/return',
      auth: 'none',
      publicBecause:
        "The customer's browser posts this form after 3-D Secure (KBank redirects it here); a browser holds no credential of ours. Nothing in the form is trusted: only the claimed charge id is queued, and the processor asks KBank for the charge before anything changes. Behind the WAF, the stage throttling and a lower throttle of its own.",
    },
    access: { sendsNotifications: true },
  },

  // Settlements (read-only, merchant-scoped): docs/api.md "Settlements".
  'api-list-settlements': {
    kind: 'api',
    description: 'GET /v1/settlements',
    route: {
      method: 'GET',
      path: '/v1/settlements',
      auth: 'merchant',
      query: ['status', 'from', 'to', 'limit', 'cursor'],
    },
    access: { table: 'read' },
  },
  'api-get-settlement': {
    kind: 'api',
    description: 'GET /v1/settlements/{id}',
    route: { method: 'GET', path: '/v1/settlements/{id}', auth: 'merchant' },
    access: { table: 'read' },
  },
  'api-list-settlement-lines': {
    kind: 'api',
    description: 'GET /v1/settlements/{id}/lines',
    route: {
      method: 'GET',
      path: '/v1/settlements/{id}/lines',
      auth: 'merchant',
      query: ['limit', 'cursor'],
    },
    access: { table: 'read' },
  },
  'api-export-settlement-lines': {
    kind: 'api',
    description: 'GET /v1/settlements/{id}/lines.csv (CSV export)',
    route: { method: 'GET', path: '/v1/settlements/{id}/lines.csv', auth: 'merchant' },
    access: { table: 'read' },
  },

  // Points (merchant-scoped): docs/api.md "Points".
  'api-grant-points': {
    kind: 'api',
    description: 'POST /v1/customers/{customer_id}/points/grants',
    route: {
      method: 'POST',
      path: '/v1/customers/{customer_id}/points/grants',
      auth: 'merchant',
      jsonObjectBody: true,
    },
    // Announces each grant (points.granted).
    access: { table: 'readwrite', publishesEvents: true },
  },
  'api-get-customer-points': {
    kind: 'api',
    description: 'GET /v1/customers/{customer_id}/points',
    route: { method: 'GET', path: '/v1/customers/{customer_id}/points', auth: 'merchant' },
    access: { table: 'read' },
  },
  'api-list-points-movements': {
    kind: 'api',
    description: 'GET /v1/customers/{customer_id}/points/transactions',
    route: {
      method: 'GET',
      path: '/v1/customers/{customer_id}/points/transactions',
      auth: 'merchant',
      query: ['limit', 'cursor', 'order'],
    },
    access: { table: 'read' },
  },
  // Merchant webhooks (merchant-scoped): docs/api.md "Webhooks".
  'api-create-webhook-endpoint': {
    kind: 'api',
    description: 'POST /v1/webhook_endpoints (the signing secret answered once)',
    route: { method: 'POST', path: '/v1/webhook_endpoints', auth: 'merchant', jsonObjectBody: true },
    access: { table: 'readwrite', webhookSecrets: 'write' },
  },
  'api-list-webhook-endpoints': {
    kind: 'api',
    description: 'GET /v1/webhook_endpoints',
    route: { method: 'GET', path: '/v1/webhook_endpoints', auth: 'merchant' },
    access: { table: 'read' },
  },
  'api-get-webhook-endpoint': {
    kind: 'api',
    description: 'GET /v1/webhook_endpoints/{id}',
    route: { method: 'GET', path: '/v1/webhook_endpoints/{id}', auth: 'merchant' },
    access: { table: 'read' },
  },
  'api-delete-webhook-endpoint': {
    kind: 'api',
    description: 'DELETE /v1/webhook_endpoints/{id} (and its signing secret)',
    route: { method: 'DELETE', path: '/v1/webhook_endpoints/{id}', auth: 'merchant' },
    access: { table: 'readwrite', webhookSecrets: 'write' },
  },
  'api-rotate-webhook-secret': {
    kind: 'api',
    description: 'POST /v1/webhook_endpoints/{id}/rotate_secret (both secrets sign for 24 h)',
    route: { method: 'POST', path: '/v1/webhook_endpoints/{id}/rotate_secret', auth: 'merchant' },
    access: { table: 'readwrite', webhookSecrets: 'write' },
  },
  'api-list-webhook-deliveries': {
    kind: 'api',
    description: 'GET /v1/webhook_endpoints/{id}/deliveries (every attempt)',
    route: {
      method: 'GET',
      path: '/v1/webhook_endpoints/{id}/deliveries',
      auth: 'merchant',
      query: ['limit', 'cursor'],
    },
    access: { table: 'read' },
  },
  'api-retry-webhook-delivery': {
    kind: 'api',
    description: 'POST /v1/webhook_endpoints/{id}/deliveries/{delivery_id}/retry (queued)',
    route: {
      method: 'POST',
      path: '/v1/webhook_endpoints/{id}/deliveries/{delivery_id}/retry',
      auth: 'merchant',
    },
    // Writes only its Idempotency-Key.
    access: { table: 'readwrite', queuesWebhooks: true },
  },

  'saga-verify-cost': {
    kind: 'saga-task',
    description: 'Saga task VerifyCost: order total from the cost service',
    saga: 'payment',
    substitution: 'VerifyCostFunctionArn',
    step: 'verifyCost',
    access: { table: 'readwrite', cost: true, publishesEvents: true },
    timeoutSeconds: SAGA_TIMEOUT_SECONDS,
  },
  'saga-authorize': {
    kind: 'saga-task',
    description: 'Saga task Authorize: KBank create charge',
    saga: 'payment',
    substitution: 'AuthorizeFunctionArn',
    step: 'authorize',
    access: { table: 'readwrite', kbank: true, publishesEvents: true },
    timeoutSeconds: SAGA_TIMEOUT_SECONDS,
  },
  'saga-inquire-authorization': {
    kind: 'saga-task',
    description: 'Saga task InquireAuthorization: KBank inquiry after an unknown outcome',
    saga: 'payment',
    substitution: 'InquireAuthorizationFunctionArn',
    step: 'inquireAuthorization',
    access: { table: 'readwrite', kbank: true, publishesEvents: true },
    timeoutSeconds: SAGA_TIMEOUT_SECONDS,
  },
  'saga-await-action': {
    kind: 'saga-task',
    description: "Saga task AwaitAction (callback): park until KBank reports the customer's step",
    saga: 'payment',
    substitution: 'AwaitActionFunctionArn',
    step: 'awaitAction',
    access: { table: 'readwrite', resumesSaga: true },
    timeoutSeconds: SAGA_TIMEOUT_SECONDS,
  },
  'saga-resolve-action': {
    kind: 'saga-task',
    description: 'Saga task ResolveAction: KBank inquiry after a callback or the end of the action window',
    saga: 'payment',
    substitution: 'ResolveActionFunctionArn',
    step: 'resolveAction',
    access: { table: 'readwrite', kbank: true, publishesEvents: true },
    timeoutSeconds: SAGA_TIMEOUT_SECONDS,
  },
  'saga-await-capture': {
    kind: 'saga-task',
    description: 'Saga task AwaitCapture (callback): park until the merchant captures or cancels',
    saga: 'payment',
    substitution: 'AwaitCaptureFunctionArn',
    step: 'awaitCapture',
    access: { table: 'readwrite', resumesSaga: true },
    timeoutSeconds: SAGA_TIMEOUT_SECONDS,
  },
  'saga-capture': {
    kind: 'saga-task',
    description: 'Saga task Capture: KBank settle',
    saga: 'payment',
    substitution: 'CaptureFunctionArn',
    step: 'capture',
    access: { table: 'readwrite', kbank: true, publishesEvents: true },
    timeoutSeconds: SAGA_TIMEOUT_SECONDS,
  },
  'saga-void': {
    kind: 'saga-task',
    description: 'Saga task Void: KBank void (compensation)',
    saga: 'payment',
    substitution: 'VoidFunctionArn',
    step: 'voidAuthorization',
    access: { table: 'readwrite', kbank: true, publishesEvents: true },
    timeoutSeconds: SAGA_TIMEOUT_SECONDS,
  },
  'saga-fail-payment': {
    kind: 'saga-task',
    description: 'Saga task FailPayment: record the terminal failure',
    saga: 'payment',
    substitution: 'FailPaymentFunctionArn',
    step: 'failPayment',
    access: { table: 'readwrite', publishesEvents: true },
    timeoutSeconds: SAGA_TIMEOUT_SECONDS,
  },
  'saga-reenter': {
    kind: 'saga-task',
    description: 'Saga task Reenter: where a run the reconciliation sweep started takes over',
    saga: 'payment',
    substitution: 'ReenterFunctionArn',
    step: 'reenter',
    access: { table: 'readwrite' },
    timeoutSeconds: SAGA_TIMEOUT_SECONDS,
  },

  'saga-refund-at-kbank': {
    kind: 'saga-task',
    description: 'Refund saga task RefundAtKbank: KBank refund (sent once, marked first)',
    saga: 'refund',
    substitution: 'RefundAtKbankFunctionArn',
    step: 'refundAtKbank',
    access: { table: 'readwrite', kbank: true },
    timeoutSeconds: SAGA_TIMEOUT_SECONDS,
  },
  'saga-inquire-refund': {
    kind: 'saga-task',
    description: "Refund saga task InquireRefund: KBank inquiry of the charge's refunded total",
    saga: 'refund',
    substitution: 'InquireRefundFunctionArn',
    step: 'inquireRefund',
    access: { table: 'readwrite', kbank: true },
    timeoutSeconds: SAGA_TIMEOUT_SECONDS,
  },
  'saga-refund-unresolved': {
    kind: 'saga-task',
    description: 'Refund saga task RefundUnresolved: record the refund as unknown, reservation held',
    saga: 'refund',
    substitution: 'RefundUnresolvedFunctionArn',
    step: 'refundUnresolved',
    access: { table: 'readwrite' },
    timeoutSeconds: SAGA_TIMEOUT_SECONDS,
  },

  'kbank-notifications': {
    kind: 'queue-consumer',
    description: 'Notification processor: KBank callbacks from SQS, re-inquired at KBank, resume the saga',
    queue: 'notifications',
    batchSize: 10,
    access: { table: 'readwrite', kbank: true, resumesSaga: true },
    // The queue's visibility timeout is six times this (lib/stateful-stack.ts): a batch of ten callbacks
    // is ten KBank inquiries of ~0.5 s each.
    timeoutSeconds: 30,
  },

  'settlements-consumer': {
    kind: 'queue-consumer',
    description: 'Settlements consumer: money events from the bus (rule → SQS), booked per merchant and day',
    queue: 'settlements',
    eventTypes: ['payment.captured', 'refund.succeeded'],
    batchSize: 10,
    access: { table: 'readwrite', settlementFees: true },
    timeoutSeconds: 30,
  },

  'webhooks-fanout': {
    kind: 'queue-consumer',
    description:
      'Webhook consumer: payment, refund and points events from the bus (rule → SQS), one delivery per endpoint',
    queue: 'webhook-events',
    // The bus's names (payment.captured is delivered as payment.succeeded): core/webhooks/endpoints.ts.
    eventTypes: [
      'payment.created',
      'payment.requires_action',
      'payment.authorized',
      'payment.captured',
      'payment.failed',
      'payment.rejected',
      'payment.voided',
      'payment.expired',
      'payment.canceled',
      'payment.capture_requested',
      'payment.amount_changed',
      'refund.succeeded',
      'refund.failed',
      'points.granted',
      'points.reserved',
      'points.committed',
      'points.released',
      'points.refunded',
    ],
    batchSize: 10,
    access: { table: 'readwrite', queuesWebhooks: true },
    timeoutSeconds: 30,
  },
  'webhooks-deliver': {
    kind: 'queue-consumer',
    description: 'Webhook delivery: one signed POST per message, retried with backoff for 4.4 days, then DLQ',
    queue: 'webhook-deliveries',
    batchSize: 10,
    access: {
      table: 'readwrite',
      webhookSecrets: 'read',
      queuesWebhooks: true,
      deliversWebhooks: true,
      publishesEvents: true,
    },
    // Ten attempts in parallel, each at most 10 s (DELIVERY_TIMEOUT_MS), plus the table and the queue.
    timeoutSeconds: 30,
  },

  'ops-sweep': {
    kind: 'schedule',
    description:
      'Reconciliation sweep (scheduled): restart dead or lost sagas of overdue payments and refunds; ask KBank once more after unanswered charge calls',
    // One missed run is harmless: the next one finds the same items.
    schedule: { rateMinutes: 1 },
    retryAttempts: 0,
    // KBank only for the late-charge check of a payment that failed on unanswered charge calls.
    access: { table: 'readwrite', sweeps: true, kbank: true },
    timeoutSeconds: 120,
  },
  'ops-reconcile-kbank': {
    kind: 'schedule',
    description:
      "Daily KBank reconciliation (scheduled): KBank's transaction list against our attempts and refunds",
    // The day before, once KBank's list for it is complete: 03:00 in Bangkok.
    schedule: { cron: { minute: '0', hour: '3', timeZone: 'Asia/Bangkok' } },
    retryAttempts: 2,
    access: { table: 'readwrite', kbank: true, publishesEvents: true },
    timeoutSeconds: 600,
  },
  'settlements-close': {
    kind: 'schedule',
    description:
      'Settlement close (scheduled): settlements of ended Bangkok days closed, settlement.closed published',
    // Hourly: a Bangkok day ends at 00:00 (17:00 UTC) and is closed by 00:05; a failed run is caught up an hour later.
    schedule: { cron: { minute: '5', hour: '*', timeZone: 'Asia/Bangkok' } },
    retryAttempts: 2,
    access: { table: 'readwrite', publishesEvents: true },
    timeoutSeconds: 120,
  },
} as const satisfies Record<string, FunctionSpec>;

export type FunctionName = keyof typeof CATALOG;
export const FUNCTION_NAMES = Object.keys(CATALOG) as FunctionName[];

type Catalog = typeof CATALOG;
/** The names of the functions whose entry has this shape, e.g. `NamesWhere<{ kind: 'api' }>`. */
export type NamesWhere<Shape> = { [N in FunctionName]: Catalog[N] extends Shape ? N : never }[FunctionName];

/** The catalog's entries of one kind, in catalog order, with their names. */
export function functionsOf<K extends FunctionSpec['kind']>(
  kind: K,
): (Extract<FunctionSpec, { kind: K }> & { name: NamesWhere<{ kind: K }> })[] {
  return FUNCTION_NAMES.flatMap((name) => {
    const spec: FunctionSpec = CATALOG[name];
    if (spec.kind !== kind) return [];
    return [{ ...(spec as Extract<FunctionSpec, { kind: K }>), name: name as NamesWhere<{ kind: K }> }];
  });
}

/** The Lambda tasks of one state machine, in catalog order. */
export function sagaTasksOf(saga: SagaName) {
  return functionsOf('saga-task').filter((task) => task.saga === saga);
}

/** A function's handler module: `<handlersDir>/<name>.ts`, relative to the project root. */
export function handlerModule(name: FunctionName, handlersDir = 'functions/handlers'): string {
  return `${handlersDir}/${name}.ts`;
}
