/**
 * The embedded local stack: DynamoDB Local, one ASL runner per saga executing its statemachines/ file
 * with the real task handlers, the KBank and cost-service simulators, a local event bus, a local Step
 * Functions endpoint, the callback queue and the API server in front of the real API handlers. Every
 * function comes from the catalog (functions/catalog.ts) and gets its dependencies from the same
 * composition root as on AWS (functions/adapters/dependencies.ts): only the edges differ. The edges also
 * count what AWS would bill (local/counters.ts), served at `GET /_local/counters`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayTokenAuthorizerEvent,
  Context,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';
import { createCostClient } from '../functions/adapters/cost-client.js';
import {
  composeDependencies,
  type Dependencies,
  type Edges,
  once,
  type Settings,
} from '../functions/adapters/dependencies.js';
import { DynamoPointsLedger, DynamoPointsPrograms } from '../functions/adapters/dynamo-points.js';
import {
  createDocumentClient,
  DEFAULT_SEARCH_BUDGET,
  type DynamoTable,
  dynamoTable,
  keys,
} from '../functions/adapters/dynamo-repository.js';
import { DynamoSettlementStore } from '../functions/adapters/dynamo-settlements.js';
import { DynamoWebhookStore } from '../functions/adapters/dynamo-webhooks.js';
import { createKbankClient } from '../functions/adapters/kbank-client.js';
import { StepFunctionsTasks, StepFunctionsWorkflow } from '../functions/adapters/sfn-workflow.js';
import { TABLE_DESIGN } from '../functions/adapters/table-design.js';
import { createWebhookSender } from '../functions/adapters/webhook-sender.js';
import {
  CATALOG,
  FUNCTION_NAMES,
  type FunctionName,
  functionsOf,
  type SagaName,
  sagaTasksOf,
} from '../functions/catalog.js';
import { hashApiKey, keyPrefix, newApiKey } from '../functions/core/api-keys.js';
import { ulid, ulidIds } from '../functions/core/ids.js';
import { PLANS, type PlanName, type PlanTable } from '../functions/core/plans.js';
import { type Clock, type EventPublisher, systemClock } from '../functions/core/ports.js';
import { DEFAULT_SWEEP_POLICY, type SweepPolicy } from '../functions/core/reconciliation.js';
import type { ReconciliationRun } from '../functions/core/repository.js';
import type { FeeSchedule } from '../functions/core/settlements.js';
import { reconcileKbank } from '../functions/core/use-cases/operations/reconcile-kbank.js';
import { type SweepReport, sweep } from '../functions/core/use-cases/operations/sweep.js';
import {
  type CloseReport,
  closeSettlements,
} from '../functions/core/use-cases/settlements/close-settlements.js';
import { problemPageResponse } from '../functions/handlers/problem-pages.js';
import type { KbankCallback } from '../schemas/callbacks.js';
import { EVENT_SOURCE } from '../schemas/events.js';
import type { WebhookDeliveryMessage } from '../schemas/webhooks.js';
import { type ApiServer, type Route, startApiServer } from './api-server.js';
import { type AslRunner, createAslRunner, startSfnEndpoint } from './asl-runner.js';
import { type CostSimulator, startCostSimulator } from './cost-simulator.js';
import { aslMeter, createUsageCounters, disabledUsageCounters, type UsageCounters } from './counters.js';
import { createTable, localDynamoClientConfig, PID_FILE_NAME, startDynamoDbLocal } from './dynamodb-local.js';
import { createLocalEventBus, type LocalEvent, type LocalEventBus } from './event-bus.js';
import { grantedEdges } from './grants.js';
import { type KbankSimulator, startKbankSimulator } from './kbank-simulator.js';
import { lambdaContext } from './lambda-context.js';
import { createLocalQueue, type LocalDelivery, type LocalQueue } from './queue.js';
import { createLocalWebhookQueue, createLocalWebhookSecrets, type LocalWebhookQueue } from './webhooks.js';

const OPENAPI_PATH = new URL('../docs/openapi.json', import.meta.url);
const LOCAL_ACCOUNT = '000000000000';
const LOCAL_REGION = 'us-east-1';
const STATE_MACHINE_ARN = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:payment-saga`;
const REFUND_STATE_MACHINE_ARN = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:refund-saga`;
/** Each saga's definition and the ARN its runner answers to. */
const SAGAS: Record<SagaName, { definition: URL; arn: string }> = {
  payment: {
    definition: new URL('../statemachines/payment.asl.json', import.meta.url),
    arn: STATE_MACHINE_ARN,
  },
  refund: {
    definition: new URL('../statemachines/refund.asl.json', import.meta.url),
    arn: REFUND_STATE_MACHINE_ARN,
  },
};

