/**
 * The AWS edges: each port built from the environment (read once, config.ts) on first use, once per Lambda
 * container, and each function's dependency bundle made from them by the composition root
 * (dependencies.ts). A handler imports its own bundle only, so it builds (and ships) only those clients.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { NamesWhere } from '../catalog.js';
import type { SagaTaskDeps } from '../core/flows/payment-task.js';
import type { RefundSagaDeps } from '../core/flows/refund-step.js';
import { ulidIds } from '../core/ids.js';
import { type CostService, type Kbank, systemClock } from '../core/ports.js';
import { env, required } from './config.js';
import { createCostClient } from './cost-client.js';
import {
  browserReturnDeps,
  callbackIntakeDeps,
  callbackProcessorDeps,
  changeAmountDeps,
  createPaymentDeps,
  createRefundDeps,
  type Edges,
  type GrantedSagaEdges,
  grantPointsDeps,
  manageWebhooksDeps,
  manualCaptureDeps,
  once,
  onceAsync,
  pointsApiDeps,
  reconcileDeps,
  refundSagaDeps,
  retryWebhookDeps,
  type Settings,
  sagaDeps,
  settlementsCloseDeps,
  settlementsConsumerDeps,
  sweepDeps,
  webhookDeliverDeps,
  webhookFanOutDeps,
} from './dependencies.js';
import { DynamoPointsLedger, DynamoPointsPrograms } from './dynamo-points.js';
import { createDocumentClient, dynamoTable } from './dynamo-repository.js';
import { DynamoSettlementStore } from './dynamo-settlements.js';
import { DynamoWebhookStore } from './dynamo-webhooks.js';
import { EventBridgePublisher } from './event-publisher.js';
import { createKbankClient } from './kbank-client.js';
import { SecretsManagerWebhookSecrets } from './secrets-manager-webhook-secrets.js';
import { StepFunctionsTasks, StepFunctionsWorkflow } from './sfn-workflow.js';
import { SqsNotificationQueue } from './sqs-queue.js';
import { SqsWebhookQueue } from './sqs-webhook-queue.js';
import { createWebhookSender } from './webhook-sender.js';

const clock = systemClock;
const ids = ulidIds;

// Every edge and bundle below is built on its first call and kept for the container's life. The
// `@__PURE__` marks let esbuild drop what a function's handler never reaches, SDK clients included.

const settings = /* @__PURE__ */ once((): Settings => {
  const config = env();
  return {
    ...(config.CAPTURE_WINDOW_SECONDS ? { captureWindowSeconds: config.CAPTURE_WINDOW_SECONDS } : {}),
    ...(config.LATE_CHARGE_CHECK_SECONDS ? { lateChargeCheckSeconds: config.LATE_CHARGE_CHECK_SECONDS } : {}),
    actionWindows: {
      ...(config.QR_ACTION_WINDOW_SECONDS ? { qrSeconds: config.QR_ACTION_WINDOW_SECONDS } : {}),
      ...(config.REDIRECT_ACTION_WINDOW_SECONDS
        ? { redirectSeconds: config.REDIRECT_ACTION_WINDOW_SECONDS }
        : {}),
    },
    ...(config.SETTLEMENT_FEES ? { settlementFees: config.SETTLEMENT_FEES } : {}),
    webhookEndpointPolicy: config.WEBHOOK_ENDPOINT_POLICY,
    ...(config.WEBHOOK_RETRY_SCHEDULE_SECONDS
      ? { webhookRetryScheduleSeconds: config.WEBHOOK_RETRY_SCHEDULE_SECONDS }
      : {}),
  };
});

const documents = /* @__PURE__ */ once(() => createDocumentClient(new DynamoDBClient({})));

const table = /* @__PURE__ */ once(() => dynamoTable(documents(), env().TABLE_NAME));

const settlements = /* @__PURE__ */ once(() => new DynamoSettlementStore(documents(), env().TABLE_NAME));

const points = /* @__PURE__ */ once(() => ({
  ledger: new DynamoPointsLedger(documents(), env().TABLE_NAME),
  programs: new DynamoPointsPrograms(documents(), env().TABLE_NAME),
}));

const sfn = /* @__PURE__ */ once(() => new SFNClient({}));
const tasks = /* @__PURE__ */ once(() => new StepFunctionsTasks(sfn()));
const paymentRuns = /* @__PURE__ */ once(
  () => new StepFunctionsWorkflow(sfn(), required(env(), 'STATE_MACHINE_ARN')),
);
const refundRuns = /* @__PURE__ */ once(
  () => new StepFunctionsWorkflow(sfn(), required(env(), 'REFUND_STATE_MACHINE_ARN')),
);

