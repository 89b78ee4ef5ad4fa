/**
 * The composition root: how each function's dependencies are made from the edges, the one part that differs
 * between AWS (container.ts) and the local stack (local/stack.ts). Every bundle names the edges it is built
 * from, so a function builds only the clients it uses. No AWS SDK here: the edges bring their own.
 */
import type { CATALOG, FunctionName } from '../catalog.js';
import type { ManualCaptureDeps } from '../core/flows/merchant-requests.js';
import { DEFAULT_POLICY } from '../core/flows/payment-step.js';
import type { SagaTaskDeps } from '../core/flows/payment-task.js';
import { DEFAULT_REFUND_POLICY, type RefundSagaDeps } from '../core/flows/refund-step.js';
import type { IdGenerator } from '../core/ids.js';
import type { PointsLedger } from '../core/points.js';
import type {
  Clock,
  CostService,
  EventPublisher,
  IdempotencyStore,
  Kbank,
  NotificationQueue,
  SagaRuns,
  TaskNotifier,
} from '../core/ports.js';
import type { SweepPolicy } from '../core/reconciliation.js';
import { DEFAULT_FEE_SCHEDULE, type FeeSchedule, type SettlementStore } from '../core/settlements.js';
import { DEFAULT_CAPTURE_WINDOW_SECONDS } from '../core/time-windows.js';
import type { CreatePaymentDeps } from '../core/use-cases/api/create-payment.js';
import type { CreateRefundDeps } from '../core/use-cases/api/create-refund.js';
import type {
  CallbackIntakeDeps,
  CallbackProcessorDeps,
} from '../core/use-cases/callbacks/kbank-callbacks.js';
import type { ReconcileDeps } from '../core/use-cases/operations/reconcile-kbank.js';
import type { SweepDeps } from '../core/use-cases/operations/sweep.js';
import type { PointsPrograms } from '../core/use-cases/points/customer-points.js';
import type { CloseSettlementsDeps } from '../core/use-cases/settlements/close-settlements.js';
import type { ReadSettlementsDeps } from '../core/use-cases/settlements/read-settlements.js';
import type { RecordMovementDeps } from '../core/use-cases/settlements/record-movement.js';
import type { DeliverDeps } from '../core/use-cases/webhooks/deliver.js';
import type { FanOutDeps } from '../core/use-cases/webhooks/fan-out.js';
import type { ManageEndpointsDeps } from '../core/use-cases/webhooks/manage-endpoints.js';
import type { ReadDeliveriesDeps, RetryDeliveryDeps } from '../core/use-cases/webhooks/read-deliveries.js';
import type { EndpointPolicy } from '../core/webhooks/endpoint-url.js';
import type {
  WebhookQueue,
  WebhookSecrets,
  WebhookSender,
  WebhookStore,
} from '../core/webhooks/endpoints.js';
import type { DynamoTable } from './dynamo-repository.js';
import { createNotifyReader } from './kbank-notify.js';

/** What the stage configures (environment variables on AWS, options locally); every field has a default. */
export interface Settings {
  /** Manual capture: how long an authorization waits for the merchant. Default DEFAULT_CAPTURE_WINDOW_SECONDS. */
  captureWindowSeconds?: number;
  /** How long the customer has for a QR or a redirect (create-payment's defaults: 600 s / 900 s). */
  actionWindows?: { qrSeconds?: number; redirectSeconds?: number };
  /** Deadlines and restart schedule of the reconciliation sweep. Default DEFAULT_SWEEP_POLICY. */
  sweepPolicy?: SweepPolicy;
  /** After giving up on unanswered charge calls, when the sweep asks KBank once more. Default in DEFAULT_POLICY. */
  lateChargeCheckSeconds?: number;
  /** The settlements' fee table (SETTLEMENT_FEES). Default DEFAULT_FEE_SCHEDULE. */
  settlementFees?: FeeSchedule;
  /** Which webhook URLs are allowed (WEBHOOK_ENDPOINT_POLICY). Default `public`. */
  webhookEndpointPolicy?: EndpointPolicy;
  /** The webhook retry schedule in seconds (WEBHOOK_RETRY_SCHEDULE_SECONDS). Default RETRY_SCHEDULE_SECONDS. */
  webhookRetryScheduleSeconds?: readonly number[];
  /** Multiplies every delay of the webhook retry schedule (the local stack's tests). Default 1. */
  webhookRetryScale?: number;
}

