/**
 * The embedded local stack: DynamoDB Local, the ASL runner executing statemachines/payment.asl.json
 * with the real saga handlers, the KBank and cost-service simulators, a local event bus, a local Step
 * Functions endpoint, and the API server in front of the real API handlers. Only the edges differ from
 * AWS: the same handlers, the same ASL file and the same DynamoDB code run here.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { SQSEvent } from 'aws-lambda';
import type { z } from 'zod';
import { createCostClient } from '../functions/adapters/cost-client.js';
import {
  createDocumentClient,
  DEFAULT_SEARCH_BUDGET,
  DynamoPaymentRepository,
} from '../functions/adapters/dynamo-repository.js';
import { createKbankClient } from '../functions/adapters/kbank-client.js';
import { createNotifyReader } from '../functions/adapters/kbank-notify.js';
import { StepFunctionsTasks, StepFunctionsWorkflow } from '../functions/adapters/sfn-workflow.js';
import { ulidIds } from '../functions/core/ids.js';
import { type Clock, systemClock } from '../functions/core/ports.js';
import { DEFAULT_SWEEP_POLICY, type SweepPolicy } from '../functions/core/reconciliation.js';
import type { ReconciliationRun } from '../functions/core/repository.js';
import { hashApiKey } from '../functions/core/use-cases/authenticate.js';
import { authorize } from '../functions/core/use-cases/authorize.js';
import { awaitAction } from '../functions/core/use-cases/await-action.js';
import { awaitCapture } from '../functions/core/use-cases/await-capture.js';
import { capture } from '../functions/core/use-cases/capture.js';
import {
  type CreatePaymentDeps,
  DEFAULT_CAPTURE_WINDOW_SECONDS,
} from '../functions/core/use-cases/create-payment.js';
import type { CreateRefundDeps } from '../functions/core/use-cases/create-refund.js';
import { failPayment } from '../functions/core/use-cases/fail-payment.js';
import { inquireAuthorization } from '../functions/core/use-cases/inquire-authorization.js';
import { inquireRefund } from '../functions/core/use-cases/inquire-refund.js';
import type {
  CallbackIntakeDeps,
  CallbackProcessorDeps,
} from '../functions/core/use-cases/kbank-callbacks.js';
import { type ReconcileDeps, reconcileKbank } from '../functions/core/use-cases/reconcile-kbank.js';
import { reenter } from '../functions/core/use-cases/reenter.js';
import { refundAtKbank } from '../functions/core/use-cases/refund-at-kbank.js';
import { DEFAULT_REFUND_POLICY, type RefundSagaDeps } from '../functions/core/use-cases/refund-saga.js';
import { refundUnresolved } from '../functions/core/use-cases/refund-unresolved.js';
import type { ManualCaptureDeps } from '../functions/core/use-cases/request-capture.js';
import { resolveAction } from '../functions/core/use-cases/resolve-action.js';
import { DEFAULT_POLICY, type SagaDeps } from '../functions/core/use-cases/saga.js';
import { type SweepDeps, type SweepReport, sweep } from '../functions/core/use-cases/sweep.js';
import { verifyCost } from '../functions/core/use-cases/verify-cost.js';
import { voidAuthorization } from '../functions/core/use-cases/void-authorization.js';
import { createAuthorizerHandler } from '../functions/handlers/api-authorizer.js';
import { createCancelPaymentHandler } from '../functions/handlers/api-cancel-payment.js';
import { createCapturePaymentHandler } from '../functions/handlers/api-capture-payment.js';
import { createCreatePaymentHandler } from '../functions/handlers/api-create-payment.js';
import { createCreateRefundHandler } from '../functions/handlers/api-create-refund.js';
import { createGetPaymentHandler } from '../functions/handlers/api-get-payment.js';
import { createGetPaymentQrHandler } from '../functions/handlers/api-get-payment-qr.js';
import { handler as healthHandler } from '../functions/handlers/api-health.js';
import { createKbankReturnHandler } from '../functions/handlers/api-kbank-return.js';
import { createKbankWebhookHandler } from '../functions/handlers/api-kbank-webhook.js';
import { createListPaymentEventsHandler } from '../functions/handlers/api-list-payment-events.js';
import { createListPaymentsHandler } from '../functions/handlers/api-list-payments.js';
import { createListRefundsHandler } from '../functions/handlers/api-list-refunds.js';
import { createUpdatePaymentHandler } from '../functions/handlers/api-update-payment.js';
import { createCallbackProcessor } from '../functions/handlers/kbank-notifications.js';
import { type RefundStep, refundTask } from '../functions/handlers/refund-task.js';
import {
  ActionTaskInputSchema,
  CallbackTaskInputSchema,
  ResolveActionInputSchema,
  type SagaStep,
  sagaTask,
} from '../functions/handlers/saga.js';
import type { KbankCallback } from '../schemas/callbacks.js';
import { EVENT_SOURCE } from '../schemas/events.js';
import { type ApiServer, type Route, startApiServer } from './api-server.js';
import { type AslRunner, createAslRunner, startSfnEndpoint } from './asl-runner.js';
import { type CostSimulator, startCostSimulator } from './cost-simulator.js';
import { createTable, localDynamoClientConfig, PID_FILE_NAME, startDynamoDbLocal } from './dynamodb-local.js';
import { createLocalEventBus, type LocalEventBus } from './event-bus.js';
import { type KbankSimulator, startKbankSimulator } from './kbank-simulator.js';
import { lambdaContext } from './lambda-context.js';
import { createLocalQueue, type LocalDelivery, type LocalQueue } from './queue.js';

const ASL_PATH = new URL('../statemachines/payment.asl.json', import.meta.url);
const OPENAPI_PATH = new URL('../docs/openapi.json', import.meta.url);
const LOCAL_ACCOUNT = '000000000000';
const LOCAL_REGION = 'us-east-1';
const STATE_MACHINE_ARN = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:payment-saga`;
const REFUND_ASL_PATH = new URL('../statemachines/refund.asl.json', import.meta.url);
const REFUND_STATE_MACHINE_ARN = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:refund-saga`;

/** The refund saga's Lambda tasks, by the names the CDK stack gives them. */
const REFUND_FUNCTIONS: Record<string, { substitution: string; step: RefundStep }> = {
  'saga-refund-at-kbank': { substitution: 'RefundAtKbankFunctionArn', step: refundAtKbank },
  'saga-inquire-refund': { substitution: 'InquireRefundFunctionArn', step: inquireRefund },
  'saga-refund-unresolved': { substitution: 'RefundUnresolvedFunctionArn', step: refundUnresolved },
};