export interface LocalStackOptions {
  /** 0 picks free ports (tests); the launcher uses fixed defaults. */
  apiPort?: number;
  kbankPort?: number;
  costPort?: number;
  sfnPort?: number;
  dynamodbPort?: number;
  /** Use an already running DynamoDB Local instead of starting one. */
  dynamodbEndpoint?: string;
  /** Keep DynamoDB's data in this folder between runs (default: in memory). */
  persistDir?: string;
  /**
   * The stack's own files: DynamoDB Local's pidfile; with persistDir also the KBank simulator's state and
   * the callback queue. Default: persistDir.
   */
  stateDir?: string;
  tableName?: string;
  /** Multiplier for Wait states and Retry intervals: 1 as in AWS, 0 so tests never sleep. */
  waitScale?: number;
  kbankTimeoutMs?: number;
  /** How long the simulator's timeout-after-success card holds its answer. */
  kbankHangMs?: number;
  costTimeoutMs?: number;
  clock?: Clock;
  /** Manual capture: how long an authorization waits for the merchant (default 6.5 days). */
  captureWindowSeconds?: number;
  /** How long the customer has for a QR or a redirect (defaults 600 s / 900 s); tests use seconds. */
  actionWindows?: { qrSeconds?: number; redirectSeconds?: number };
  /** The notification queue redelivers a failed callback after this long (default 1000 ms). */
  callbackRetryMs?: number;
  /**
   * The authorizer's result cache, as API Gateway's (default 60 s, the CDK stack's): a revoked or expired
   * key keeps working this long for a client whose Allow is cached. 0 disables it.
   */
  authorizerCacheSeconds?: number;
  /** The plans' limits the local API holds merchants to (default PLANS, as the usage plans in AWS). */
  plans?: PlanTable;
  /** The demo merchant's plan (default enterprise: 200 requests/s, bursts of 400). */
  demoPlan?: PlanName;
  /** What one point of the demo merchant's points program is worth, in satang (default DEMO_POINT_VALUE). */
  pointValue?: number;
  /** Demo merchant's API key; random when absent. */
  apiKey?: string;
  /** Runs the reconciliation sweep this often (EventBridge Scheduler on AWS); 0 or absent: only on demand. */
  sweepIntervalMs?: number;
  /** Deadlines and restart schedule of the sweep (default DEFAULT_SWEEP_POLICY). */
  sweepPolicy?: SweepPolicy;
  /**
   * After a payment failed on unanswered charge calls, when the sweep asks KBank once more for a call that
   * landed late (default LOCAL_LATE_CHARGE_CHECK_SECONDS; 300 s on AWS).
   */
  lateChargeCheckSeconds?: number;
  /**
   * Count what AWS would bill (local/counters.ts), served at `GET /_local/counters`. Default off: the
   * counting's async context costs the whole process a few per cent of CPU, which timing-bound suites and
   * throughput runs that do not want the figures should not pay. `npm run bench` turns it on.
   */
  countUsage?: boolean;
  /**
   * On start, sweep every open payment and refund at once, whatever its deadline: this stack's executions
   * died with the previous process, so nothing else would resume them. Default: when persisting.
   */
  recoverOnStart?: boolean;
  /** Runs the settlement close this often (EventBridge Scheduler, hourly, on AWS); 0 or absent: only on demand. */
  settlementCloseIntervalMs?: number;
  /** The settlements' fee table (default DEFAULT_FEE_SCHEDULE). */
  settlementFees?: FeeSchedule;
  /**
   * Multiplies every delay of the webhook retry schedule (default 1, as on AWS: 5 s, 5 min, 30 min, …);
   * tests pass e.g. 0.001 to run the whole 4-day schedule in a few seconds.
   */
  webhookRetryScale?: number;
  /** The webhook retry schedule in seconds (default RETRY_SCHEDULE_SECONDS). */
  webhookRetryScheduleSeconds?: readonly number[];
}