/**
 * Where each port goes. Every edge is a function the provider makes idempotent (one client per container),
 * and it is called only when a bundle that needs it is first built.
 */
export interface Edges {
  clock: Clock;
  ids: IdGenerator;
  settings: () => Settings;
  /** The single table (DynamoDB, or DynamoDB Local). */
  table: () => DynamoTable;
  /** KBank's payment gateway (or its simulator); on AWS it reads its secret on the first call. */
  kbank: () => Kbank;
  /** The KBank secret key, which also keys the notify checksum. */
  kbankSecret: () => Promise<string>;
  cost: () => CostService;
  /** The payment saga's runs: StartExecution, DescribeExecution. */
  paymentRuns: () => SagaRuns;
  /** The refund saga's runs. */
  refundRuns: () => SagaRuns;
  /** Resumes a saga parked on a task token: SendTaskSuccess, SendTaskFailure. */
  tasks: () => TaskNotifier;
  /** The KBank notification queue (SQS, or the in-process queue). */
  notifications: () => NotificationQueue;
  /** The payments bus (EventBridge, or the local bus). */
  events: () => EventPublisher;
  /** Settlements and their lines, on the single table. */
  settlements: () => SettlementStore;
  /** Webhook endpoints and deliveries, on the single table. */
  webhooks: () => WebhookStore;
  /** The endpoints' signing secrets (Secrets Manager, or the local stack's store). */
  webhookSecrets: () => WebhookSecrets;
  /** The webhook delivery queue (SQS, or the local delayed queue). */
  webhookQueue: () => WebhookQueue;
  /** Outbound HTTP to merchants' endpoints. */
  webhookSender: () => WebhookSender;
  /** The points ledger and the merchants' points programs, on the single table. */
  points: () => PointsStores;
}

/** The points ledger (balances, movements, holds) and the merchants' programs. */
export interface PointsStores {
  ledger: PointsLedger;
  programs: PointsPrograms;
}

/** A bundle's builder takes only the edges it uses: what it is not given, it cannot build. */
type From<K extends keyof Edges> = Pick<Edges, K>;

export function createPaymentDeps(
  e: From<'table' | 'paymentRuns' | 'clock' | 'ids' | 'settings' | 'points'>,
): CreatePaymentDeps {
  const { captureWindowSeconds, actionWindows } = e.settings();
  const table = e.table();
  return {
    repo: table,
    idempotency: table,
    workflow: e.paymentRuns(),
    clock: e.clock,
    ids: e.ids,
    // Built on the first payment with points only.
    points: {
      ledger: { balance: (merchantId, customerId) => e.points().ledger.balance(merchantId, customerId) },
      programs: { program: (merchantId) => e.points().programs.program(merchantId) },
    },
    ...(captureWindowSeconds ? { captureWindowSeconds } : {}),
    ...(actionWindows ? { actionWindows } : {}),
  };
}

export function manualCaptureDeps(e: From<'table' | 'tasks' | 'clock'>): ManualCaptureDeps {
  const table = e.table();
  return { repo: table, idempotency: table, tasks: e.tasks(), clock: e.clock };
}

export function changeAmountDeps(
  e: From<'table' | 'tasks' | 'cost' | 'clock'>,
): ManualCaptureDeps & { cost: CostService } {
  return { ...manualCaptureDeps(e), cost: e.cost() };
}

/** The edges a saga task may be given or not, each by the catalog access that grants it. */
type SagaGrants = { kbank: 'kbank'; cost: 'cost'; publishesEvents: 'events'; resumesSaga: 'tasks' };
type OptionalSagaEdge = SagaGrants[keyof SagaGrants];

