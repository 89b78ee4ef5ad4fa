/**
 * Wires the core's ports to AWS adapters from the environment, once per Lambda container. The local
 * stack and tests build the same dependency objects directly instead (local/stack.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ulidIds } from '../core/ids.js';
import { type CostService, type Kbank, systemClock } from '../core/ports.js';
import { type CreatePaymentDeps, DEFAULT_CAPTURE_WINDOW_SECONDS } from '../core/use-cases/create-payment.js';
import type { CreateRefundDeps } from '../core/use-cases/create-refund.js';
import type { CallbackIntakeDeps, CallbackProcessorDeps } from '../core/use-cases/kbank-callbacks.js';
import type { ReconcileDeps } from '../core/use-cases/reconcile-kbank.js';
import { DEFAULT_REFUND_POLICY, type RefundSagaDeps } from '../core/use-cases/refund-saga.js';
import type { ManualCaptureDeps } from '../core/use-cases/request-capture.js';
import { DEFAULT_POLICY, type SagaDeps } from '../core/use-cases/saga.js';
import type { SweepDeps } from '../core/use-cases/sweep.js';
import { env, required } from './config.js';
import { createCostClient } from './cost-client.js';
import { createDocumentClient, DynamoPaymentRepository } from './dynamo-repository.js';
import { EventBridgePublisher } from './event-publisher.js';
import { createKbankClient } from './kbank-client.js';
import { createNotifyReader } from './kbank-notify.js';
import { StepFunctionsTasks, StepFunctionsWorkflow } from './sfn-workflow.js';
import { SqsNotificationQueue } from './sqs-queue.js';

function once<T>(build: () => T): () => T {
  let value: T | undefined;
  let built = false;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value as T;
  };
}

const repository = once(
  () => new DynamoPaymentRepository(createDocumentClient(new DynamoDBClient({})), env().TABLE_NAME),
);

const secrets = once(() => new SecretsManagerClient({}));

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

export const awsRepository = repository;

export const awsApiDeps = once(
  (): CreatePaymentDeps => ({
    repo: repository(),
    idempotency: repository(),
    workflow: new StepFunctionsWorkflow(new SFNClient({}), required(env(), 'STATE_MACHINE_ARN')),
    clock: systemClock,
    ids: ulidIds,
    ...(env().CAPTURE_WINDOW_SECONDS ? { captureWindowSeconds: env().CAPTURE_WINDOW_SECONDS } : {}),
    actionWindows: {
      ...(env().QR_ACTION_WINDOW_SECONDS ? { qrSeconds: env().QR_ACTION_WINDOW_SECONDS } : {}),
      ...(env().REDIRECT_ACTION_WINDOW_SECONDS
        ? { redirectSeconds: env().REDIRECT_ACTION_WINDOW_SECONDS }
        : {}),
    },
  }),
);

/** Resolves once; a failure is not remembered, so the next call tries again (e.g. a throttled secret read). */
function onceAsync<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= build().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

/**
 * The KBank client, built on first use: only the functions that call KBank have its secret (least
 * privilege), so the others must never try to read it.
 */
const kbankSecret = onceAsync(async () => {
  const config = env();
  return secretValue(config.KBANK_SECRET_ARN, config.KBANK_SECRET_KEY, 'KBANK_SECRET');
});

const kbank = onceAsync(async () => {
  const config = env();
  return createKbankClient({
    baseUrl: config.KBANK_BASE_URL,
    secretKey: await kbankSecret(),
    timeoutMs: config.KBANK_TIMEOUT_MS,
  });
});

const cost = onceAsync(async () => {
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

const lazyKbank: Kbank = {
  chargeCard: async (...args) => (await kbank()).chargeCard(...args),
  inquireCharge: async (...args) => (await kbank()).inquireCharge(...args),
  voidCharge: async (...args) => (await kbank()).voidCharge(...args),
  settleCharge: async (...args) => (await kbank()).settleCharge(...args),
  refundCharge: async (...args) => (await kbank()).refundCharge(...args),
  createQrOrder: async (...args) => (await kbank()).createQrOrder(...args),
  createQr: async (...args) => (await kbank()).createQr(...args),
  chargeAlipay: async (...args) => (await kbank()).chargeAlipay(...args),
  inquireQr: async (...args) => (await kbank()).inquireQr(...args),
  cancelQr: async (...args) => (await kbank()).cancelQr(...args),
  refundQr: async (...args) => (await kbank()).refundQr(...args),
  listTransactions: async (...args) => (await kbank()).listTransactions(...args),
};

const lazyCost: CostService = { quote: async (order) => (await cost()).quote(order) };

export const awsManualCaptureDeps = once(
  (): ManualCaptureDeps => ({
    repo: repository(),
    idempotency: repository(),
    tasks: new StepFunctionsTasks(new SFNClient({})),
    clock: systemClock,
  }),
);

export const awsChangeAmountDeps = once(() => ({ ...awsManualCaptureDeps(), cost: lazyCost }));

export const awsSagaDeps = once(
  (): SagaDeps => ({
    repo: repository(),
    kbank: lazyKbank,
    cost: lazyCost,
    clock: systemClock,
    policy: DEFAULT_POLICY,
    tasks: new StepFunctionsTasks(new SFNClient({})),
  }),
);

/** The reconciliation sweep: reads the due index, starts (and describes) runs of both sagas. */
export const awsSweepDeps = once(
  (): SweepDeps => ({
    repo: repository(),
    payments: new StepFunctionsWorkflow(new SFNClient({}), required(env(), 'STATE_MACHINE_ARN')),
    refunds: new StepFunctionsWorkflow(new SFNClient({}), required(env(), 'REFUND_STATE_MACHINE_ARN')),
    clock: systemClock,
    captureWindowSeconds: env().CAPTURE_WINDOW_SECONDS ?? DEFAULT_CAPTURE_WINDOW_SECONDS,
  }),
);

/** The daily KBank reconciliation: KBank's list (and inquiries, refunds, voids), the table, the bus. */
export const awsReconcileDeps = once(
  (): ReconcileDeps => ({
    repo: repository(),
    kbank: lazyKbank,
    events: new EventBridgePublisher(new EventBridgeClient({}), env().EVENT_BUS_NAME),
    clock: systemClock,
  }),
);

/** POST /v1/payments/{id}/refunds: starts executions of the refund saga only. */
export const awsRefundApiDeps = once(
  (): CreateRefundDeps => ({
    repo: repository(),
    idempotency: repository(),
    workflow: new StepFunctionsWorkflow(new SFNClient({}), required(env(), 'REFUND_STATE_MACHINE_ARN')),
    clock: systemClock,
    ids: ulidIds,
  }),
);

export const awsRefundSagaDeps = once(
  (): RefundSagaDeps => ({
    repo: repository(),
    kbank: lazyKbank,
    clock: systemClock,
    policy: DEFAULT_REFUND_POLICY,
  }),
);

/** The KBank callback endpoints: the notify (checksum, needs the secret) and the browser return. */
export const awsCallbackIntakeDeps = once(
  (): CallbackIntakeDeps => ({
    repo: repository(),
    queue: new SqsNotificationQueue(new SQSClient({}), required(env(), 'NOTIFICATION_QUEUE_URL')),
    notify: createNotifyReader(kbankSecret),
    clock: systemClock,
  }),
);

export const awsCallbackProcessorDeps = once(
  (): CallbackProcessorDeps => ({
    repo: repository(),
    kbank: lazyKbank,
    tasks: new StepFunctionsTasks(new SFNClient({})),
    clock: systemClock,
  }),
);