/** The saga's Lambda tasks, by the names the CDK stack gives them (and their input schema when not the default). */
const SAGA_FUNCTIONS: Record<string, { substitution: string; step: SagaStep<never>; schema?: z.ZodType }> = {
  'saga-verify-cost': { substitution: 'VerifyCostFunctionArn', step: verifyCost },
  'saga-authorize': { substitution: 'AuthorizeFunctionArn', step: authorize },
  'saga-inquire-authorization': {
    substitution: 'InquireAuthorizationFunctionArn',
    step: inquireAuthorization,
  },
  'saga-capture': { substitution: 'CaptureFunctionArn', step: capture },
  'saga-void': { substitution: 'VoidFunctionArn', step: voidAuthorization },
  'saga-fail-payment': { substitution: 'FailPaymentFunctionArn', step: failPayment },
  'saga-await-capture': {
    substitution: 'AwaitCaptureFunctionArn',
    step: awaitCapture,
    schema: CallbackTaskInputSchema,
  },
  'saga-await-action': {
    substitution: 'AwaitActionFunctionArn',
    step: awaitAction,
    schema: ActionTaskInputSchema,
  },
  'saga-resolve-action': {
    substitution: 'ResolveActionFunctionArn',
    step: resolveAction,
    schema: ResolveActionInputSchema,
  },
  'saga-reenter': { substitution: 'ReenterFunctionArn', step: reenter },
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
  /** Demo merchant's API key; random when absent. */
  apiKey?: string;
  /** Runs the reconciliation sweep this often (EventBridge Scheduler on AWS); 0 or absent: only on demand. */
  sweepIntervalMs?: number;
  /** Deadlines and restart schedule of the sweep (default DEFAULT_SWEEP_POLICY). */
  sweepPolicy?: SweepPolicy;
  /**
   * On start, sweep every open payment and refund at once, whatever its deadline: this stack's executions
   * died with the previous process, so nothing else would resume them. Default: when persisting.
   */
  recoverOnStart?: boolean;
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
  /** The KBank callback queue (SQS on AWS): `idle()` waits until every callback is processed. */
  callbacks: LocalQueue<KbankCallback>;
  kbank: KbankSimulator;
  cost: CostSimulator;
  repo: DynamoPaymentRepository;
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
  close(): Promise<void>;
}