/**
 * The optional edges a saga task's catalog access grants: `kbank: true` → `kbank`, `cost: true` → `cost`,
 * `publishesEvents: true` → `events`, `resumesSaga: true` → `tasks`.
 */
export type GrantedSagaEdges<N extends FunctionName> = {
  [K in keyof SagaGrants]: (typeof CATALOG)[N]['access'] extends { [P in K]: true } ? SagaGrants[K] : never;
}[keyof SagaGrants];

/** A saga task's edges: the table, clock and settings always; the others only where its access grants them. */
export type SagaEdges = From<'table' | 'clock' | 'settings'> & Partial<From<OptionalSagaEdge>>;

/**
 * A port the function was not given (its catalog access grants no such edge, so IAM would refuse it
 * too): every call fails, naming the edge, and no client is built or bundled for it.
 */
function notGranted<T extends object>(edge: OptionalSagaEdge): T {
  return new Proxy({} as T, {
    get: (_target, property) =>
      typeof property === 'symbol' || property === 'then'
        ? undefined
        : async () => {
            throw new Error(
              `this function was not given the ${edge} edge (its catalog access does not grant it), called ${property}`,
            );
          },
  });
}

export function sagaDeps(e: SagaEdges): SagaTaskDeps {
  const { lateChargeCheckSeconds } = e.settings();
  const { kbank, cost, tasks, events } = e;
  return {
    repo: e.table(),
    kbank: kbank ? kbank() : notGranted('kbank'),
    cost: cost ? cost() : notGranted('cost'),
    clock: e.clock,
    policy: { ...DEFAULT_POLICY, ...(lateChargeCheckSeconds ? { lateChargeCheckSeconds } : {}) },
    // Only the parked tasks resume the saga: the others never build its client.
    tasks: tasks
      ? {
          succeed: (token, output) => tasks().succeed(token, output),
          fail: (token, error, cause) => tasks().fail(token, error, cause),
        }
      : notGranted('tasks'),
    // Each step publishes its own events once its change is recorded; one that records none never builds it.
    events: events ? { publish: (entries) => events().publish(entries) } : notGranted('events'),
  };
}

export function createRefundDeps(e: From<'table' | 'refundRuns' | 'clock' | 'ids'>): CreateRefundDeps {
  const table = e.table();
  return { repo: table, idempotency: table, workflow: e.refundRuns(), clock: e.clock, ids: e.ids };
}

/** A refund saga task's bundle; `kbank` only where its catalog access grants it (as for sagaDeps). */
export function refundSagaDeps(e: From<'table' | 'clock'> & Partial<From<'kbank'>>): RefundSagaDeps {
  return {
    repo: e.table(),
    kbank: e.kbank ? e.kbank() : notGranted('kbank'),
    clock: e.clock,
    policy: DEFAULT_REFUND_POLICY,
  };
}

/** The KBank notify endpoint: checksum (the secret), then the queue. */
export function callbackIntakeDeps(
  e: From<'table' | 'notifications' | 'kbankSecret' | 'clock'>,
): CallbackIntakeDeps {
  return {
    repo: e.table(),
    queue: e.notifications(),
    notify: createNotifyReader(e.kbankSecret),
    clock: e.clock,
  };
}

/** The 3-D Secure browser return: it only queues (no table, no secret). */
export function browserReturnDeps(
  e: From<'notifications' | 'clock'>,
): Pick<CallbackIntakeDeps, 'queue' | 'clock'> {
  return { queue: e.notifications(), clock: e.clock };
}

export function callbackProcessorDeps(e: From<'table' | 'kbank' | 'tasks' | 'clock'>): CallbackProcessorDeps {
  return { repo: e.table(), kbank: e.kbank(), tasks: e.tasks(), clock: e.clock };
}