const notifications = /* @__PURE__ */ once(
  () => new SqsNotificationQueue(new SQSClient({}), required(env(), 'NOTIFICATION_QUEUE_URL')),
);

const events = /* @__PURE__ */ once(
  () => new EventBridgePublisher(new EventBridgeClient({}), env().EVENT_BUS_NAME),
);

const secrets = /* @__PURE__ */ once(() => new SecretsManagerClient({}));

const webhooks = /* @__PURE__ */ once(() => new DynamoWebhookStore(documents(), env().TABLE_NAME));

const webhookSecrets = /* @__PURE__ */ once(
  () =>
    new SecretsManagerWebhookSecrets(
      secrets(),
      required(env(), 'WEBHOOK_SECRET_PREFIX'),
      env().WEBHOOK_SECRET_KMS_KEY_ID,
    ),
);

const webhookQueue = /* @__PURE__ */ once(
  () =>
    new SqsWebhookQueue(
      new SQSClient({}),
      required(env(), 'WEBHOOK_DELIVERY_QUEUE_URL'),
      env().WEBHOOK_DEAD_LETTER_QUEUE_URL,
    ),
);

const webhookSender = /* @__PURE__ */ once(() => createWebhookSender(env().WEBHOOK_ENDPOINT_POLICY));

async function secretValue(
  arn: string | undefined,
  inline: string | undefined,
  name: string,
): Promise<string> {
  if (inline) return inline;
  if (!arn) throw new Error(`invalid configuration: ${name} needs a secret ARN or a value`);
  const { SecretString } = await secrets().send(new GetSecretValueCommand({ SecretId: arn }));
  if (!SecretString) throw new Error(`secret for ${name} is empty`);
  return SecretString;
}

/**
 * Read on first use: only the functions that call KBank have its secret (least privilege), so the others
 * must never try to read it. A failed read is tried again on the next call.
 */
const kbankSecret = /* @__PURE__ */ onceAsync(async () => {
  const config = env();
  return secretValue(config.KBANK_SECRET_ARN, config.KBANK_SECRET_KEY, 'KBANK_SECRET');
});

const kbankClient = /* @__PURE__ */ onceAsync(async () => {
  const config = env();
  return createKbankClient({
    baseUrl: config.KBANK_BASE_URL,
    secretKey: await kbankSecret(),
    timeoutMs: config.KBANK_TIMEOUT_MS,
  });
});

const costClient = /* @__PURE__ */ onceAsync(async () => {
  const config = env();
  const apiKey =
    config.COST_SERVICE_API_KEY_SECRET_ARN || config.COST_SERVICE_API_KEY
      ? await secretValue(
          config.COST_SERVICE_API_KEY_SECRET_ARN,
          config.COST_SERVICE_API_KEY,
          'COST_SERVICE_API_KEY',
        )
      : undefined;
  return createCostClient({
    baseUrl: required(config, 'COST_SERVICE_URL'),
    timeoutMs: config.COST_SERVICE_TIMEOUT_MS,
    ...(apiKey ? { apiKey } : {}),
  });
});

/** KBank through its client, which is built (its secret read) on the first call. */
const kbank = /* @__PURE__ */ once(
  (): Kbank => ({
    chargeCard: async (...args) => (await kbankClient()).chargeCard(...args),
    inquireCharge: async (...args) => (await kbankClient()).inquireCharge(...args),
    voidCharge: async (...args) => (await kbankClient()).voidCharge(...args),
    settleCharge: async (...args) => (await kbankClient()).settleCharge(...args),
    refundCharge: async (...args) => (await kbankClient()).refundCharge(...args),
    createQrOrder: async (...args) => (await kbankClient()).createQrOrder(...args),
    createQr: async (...args) => (await kbankClient()).createQr(...args),
    chargeAlipay: async (...args) => (await kbankClient()).chargeAlipay(...args),
    inquireQr: async (...args) => (await kbankClient()).inquireQr(...args),
    cancelQr: async (...args) => (await kbankClient()).cancelQr(...args),
    refundQr: async (...args) => (await kbankClient()).refundQr(...args),
    listTransactions: async (...args) => (await kbankClient()).listTransactions(...args),
  }),
);

const cost = /* @__PURE__ */ once(
  (): CostService => ({ quote: async (order) => (await costClient()).quote(order) }),
);

export const awsRepository = table;

export const awsApiDeps = /* @__PURE__ */ once(() =>
  createPaymentDeps({ table, paymentRuns, clock, ids, settings, points }),
);