export interface LocalStack {
  apiUrl: string;
  kbankUrl: string;
  costUrl: string;
  sfnUrl: string;
  dynamodbEndpoint: string;
  tableName: string;
  merchant: { id: string; name: string; apiKey: string };
  kbankPublicKey: string;
  runner: AslRunner;
  /** Runs statemachines/refund.asl.json: one execution per refund, named by the refund id. */
  refundRunner: AslRunner;
  bus: LocalEventBus;
  /**
   * What AWS would bill, counted since the stack was ready or the last reset, per payment and function
   * (also `GET /_local/counters` and `POST /_local/counters/reset` on the API); with `countUsage` only.
   */
  counters: UsageCounters;
  /** The KBank callback queue (SQS on AWS): `idle()` waits until every callback is processed. */
  callbacks: LocalQueue<KbankCallback>;
  kbank: KbankSimulator;
  cost: CostSimulator;
  repo: DynamoTable;
  dynamodb: DynamoDBClient;
  /** One pass of the reconciliation sweep now (what the scheduled function does); `dueBefore` default now. */
  sweep(options?: { dueBefore?: string; limit?: number }): Promise<SweepReport>;
  /**
   * The recovery pass on start (null when it does not run). It runs behind the ready stack, one restart at a
   * time, so the API answers while the restarted sagas catch up.
   */
  recovered: Promise<SweepReport> | null;
  /** The daily KBank reconciliation for one Bangkok business day (what the scheduled function does). */
  reconcile(date: string): Promise<ReconciliationRun>;
  /**
   * The settlements consumer's queue (SQS behind an EventBridge rule on AWS), fed by the bus with the
   * catalog entry's event types: `idle()` waits until every money event is booked.
   */
  settlementEvents: LocalQueue<EventBridgeEnvelope>;
  /** One run of the settlement close now (what the scheduled function does), on the stack's clock. */
  closeSettlements(): Promise<CloseReport>;
  /** The webhook consumer's queue (SQS behind a rule on AWS), fed by the bus with its catalog event types. */
  webhookEvents: LocalQueue<EventBridgeEnvelope>;
  /** The webhook delivery queue (SQS on AWS): delayed retries, and the dead letters of spent schedules. */
  webhookDeliveries: LocalWebhookQueue;
  close(): Promise<void>;
}

/** An event as an EventBridge rule's SQS target delivers it: the whole envelope, the detail inside. */
export interface EventBridgeEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** The simulator's secret key (test-only, not a secret): the ops CLI uses it against a local stack. */
export const KBANK_SECRET = 'skey_test_local';
const KBANK_PUBLIC = 'pkey_test_local';
/** The recovery pass restarts one saga every this many ms, so a stack with hundreds open stays responsive. */
const RECOVERY_PACE_MS = 20;
/** Locally a late-landing charge is looked for 20 s after the payment failed (a developer waits for it). */
export const LOCAL_LATE_CHARGE_CHECK_SECONDS = 20;
/** The demo merchant's points program: 1 point = 100 satang (1.00 THB). */
export const DEMO_POINT_VALUE = 100;
const COST_API_KEY = 'cost_test_local';
/** `PAYMENT#`: every item of a payment (its record, attempts, audit trail, refunds) lives under it. */
const PAYMENT_KEY_PREFIX = keys.payment('').PK;