/** The simulator's secret key (test-only, not a secret): the ops CLI uses it against a local stack. */
export const KBANK_SECRET = 'skey_test_local';
const KBANK_PUBLIC = 'pkey_test_local';
/** The recovery pass restarts one saga every this many ms, so a stack with hundreds open stays responsive. */
const RECOVERY_PACE_MS = 20;
const COST_API_KEY = 'cost_test_local';

export function randomApiKey(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(32);
  return `sk_test_${Array.from(bytes, (b) => alphabet.charAt(b % alphabet.length)).join('')}`;
}

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
    const dynamodb = new DynamoDBClient(localDynamoClientConfig(dynamodbEndpoint));
    closers.push(async () => dynamodb.destroy());
    const tableName = options.tableName ?? 'payments';
    await createTable(dynamodb, tableName);
    const sweepPolicy = options.sweepPolicy ?? DEFAULT_SWEEP_POLICY;
    const repo = new DynamoPaymentRepository(
      createDocumentClient(dynamodb),
      tableName,
      DEFAULT_SEARCH_BUDGET,
      sweepPolicy,
    );

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

    let tasks: StepFunctionsTasks;
    const sagaDeps: SagaDeps = {
      repo,
      kbank: createKbankClient({
        baseUrl: kbank.url,
        secretKey: KBANK_SECRET,
        timeoutMs: options.kbankTimeoutMs ?? 8000,
      }),
      cost: createCostClient({
        baseUrl: cost.url,
        apiKey: COST_API_KEY,
        timeoutMs: options.costTimeoutMs ?? 3000,
      }),
      clock,
      policy: DEFAULT_POLICY,
      // The Step Functions endpoint starts after the runner that needs these deps: bind late.
      tasks: {
        succeed: (token, output) => tasks.succeed(token, output),
        fail: (token, error, cause) => tasks.fail(token, error, cause),
      },
    };
    const functionArn = (name: string) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${name}`;
    const substitutions: Record<string, string> = { EventBusName: 'payments' };
    const lambdas: Record<string, (event: unknown) => Promise<unknown>> = {};
    for (const [name, { substitution, step, schema }] of Object.entries(SAGA_FUNCTIONS)) {
      substitutions[substitution] = functionArn(name);
      const handler = sagaTask(step, () => sagaDeps, schema);
      lambdas[functionArn(name)] = (event) => handler(event, lambdaContext(name));
    }

    const bus = createLocalEventBus();
    const runner = createAslRunner({
      definition: readFileSync(ASL_PATH, 'utf8'),
      substitutions,
      lambdas,
      eventBus: bus,
      dynamodb,
      waitScale: options.waitScale ?? 1,
      stateMachineArn: STATE_MACHINE_ARN,
    });
    closers.push(async () => runner.stop());

    const refundSagaDeps: RefundSagaDeps = {
      repo,
      kbank: sagaDeps.kbank,
      clock,
      policy: DEFAULT_REFUND_POLICY,
    };
    const refundSubstitutions: Record<string, string> = { EventBusName: 'payments' };
    const refundLambdas: Record<string, (event: unknown) => Promise<unknown>> = {};
    for (const [name, { substitution, step }] of Object.entries(REFUND_FUNCTIONS)) {
      refundSubstitutions[substitution] = functionArn(name);
      const handler = refundTask(step, () => refundSagaDeps);
      refundLambdas[functionArn(name)] = (event) => handler(event, lambdaContext(name));
    }
    const refundRunner = createAslRunner({
      definition: readFileSync(REFUND_ASL_PATH, 'utf8'),
      substitutions: refundSubstitutions,
      lambdas: refundLambdas,
      eventBus: bus,
      dynamodb,
      waitScale: options.waitScale ?? 1,
      stateMachineArn: REFUND_STATE_MACHINE_ARN,
    });
    closers.push(async () => refundRunner.stop());
    const sfn = await startSfnEndpoint([runner, refundRunner], { port: options.sfnPort ?? 0 });
    closers.push(() => sfn.close());

    const sfnClient = new SFNClient({
      endpoint: sfn.url,
      region: LOCAL_REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    closers.push(async () => sfnClient.destroy());
    const paymentRuns = new StepFunctionsWorkflow(sfnClient, STATE_MACHINE_ARN);
    const refundRuns = new StepFunctionsWorkflow(sfnClient, REFUND_STATE_MACHINE_ARN);
    const apiDeps: CreatePaymentDeps = {
      repo,
      idempotency: repo,
      workflow: paymentRuns,
      clock,
      ids: ulidIds,
      ...(options.captureWindowSeconds ? { captureWindowSeconds: options.captureWindowSeconds } : {}),
      ...(options.actionWindows ? { actionWindows: options.actionWindows } : {}),
    };
    const refundApiDeps: CreateRefundDeps = {
      repo,
      idempotency: repo,
      workflow: refundRuns,
      clock,
      ids: ulidIds,
    };
    tasks = new StepFunctionsTasks(sfnClient);
    const manualCaptureDeps: ManualCaptureDeps = { repo, idempotency: repo, tasks, clock };
    const changeAmountDeps = { ...manualCaptureDeps, cost: sagaDeps.cost };

    const processorDeps: CallbackProcessorDeps = { repo, kbank: sagaDeps.kbank, tasks, clock };
    // The real SQS handler consumes it, one record per receive; a reported failure means redelivery.
    const processor = createCallbackProcessor(() => processorDeps);
    const callbacks = createLocalQueue<KbankCallback>({
      name: 'kbank-callbacks',
      consume: async (message, delivery) => {
        const batch = await processor(sqsEvent(message, delivery), lambdaContext('kbank-notifications'));
        if (batch.batchItemFailures.length > 0) throw new Error('the processor reported a failure');
      },
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
    closers.push(() => callbacks.close());
    const intakeDeps: CallbackIntakeDeps = {
      repo,
      queue: callbacks,
      notify: createNotifyReader(async () => KBANK_SECRET),
      clock,
    };

    const merchant = { id: 'merchant_demo', name: 'Demo Merchant', apiKey: options.apiKey ?? randomApiKey() };
    await repo.putApiKey(hashApiKey(merchant.apiKey), { id: merchant.id, name: merchant.name });

    const routes: Route[] = [
      { method: 'GET', path: '/v1/health', name: 'api-health', handler: healthHandler, authorized: false },
      {
        method: 'POST',
        path: '/v1/payments',
        name: 'api-create-payment',
        handler: createCreatePaymentHandler(() => apiDeps),
        authorized: true,
      },
      {
        method: 'GET',
        path: '/v1/payments',
        name: 'api-list-payments',
        handler: createListPaymentsHandler(() => repo),
        authorized: true,
      },
      {
        method: 'GET',
        path: '/v1/payments/{id}',
        name: 'api-get-payment',
        handler: createGetPaymentHandler(() => repo),
        authorized: true,
      },
      {
        method: 'GET',
        path: '/v1/payments/{id}/events',
        name: 'api-list-payment-events',
        handler: createListPaymentEventsHandler(() => repo),
        authorized: true,
      },
      {
        method: 'PATCH',
        path: '/v1/payments/{id}',
        name: 'api-update-payment',
        handler: createUpdatePaymentHandler(() => changeAmountDeps),
        authorized: true,
      },
      {
        method: 'POST',
        path: '/v1/payments/{id}/capture',
        name: 'api-capture-payment',
        handler: createCapturePaymentHandler(() => manualCaptureDeps),
        authorized: true,
      },
      {
        method: 'POST',
        path: '/v1/payments/{id}/cancel',
        name: 'api-cancel-payment',
        handler: createCancelPaymentHandler(() => manualCaptureDeps),
        authorized: true,
      },
      {
        method: 'POST',
        path: '/v1/payments/{id}/refunds',
        name: 'api-create-refund',
        handler: createCreateRefundHandler(() => refundApiDeps),
        authorized: true,
      },
      {
        method: 'GET',
        path: '/v1/payments/{id}/refunds',
        name: 'api-list-refunds',
        handler: createListRefundsHandler(() => repo),
        authorized: true,
      },
      {
        method: 'GET',
        path: '/v1/payments/{id}/qr',
        name: 'api-get-payment-qr',
        handler: createGetPaymentQrHandler(() => repo),
        authorized: true,
      },
      {
        method: 'POST',
        path: '/v1/webhooks/kbank',
        name: 'api-kbank-webhook',
        handler: createKbankWebhookHandler(() => intakeDeps),
        authorized: false,
      },
      {
        method: 'POST',
        path: '/v1/webhooks/kbank/return',
        name: 'api-kbank-return',
        handler: createKbankReturnHandler(() => intakeDeps),
        authorized: false,
      },
    ];
    const api: ApiServer = await startApiServer({
      routes,
      authorizer: createAuthorizerHandler(() => repo),
      extras: {
        '/openapi.json': () => JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')),
        '/_local/events': () => bus.events(),
      },
      port: options.apiPort ?? 0,
    });
    closers.push(() => api.close());
    // KBank's registered callback URLs point at our webhook endpoints.
    kbank.setNotifyUrl(`${api.url}/v1/webhooks/kbank`);
    kbank.setBrowserReturnUrl(`${api.url}/v1/webhooks/kbank/return`);

    const sweepDeps: SweepDeps = {
      repo,
      payments: paymentRuns,
      refunds: refundRuns,
      clock,
      policy: sweepPolicy,
      captureWindowSeconds: options.captureWindowSeconds ?? DEFAULT_CAPTURE_WINDOW_SECONDS,
      onUnresolved: (item, reason) =>
        console.error(JSON.stringify({ level: 'ERROR', message: 'reconciliation unresolved', item, reason })),
    };
    const reconcileDeps: ReconcileDeps = {
      repo,
      kbank: sagaDeps.kbank,
      clock,
      events: {
        publish: async (events) => {
          for (let i = 0; i < events.length; i += 10) {
            bus.putEvents(
              events.slice(i, i + 10).map((event) => ({
                EventBusName: 'payments',
                Source: EVENT_SOURCE,
                DetailType: event.type,
                Detail: event.detail,
              })),
            );
          }
        },
      },
    };
    const sweepNow = (pass: { dueBefore?: string; limit?: number } = {}) => sweep(sweepDeps, pass);
    const recoverOnStart = options.recoverOnStart ?? options.persistDir !== undefined;
    // Every open item, at once: the executions that were driving them died with the previous process.
    const recovered = recoverOnStart
      ? sweep({ ...sweepDeps, pace: RECOVERY_PACE_MS }, { dueBefore: '9999-12-31', limit: 10_000 })
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

    return {
      apiUrl: api.url,
      kbankUrl: kbank.url,
      costUrl: cost.url,
      sfnUrl: sfn.url,
      dynamodbEndpoint,
      tableName,
      merchant,
      kbankPublicKey: KBANK_PUBLIC,
      runner,
      refundRunner,
      bus,
      callbacks,
      kbank,
      cost,
      repo,
      dynamodb,
      sweep: sweepNow,
      recovered,
      reconcile: (date) => reconcileKbank(reconcileDeps, date),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** One queue receive as the SQS event source hands it to Lambda. */
function sqsEvent(message: KbankCallback, delivery: LocalDelivery): SQSEvent {
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
        eventSourceARN: `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:kbank-callbacks`,
        awsRegion: LOCAL_REGION,
      },
    ],
  };
}