export const awsManualCaptureDeps = /* @__PURE__ */ once(() => manualCaptureDeps({ table, tasks, clock }));

export const awsChangeAmountDeps = /* @__PURE__ */ once(() =>
  changeAmountDeps({ table, tasks, cost, clock }),
);

/** Every edge a saga task may be given: a handler passes those of its catalog access (awsSagaTaskDeps). */
export const awsKbank = kbank;
export const awsCost = cost;
export const awsTasks = tasks;
export const awsEvents = events;

type PaymentSagaTask = NamesWhere<{ kind: 'saga-task'; saga: 'payment' }>;
type RefundSagaTask = NamesWhere<{ kind: 'saga-task'; saga: 'refund' }>;

/**
 * A payment saga task's bundle from exactly the edges its catalog access grants (GrantedSagaEdges: the
 * type refuses a missing or an extra one), so that the function builds and bundles no other client.
 */
export function awsSagaTaskDeps<N extends PaymentSagaTask>(
  _task: N,
  granted: Pick<Edges, GrantedSagaEdges<N>>,
): () => SagaTaskDeps {
  return once(() => sagaDeps({ table, clock, settings, ...granted }));
}

/** As awsSagaTaskDeps, for the refund saga's tasks (`kbank` is the only edge they may be given). */
export function awsRefundTaskDeps<N extends RefundSagaTask>(
  _task: N,
  granted: Pick<Edges, GrantedSagaEdges<N> & 'kbank'>,
): () => RefundSagaDeps {
  return once(() => refundSagaDeps({ table, clock, ...granted }));
}

/** The saga with every edge (tests and tools; a Lambda handler uses awsSagaTaskDeps). */
export const awsSagaDeps = /* @__PURE__ */ once(() =>
  sagaDeps({ table, kbank, cost, tasks, events, clock, settings }),
);

/** POST /v1/payments/{id}/refunds: starts executions of the refund saga only. */
export const awsRefundApiDeps = /* @__PURE__ */ once(() =>
  createRefundDeps({ table, refundRuns, clock, ids }),
);

/** The refund saga with every edge (tests and tools; a Lambda handler uses awsRefundTaskDeps). */
export const awsRefundSagaDeps = /* @__PURE__ */ once(() => refundSagaDeps({ table, kbank, clock }));

export const awsCallbackIntakeDeps = /* @__PURE__ */ once(() =>
  callbackIntakeDeps({ table, notifications, kbankSecret, clock }),
);

export const awsBrowserReturnDeps = /* @__PURE__ */ once(() => browserReturnDeps({ notifications, clock }));

export const awsCallbackProcessorDeps = /* @__PURE__ */ once(() =>
  callbackProcessorDeps({ table, kbank, tasks, clock }),
);

export const awsSweepDeps = /* @__PURE__ */ once(() =>
  sweepDeps({ table, kbank, paymentRuns, refundRuns, clock, settings }),
);

export const awsReconcileDeps = /* @__PURE__ */ once(() => reconcileDeps({ table, kbank, events, clock }));

export const awsSettlementsConsumerDeps = /* @__PURE__ */ once(() =>
  settlementsConsumerDeps({ table, settlements, clock, settings }),
);

export const awsSettlementsCloseDeps = /* @__PURE__ */ once(() =>
  settlementsCloseDeps({ settlements, events, clock }),
);

export const awsSettlementsReadDeps = /* @__PURE__ */ once(() => ({ settlements: settlements() }));

/** The points API: grants, balances and the ledger. */
export const awsPointsApiDeps = /* @__PURE__ */ once(() => pointsApiDeps({ table, points, clock }));
export const awsGrantPointsDeps = /* @__PURE__ */ once(() =>
  grantPointsDeps({ table, points, events, clock }),
);
export const awsManageWebhooksDeps = /* @__PURE__ */ once(() =>
  manageWebhooksDeps({ table, webhooks, webhookSecrets, clock, ids, settings }),
);

export const awsReadWebhookDeliveriesDeps = /* @__PURE__ */ once(() => ({ webhooks: webhooks() }));

export const awsRetryWebhookDeps = /* @__PURE__ */ once(() =>
  retryWebhookDeps({ table, webhooks, webhookQueue, clock }),
);

export const awsWebhookFanOutDeps = /* @__PURE__ */ once(() =>
  webhookFanOutDeps({ table, webhooks, webhookQueue, clock, ids }),
);

export const awsWebhookDeliverDeps = /* @__PURE__ */ once(() =>
  webhookDeliverDeps({ webhooks, webhookSecrets, webhookQueue, webhookSender, events, clock, settings }),
);