/** A fresh test key (tests' second merchants). */
export const randomApiKey = (): string => newApiKey('test');

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closeOne of closers.reverse()) await closeOne().catch(() => undefined);
  };
  try {
    const clock = options.clock ?? systemClock;
    const stateDir = options.stateDir ?? options.persistDir;
    // Persisting: KBank's state and the undelivered callbacks survive a crash, like DynamoDB's data.
    const kept = (file: string) =>
      options.persistDir && stateDir ? { statePath: join(stateDir, file) } : {};
    let dynamodbEndpoint = options.dynamodbEndpoint;
    if (!dynamodbEndpoint) {
      const ddb = await startDynamoDbLocal({
        port: options.dynamodbPort ?? 0,
        ...(options.persistDir ? { dbPath: options.persistDir } : {}),
        ...(stateDir ? { pidFile: join(stateDir, PID_FILE_NAME) } : {}),
      });
      closers.push(() => ddb.stop());
      dynamodbEndpoint = ddb.endpoint;
    }
    const counters = options.countUsage
      ? createUsageCounters({
          table: {
            partitionKey: TABLE_DESIGN.partitionKey,
            sortKey: TABLE_DESIGN.sortKey,
            indexes: TABLE_DESIGN.globalSecondaryIndexes,
          },
          paymentOfKey: (key) =>
            key.startsWith(PAYMENT_KEY_PREFIX) && key.length > PAYMENT_KEY_PREFIX.length
              ? key.slice(PAYMENT_KEY_PREFIX.length)
              : undefined,
        })
      : disabledUsageCounters();
    // The one client every function and the runners' DynamoDB tasks use: counted at its middleware.
    const dynamodb = new DynamoDBClient(localDynamoClientConfig(dynamodbEndpoint));
    counters.attachTo(dynamodb);
    closers.push(async () => dynamodb.destroy());
    const tableName = options.tableName ?? 'payments';
    await createTable(dynamodb, tableName);
    // A table this stack starts empty is written only through it: its units need no guess (local/capacity.ts).
    if (counters.enabled) {
      const { Count } = await dynamodb.send(new ScanCommand({ TableName: tableName, Limit: 1 }));
      if (Count === 0) counters.watchFromEmpty(tableName);
    }
    const sweepPolicy = options.sweepPolicy ?? DEFAULT_SWEEP_POLICY;
    const repo = dynamoTable(createDocumentClient(dynamodb), tableName, DEFAULT_SEARCH_BUDGET, sweepPolicy);

    const kbank = await startKbankSimulator({
      port: options.kbankPort ?? 0,
      secretKey: KBANK_SECRET,
      publicKey: KBANK_PUBLIC,
      ...(options.kbankHangMs === undefined ? {} : { hangMs: options.kbankHangMs }),
      now: () => clock.now(),
      ...kept('kbank-simulator.json'),
    });
    closers.push(() => kbank.close());
    const cost = await startCostSimulator({ port: options.costPort ?? 0, apiKey: COST_API_KEY });
    closers.push(() => cost.close());

    const bus = createLocalEventBus({
      onPutEvents: ({ accepted }) =>
        counters.add((usage) => {
          usage.events.putEventsCalls += 1;
          usage.events.entries += accepted;
        }),
    });
    // Started below, after the runners whose handlers need them: the edges reach them on first use.
    let sfnClient: SFNClient | undefined;
    let callbacks: LocalQueue<KbankCallback> | undefined;
    const started = <T>(what: string, value: T | undefined): T => {
      if (value === undefined) throw new Error(`the local ${what} is not started yet`);
      return value;
    };
    const settings: Settings = {
      ...(options.captureWindowSeconds ? { captureWindowSeconds: options.captureWindowSeconds } : {}),
      ...(options.actionWindows ? { actionWindows: options.actionWindows } : {}),
      lateChargeCheckSeconds: options.lateChargeCheckSeconds ?? LOCAL_LATE_CHARGE_CHECK_SECONDS,
      sweepPolicy,
      ...(options.settlementFees ? { settlementFees: options.settlementFees } : {}),
      // Locally a merchant's developer points endpoints at http://127.0.0.1.
      webhookEndpointPolicy: 'local',
      ...(options.webhookRetryScale ? { webhookRetryScale: options.webhookRetryScale } : {}),
      ...(options.webhookRetryScheduleSeconds
        ? { webhookRetryScheduleSeconds: options.webhookRetryScheduleSeconds }
        : {}),
    };
    let webhookDeliveries: LocalWebhookQueue | undefined;
    const webhookSecrets = createLocalWebhookSecrets(kept('webhook-secrets.json').statePath);
    const events: EventPublisher = {
      publish: async (entries) => {
        for (let i = 0; i < entries.length; i += 10) {
          const batch = entries.slice(i, i + 10);
          const answer = bus.putEvents(
            batch.map((event) => ({
              EventBusName: 'payments',
              Source: EVENT_SOURCE,
              DetailType: event.type,
              Detail: event.detail,
            })),
          );
          // As the EventBridge adapter does: an entry the bus refused fails the publish.
          if (answer.FailedEntryCount > 0) {
            throw new Error(`the local bus refused ${answer.FailedEntryCount} of ${batch.length} events`);
          }
        }
      },
    };
    const edges: Edges = {
      clock,
      ids: ulidIds,
      settings: () => settings,
      table: () => repo,
      kbank: once(() =>
        createKbankClient({
          baseUrl: kbank.url,
          secretKey: KBANK_SECRET,
          timeoutMs: options.kbankTimeoutMs ?? 8000,
        }),
      ),
      kbankSecret: async () => KBANK_SECRET,
      cost: once(() =>
        createCostClient({
          baseUrl: cost.url,
          apiKey: COST_API_KEY,
          timeoutMs: options.costTimeoutMs ?? 3000,
        }),
      ),
      paymentRuns: once(
        () => new StepFunctionsWorkflow(started('Step Functions', sfnClient), STATE_MACHINE_ARN),
      ),
      refundRuns: once(
        () => new StepFunctionsWorkflow(started('Step Functions', sfnClient), REFUND_STATE_MACHINE_ARN),
      ),
      tasks: once(() => new StepFunctionsTasks(started('Step Functions', sfnClient))),
      notifications: () => ({
        send: async (message) => {
          await started('callback queue', callbacks).send(message);
          counters.add((usage) => {
            usage.queue.sent += 1;
          });
        },
      }),
      events: () => events,
      settlements: once(() => new DynamoSettlementStore(createDocumentClient(dynamodb), tableName)),
      points: once(() => ({
        ledger: new DynamoPointsLedger(createDocumentClient(dynamodb), tableName),
        programs: new DynamoPointsPrograms(createDocumentClient(dynamodb), tableName),
      })),
      webhooks: once(() => new DynamoWebhookStore(createDocumentClient(dynamodb), tableName)),
      webhookSecrets: () => webhookSecrets,
      webhookQueue: () => started('webhook delivery queue', webhookDeliveries),
      webhookSender: once(() => createWebhookSender('local')),
    };
    // Like one Lambda container per function: its own bundles, on the edges its catalog entry grants.
    const containers = new Map<FunctionName, Dependencies>();
    const depsOf = (name: FunctionName): Dependencies => {
      const deps =
        containers.get(name) ?? composeDependencies(grantedEdges(edges, name, CATALOG[name].access));
      containers.set(name, deps);
      return deps;
    };
    const handlers = await loadHandlers(depsOf, counters);

    const functionArn = (name: string) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${name}`;
    const runners = {} as Record<SagaName, AslRunner>;
    for (const saga of Object.keys(SAGAS) as SagaName[]) {
      const substitutions: Record<string, string> = { EventBusName: 'payments' };
      const lambdas: Record<string, (event: unknown) => Promise<unknown>> = {};
      for (const task of sagaTasksOf(saga)) {
        const handler = handlers[task.name] as (event: unknown, context: Context) => Promise<unknown>;
        substitutions[task.substitution] = functionArn(task.name);
        lambdas[functionArn(task.name)] = (event) => handler(event, lambdaContext(task.name));
      }
      const runner = createAslRunner({
        definition: readFileSync(SAGAS[saga].definition, 'utf8'),
        substitutions,
        lambdas,
        eventBus: bus,
        dynamodb,
        waitScale: options.waitScale ?? 1,
        stateMachineArn: SAGAS[saga].arn,
        // Both sagas start with the payment's id (PaymentSagaInput, RefundSagaInput).
        ...(counters.enabled
          ? {
              meter: aslMeter(counters, `states:${saga}`, ({ name, input }) => {
                const paymentId = (input as { paymentId?: unknown } | null)?.paymentId;
                return typeof paymentId === 'string' ? paymentId : name;
              }),
            }
          : {}),
      });
      closers.push(async () => runner.stop());
      runners[saga] = runner;
    }
    const sfn = await startSfnEndpoint([runners.payment, runners.refund], { port: options.sfnPort ?? 0 });
    closers.push(() => sfn.close());
    const client = new SFNClient({
      endpoint: sfn.url,
      region: LOCAL_REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    sfnClient = client;
    closers.push(async () => client.destroy());

    // The real SQS handler consumes it, one record per receive; a reported failure means redelivery.
    const [consumer] = functionsOf('queue-consumer').filter((entry) => entry.queue === 'notifications');
    if (!consumer) throw new Error('functions/catalog.ts names no consumer of the notification queue');
    const processor = handlers[consumer.name] as (
      event: SQSEvent,
      context: Context,
    ) => Promise<SQSBatchResponse>;
    const queue = createLocalQueue<KbankCallback>({
      name: 'kbank-callbacks',
      // One delivery is one unit of work: received, processed, and deleted only when it succeeded.
      consume: (message, delivery) =>
        counters.unit(
          { source: consumer.name, payment: message.source === 'notify' ? message.paymentId : undefined },
          async () => {
            counters.add((usage) => {
              usage.queue.received += 1;
            });
            const batch = await processor(sqsEvent(message, delivery), lambdaContext(consumer.name));
            if (batch.batchItemFailures.length > 0) throw new Error('the processor reported a failure');
            counters.add((usage) => {
              usage.queue.deleted += 1;
            });
          },
        ),
      visibilityTimeoutMs: options.callbackRetryMs ?? 1000,
      ...kept('kbank-callbacks.json'),
      onDeadLetter: (message, error) =>
        console.error(
          JSON.stringify({
            level: 'ERROR',
            message: 'kbank callback dead-lettered',
            callback: message,
            error: String(error),
          }),
        ),
    });
    callbacks = queue;
    closers.push(() => queue.close());

    // Settlements: the consumer reads the bus through its queue, as the rule → SQS does on AWS.
    const settlementConsumer = CATALOG['settlements-consumer'];
    const settlementProcessor = handlers['settlements-consumer'] as (
      event: SQSEvent,
      context: Context,
    ) => Promise<SQSBatchResponse>;
    const settlementQueue = createLocalQueue<EventBridgeEnvelope>({
      name: 'settlement-events',
      consume: (message, delivery) =>
        counters.unit({ source: 'settlements-consumer' }, async () => {
          const batch = await settlementProcessor(
            sqsEvent(message, delivery, 'settlement-events'),
            lambdaContext('settlements-consumer'),
          );
          if (batch.batchItemFailures.length > 0)
            throw new Error('the settlements consumer reported a failure');
        }),
      visibilityTimeoutMs: options.callbackRetryMs ?? 1000,
      ...kept('settlement-events.json'),
      onDeadLetter: (message, error) =>
        console.error(
          JSON.stringify({
            level: 'ERROR',
            message: 'settlement event dead-lettered',
            eventId: message.detail.event_id,
            error: String(error),
          }),
        ),
    });
    closers.push(() => settlementQueue.close());
    const settlementTypes: readonly string[] = settlementConsumer.eventTypes;
    const unsubscribeSettlements = bus.subscribe((event) => {
      if (event.source !== EVENT_SOURCE || !settlementTypes.includes(event.detailType)) return;
      settlementQueue
        .send(envelopeOf(event))
        .catch((error: unknown) =>
          console.error(
            JSON.stringify({ level: 'ERROR', message: 'settlement event lost', error: String(error) }),
          ),
        );
    });
    closers.push(async () => unsubscribeSettlements());
    const closeDeps = depsOf('settlements-close').settlementsClose();
    const closeFunction = counters.lambda('settlements-close', () => closeSettlements(closeDeps));
    const closeSettlementsNow = () => counters.unit({ source: 'settlements-close' }, () => closeFunction());
    if (options.settlementCloseIntervalMs) {
      const timer = setInterval(() => {
        closeSettlementsNow().catch((error: unknown) =>
          console.error(
            JSON.stringify({ level: 'ERROR', message: 'settlement close failed', error: String(error) }),
          ),
        );
      }, options.settlementCloseIntervalMs);
      timer.unref();
      closers.push(async () => clearInterval(timer));
    }

    // Webhooks: the consumer reads the bus through its queue (rule → SQS on AWS), and each delivery attempt
    // is a message of the delivery queue, as on AWS.
    const consumerOf = (name: 'webhooks-fanout' | 'webhooks-deliver', queueName: string) => {
      const run = handlers[name] as (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
      return (message: unknown, delivery: LocalDelivery) =>
        counters.unit({ source: name }, async () => {
          const batch = await run(sqsEvent(message, delivery, queueName), lambdaContext(name));
          if (batch.batchItemFailures.length > 0) throw new Error(`${name} reported a failure`);
        });
    };
    const deadLettered = (what: string) => (message: unknown, error: unknown) =>
      console.error(
        JSON.stringify({
          level: 'ERROR',
          message: `${what} dead-lettered`,
          item: message,
          error: String(error),
        }),
      );
    const webhookEventQueue = createLocalQueue<EventBridgeEnvelope>({
      name: 'webhook-events',
      consume: consumerOf('webhooks-fanout', 'webhook-events'),
      // Two at a time: the fan-out reads the table for every event, and must not crowd the payment path.
      concurrency: 2,
      visibilityTimeoutMs: options.callbackRetryMs ?? 1000,
      ...kept('webhook-events.json'),
      onDeadLetter: (message, error) => deadLettered('webhook event')(message.detail.event_id, error),
    });
    closers.push(() => webhookEventQueue.close());
    const webhookDeliveryQueue = createLocalQueue<WebhookDeliveryMessage>({
      name: 'webhook-deliveries',
      consume: consumerOf('webhooks-deliver', 'webhook-deliveries'),
      visibilityTimeoutMs: options.callbackRetryMs ?? 1000,
      ...kept('webhook-deliveries.json'),
      onDeadLetter: deadLettered('webhook delivery message'),
    });
    const localWebhookQueue = createLocalWebhookQueue(webhookDeliveryQueue);
    webhookDeliveries = localWebhookQueue;
    closers.push(() => webhookDeliveryQueue.close());
    closers.push(() => localWebhookQueue.close());
    const webhookTypes: readonly string[] = CATALOG['webhooks-fanout'].eventTypes;
    const unsubscribeWebhooks = bus.subscribe((event) => {
      if (event.source !== EVENT_SOURCE || !webhookTypes.includes(event.detailType)) return;
      webhookEventQueue
        .send(envelopeOf(event))
        .catch((error: unknown) =>
          console.error(
            JSON.stringify({ level: 'ERROR', message: 'webhook event lost', error: String(error) }),
          ),
        );
    });
    closers.push(async () => unsubscribeWebhooks());

    const merchant = {
      id: 'merchant_demo',
      name: 'Demo Merchant',
      plan: options.demoPlan ?? 'enterprise',
      apiKey: options.apiKey ?? randomApiKey(),
    };
    await seedMerchant(repo, merchant, clock.now());
    // The demo merchant runs a points program (docs/api.md "Points"): 1 point = 1.00 THB unless set.
    await new DynamoPointsPrograms(createDocumentClient(dynamodb), tableName).setProgram({
      merchantId: merchant.id,
      currency: 'THB',
      valuePerPoint: options.pointValue ?? DEMO_POINT_VALUE,
    });

    const routes: Route[] = functionsOf('api').map(({ name, route }) => ({
      method: route.method,
      path: route.path,
      name,
      handler: handlers[name] as Route['handler'],
      authorized: route.auth === 'merchant',
    }));
    const [authorizer] = functionsOf('authorizer');
    if (!authorizer) throw new Error('functions/catalog.ts names no authorizer');
    const api: ApiServer = await startApiServer({
      routes,
      ...(options.authorizerCacheSeconds !== undefined
        ? { authorizerCacheSeconds: options.authorizerCacheSeconds }
        : {}),
      plans: options.plans ?? PLANS,
      authorizer: handlers[authorizer.name] as (
        event: APIGatewayTokenAuthorizerEvent,
        context: Context,
      ) => Promise<APIGatewayAuthorizerResult>,
      page: problemPageResponse,
      extras: {
        '/openapi.json': () => JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')),
        '/_local/events': () => bus.events(),
        // `?payments=false` leaves out the per-payment breakdown.
        ...(counters.enabled
          ? {
              '/_local/counters': (query: URLSearchParams) =>
                counters.snapshot({ payments: query.get('payments') !== 'false' }),
            }
          : {}),
      },
      actions: counters.enabled
        ? {
            '/_local/counters/reset': () => {
              counters.reset();
              return { since: counters.snapshot({ payments: false }).since };
            },
          }
        : {},
      // One request is one unit of work, for the payment its path names (if any): the authorizer included.
      ...(counters.enabled
        ? {
            serve: <T>(
              { route, pathParameters }: { route: Route; pathParameters: Record<string, string> | null },
              run: () => Promise<T>,
            ) =>
              counters.unit({ source: route.name, payment: pathParameters?.id }, () => {
                counters.add((usage) => {
                  usage.apiRequests += 1;
                });
                return run();
              }),
          }
        : {}),
      port: options.apiPort ?? 0,
    });
    closers.push(() => api.close());
    // KBank's registered callback URLs point at our webhook endpoints.
    kbank.setNotifyUrl(`${api.url}${CATALOG['api-kbank-webhook'].route.path}`);
    kbank.setBrowserReturnUrl(`${api.url}${CATALOG['api-kbank-return'].route.path}`);

    // The scheduled functions' use cases, called directly: by the timer below, on start, and on demand.
    const sweepDeps = {
      ...depsOf('ops-sweep').sweep(),
      onUnresolved: (item: unknown, reason: string) =>
        console.error(JSON.stringify({ level: 'ERROR', message: 'reconciliation unresolved', item, reason })),
    };
    const reconcileDeps = depsOf('ops-reconcile-kbank').reconcile();
    // Counted as the scheduled functions' invocations would be.
    const sweepFunction = counters.lambda('ops-sweep', (pass: Parameters<typeof sweep>[1]) =>
      sweep(sweepDeps, pass),
    );
    const reconcileFunction = counters.lambda('ops-reconcile-kbank', (date: string) =>
      reconcileKbank(reconcileDeps, date),
    );
    const sweepNow = (pass: { dueBefore?: string; limit?: number } = {}) =>
      counters.unit({ source: 'ops-sweep' }, () => sweepFunction(pass));
    const recoverOnStart = options.recoverOnStart ?? options.persistDir !== undefined;
    // Every open item, at once: the executions that were driving them died with the previous process.
    const recovered = recoverOnStart
      ? counters.unit({ source: 'ops-sweep' }, () =>
          sweep({ ...sweepDeps, pace: RECOVERY_PACE_MS }, { dueBefore: '9999-12-31', limit: 10_000 }),
        )
      : null;
    // Reported by whoever awaits it; a failed pass is left to the periodic sweep.
    recovered?.catch(() => undefined);
    if (options.sweepIntervalMs) {
      let running = false;
      const timer = setInterval(() => {
        if (running) return;
        running = true;
        sweepNow()
          .catch((error: unknown) =>
            console.error(JSON.stringify({ level: 'ERROR', message: 'sweep failed', error: String(error) })),
          )
          .finally(() => {
            running = false;
          });
      }, options.sweepIntervalMs);
      timer.unref();
      closers.push(async () => clearInterval(timer));
    }
    // Counts start with the ready stack: its table, merchant and warm-up are not what anyone measures.
    counters.reset();

    return {
      apiUrl: api.url,
      kbankUrl: kbank.url,
      costUrl: cost.url,
      sfnUrl: sfn.url,
      dynamodbEndpoint,
      tableName,
      merchant,
      kbankPublicKey: KBANK_PUBLIC,
      runner: runners.payment,
      refundRunner: runners.refund,
      bus,
      counters,
      callbacks: queue,
      kbank,
      cost,
      repo,
      dynamodb,
      sweep: sweepNow,
      recovered,
      reconcile: (date) => counters.unit({ source: 'ops-reconcile-kbank' }, () => reconcileFunction(date)),
      settlementEvents: settlementQueue,
      closeSettlements: closeSettlementsNow,
      webhookEvents: webhookEventQueue,
      webhookDeliveries: localWebhookQueue,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** What every handler module exports besides `handler`: the same handler on any dependencies. */
interface HandlerModule {
  createHandler(deps: Dependencies): unknown;
}

/**
 * Every function of the catalog, from its own handler module (functions/handlers/<name>.ts), on the
 * dependencies `depsOf` gives it: the very code Lambda runs, wired to the local edges.
 */
async function loadHandlers(
  depsOf: (name: FunctionName) => Dependencies,
  counters: UsageCounters,
): Promise<Record<FunctionName, unknown>> {
  const handlers = {} as Record<FunctionName, unknown>;
  for (const name of FUNCTION_NAMES) {
    const module = (await import(`../functions/handlers/${name}.js`)) as Partial<HandlerModule>;
    if (typeof module.createHandler !== 'function') {
      throw new Error(`functions/handlers/${name}.ts exports no createHandler(deps)`);
    }
    const handler = module.createHandler(depsOf(name));
    if (typeof handler !== 'function')
      throw new Error(`functions/handlers/${name}.ts: createHandler returned no function`);
    // Every in-process invocation (API route, authorizer, saga task, queue consumer) is counted as Lambda's.
    handlers[name] = counters.lambda(name, handler as (...args: unknown[]) => Promise<unknown>);
  }
  return handlers;
}

/** One queue receive as the SQS event source hands it to Lambda. */
function sqsEvent(message: unknown, delivery: LocalDelivery, queueName = 'kbank-callbacks'): SQSEvent {
  return {
    Records: [
      {
        messageId: delivery.messageId,
        receiptHandle: delivery.messageId,
        body: JSON.stringify(message),
        attributes: {
          ApproximateReceiveCount: String(delivery.receiveCount),
          SentTimestamp: String(Date.now()),
          SenderId: 'local',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${queueName}`,
        awsRegion: LOCAL_REGION,
      },
    ],
  };
}