/** The reconciliation sweep: the due index, and runs of both sagas. */
export function sweepDeps(
  e: From<'table' | 'kbank' | 'paymentRuns' | 'refundRuns' | 'clock' | 'settings'>,
): SweepDeps {
  const { captureWindowSeconds, sweepPolicy } = e.settings();
  return {
    repo: e.table(),
    kbank: e.kbank(),
    payments: e.paymentRuns(),
    refunds: e.refundRuns(),
    clock: e.clock,
    captureWindowSeconds: captureWindowSeconds ?? DEFAULT_CAPTURE_WINDOW_SECONDS,
    ...(sweepPolicy ? { policy: sweepPolicy } : {}),
  };
}

/** The daily KBank reconciliation: KBank's list (and inquiries, refunds, voids), the table, the bus. */
export function reconcileDeps(e: From<'table' | 'kbank' | 'events' | 'clock'>): ReconcileDeps {
  return { repo: e.table(), kbank: e.kbank(), events: e.events(), clock: e.clock };
}

/** The settlements consumer: the payment an event names, the settlement it is booked on, the fee table. */
export function settlementsConsumerDeps(
  e: From<'table' | 'settlements' | 'clock' | 'settings'>,
): RecordMovementDeps {
  return {
    settlements: e.settlements(),
    payments: e.table(),
    fees: e.settings().settlementFees ?? DEFAULT_FEE_SCHEDULE,
    clock: e.clock,
  };
}

/** The scheduled close: the settlements, and the bus for `settlement.closed`. */
export function settlementsCloseDeps(e: From<'settlements' | 'events' | 'clock'>): CloseSettlementsDeps {
  return { settlements: e.settlements(), events: e.events(), clock: e.clock };
}

/** The points API: the ledger and programs, and the Idempotency-Key store for grants. */
export interface PointsApiDeps extends PointsStores {
  idempotency: IdempotencyStore;
  clock: Clock;
}

export function pointsApiDeps(e: From<'table' | 'points' | 'clock'>): PointsApiDeps {
  return { ...e.points(), idempotency: e.table(), clock: e.clock };
}

/** A grant: the points API's, and the bus it announces the grant on. */
export interface GrantPointsApiDeps extends PointsApiDeps {
  events: EventPublisher;
}

export function grantPointsDeps(e: From<'table' | 'points' | 'events' | 'clock'>): GrantPointsApiDeps {
  return { ...pointsApiDeps(e), events: e.events() };
}

/** The endpoint registry: endpoints in the table, their secrets in the secret store. */
export function manageWebhooksDeps(
  e: From<'table' | 'webhooks' | 'webhookSecrets' | 'clock' | 'ids' | 'settings'>,
): ManageEndpointsDeps {
  return {
    webhooks: e.webhooks(),
    secrets: e.webhookSecrets(),
    idempotency: e.table(),
    clock: e.clock,
    ids: e.ids,
    endpointPolicy: e.settings().webhookEndpointPolicy ?? 'public',
  };
}

/** A delivery resent by hand: queued for the delivery consumer. */
export function retryWebhookDeps(
  e: From<'table' | 'webhooks' | 'webhookQueue' | 'clock'>,
): RetryDeliveryDeps {
  return { webhooks: e.webhooks(), queue: e.webhookQueue(), idempotency: e.table(), clock: e.clock };
}

/** The webhook consumer of the bus: the payment's merchant, its endpoints, the delivery queue. */
export function webhookFanOutDeps(
  e: From<'table' | 'webhooks' | 'webhookQueue' | 'clock' | 'ids'>,
): FanOutDeps {
  return {
    webhooks: e.webhooks(),
    queue: e.webhookQueue(),
    payments: e.table(),
    clock: e.clock,
    newDeliveryId: () => e.ids('whd'),
  };
}