/** A local bus event as EventBridge hands it to an SQS target. */
function envelopeOf(event: LocalEvent): EventBridgeEnvelope {
  return {
    version: '0',
    id: event.id,
    'detail-type': event.detailType,
    source: event.source,
    account: LOCAL_ACCOUNT,
    time: event.time,
    region: LOCAL_REGION,
    resources: [],
    detail: event.detail,
  };
}

/**
 * The demo merchant and its key, as `npm run merchant -- create` makes them; a persisted table that has
 * both already (a restart with the same key) is left as it is.
 */
async function seedMerchant(
  repo: DynamoTable,
  merchant: { id: string; name: string; plan: PlanName; apiKey: string },
  now: Date,
): Promise<void> {
  const { id, name, plan, apiKey } = merchant;
  if (!(await repo.createMerchant({ id, name, plan, createdAt: now.toISOString() }))) {
    // A persisted table: the merchant is there, on whatever plan it had; this start's plan applies.
    await repo.setPlan(id, plan);
  }
  const hash = hashApiKey(apiKey);
  if (await repo.findByApiKeyHash(hash)) return;
  await repo.addKey(
    hash,
    { id, name, plan },
    {
      keyId: `key_${ulid()}`,
      merchantId: id,
      mode: 'test',
      prefix: keyPrefix(apiKey),
      createdAt: now.toISOString(),
    },
  );
}