/** The delivery consumer: the delivery, the secrets that sign it, the HTTP call, retries and notices. */
export function webhookDeliverDeps(
  e: From<'webhooks' | 'webhookSecrets' | 'webhookQueue' | 'webhookSender' | 'events' | 'clock' | 'settings'>,
): DeliverDeps {
  const { webhookRetryScheduleSeconds, webhookRetryScale } = e.settings();
  return {
    webhooks: e.webhooks(),
    secrets: e.webhookSecrets(),
    queue: e.webhookQueue(),
    sender: e.webhookSender(),
    // Only a delivery that failed for good (or a disabled endpoint) publishes: the others never build it.
    events: { publish: (entries) => e.events().publish(entries) },
    clock: e.clock,
    random: Math.random,
    ...(webhookRetryScheduleSeconds ? { retryScheduleSeconds: webhookRetryScheduleSeconds } : {}),
    ...(webhookRetryScale ? { retryScale: webhookRetryScale } : {}),
  };
}

/** Every bundle, each built on first use and then kept: what a handler's `createHandler(deps)` takes. */
export interface Dependencies {
  /** Reads (and the authorizer's merchant lookup): the table alone. */
  table: () => DynamoTable;
  createPayment: () => CreatePaymentDeps;
  manualCapture: () => ManualCaptureDeps;
  changeAmount: () => ManualCaptureDeps & { cost: CostService };
  saga: () => SagaTaskDeps;
  createRefund: () => CreateRefundDeps;
  refundSaga: () => RefundSagaDeps;
  callbackIntake: () => CallbackIntakeDeps;
  browserReturn: () => Pick<CallbackIntakeDeps, 'queue' | 'clock'>;
  callbackProcessor: () => CallbackProcessorDeps;
  sweep: () => SweepDeps;
  reconcile: () => ReconcileDeps;
  settlementsConsumer: () => RecordMovementDeps;
  settlementsClose: () => CloseSettlementsDeps;
  /** The settlements API: the store alone. */
  settlementsRead: () => ReadSettlementsDeps;
  /** The points API (grants, balances, ledger). */
  pointsApi: () => PointsApiDeps;
  grantPoints: () => GrantPointsApiDeps;
  manageWebhooks: () => ManageEndpointsDeps;
  /** An endpoint's deliveries: the table alone. */
  readWebhookDeliveries: () => ReadDeliveriesDeps;
  retryWebhook: () => RetryDeliveryDeps;
  webhookFanOut: () => FanOutDeps;
  webhookDeliver: () => DeliverDeps;
}

/** All bundles on one set of edges (the local stack; AWS wires each function's bundle alone, container.ts). */
export function composeDependencies(edges: Edges): Dependencies {
  return {
    table: edges.table,
    createPayment: once(() => createPaymentDeps(edges)),
    manualCapture: once(() => manualCaptureDeps(edges)),
    changeAmount: once(() => changeAmountDeps(edges)),
    saga: once(() => sagaDeps(edges)),
    createRefund: once(() => createRefundDeps(edges)),
    refundSaga: once(() => refundSagaDeps(edges)),
    callbackIntake: once(() => callbackIntakeDeps(edges)),
    browserReturn: once(() => browserReturnDeps(edges)),
    callbackProcessor: once(() => callbackProcessorDeps(edges)),
    sweep: once(() => sweepDeps(edges)),
    reconcile: once(() => reconcileDeps(edges)),
    settlementsConsumer: once(() => settlementsConsumerDeps(edges)),
    settlementsClose: once(() => settlementsCloseDeps(edges)),
    settlementsRead: once(() => ({ settlements: edges.settlements() })),
    pointsApi: once(() => pointsApiDeps(edges)),
    grantPoints: once(() => grantPointsDeps(edges)),
    manageWebhooks: once(() => manageWebhooksDeps(edges)),
    readWebhookDeliveries: once(() => ({ webhooks: edges.webhooks() })),
    retryWebhook: once(() => retryWebhookDeps(edges)),
    webhookFanOut: once(() => webhookFanOutDeps(edges)),
    webhookDeliver: once(() => webhookDeliverDeps(edges)),
  };
}

/** `build` runs on the first call; every later call returns what it built. */
export function once<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}

/** Like `once` for a promise, except that a failure is not kept: the next call tries again. */
export function onceAsync<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= build().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
