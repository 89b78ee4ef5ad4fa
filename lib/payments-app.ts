/** Composition of one stage of the payment system: the stateful stack, then the stateless stack wired to it. */
import type { Duration, Environment } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct, Node } from 'constructs';
import type { FeeSchedule } from '../functions/core/settlements.js';
import { StatefulStack } from './stateful-stack.js';
import { type HandlerName, KBANK_SANDBOX_URL, StatelessStack } from './stateless-stack.js';

export interface StageConfig {
  /** `dev`, `staging`, `prod` …: lower case, part of stack and resource names. */
  stage: string;
  /** Merchant cost calculation endpoint. Required in prod; a non-resolving placeholder elsewhere. */
  costServiceUrl: string;
  /** Default the KBank sandbox. */
  kbankBaseUrl: string;
  /** Subscribed to the alarm topic when set. */
  alarmEmail?: string;
}

/** A `.invalid` host never resolves: a stage deployed without a cost URL fails VerifyCost loudly, not silently. */
export const COST_SERVICE_PLACEHOLDER_URL = 'https://cost-service.invalid';

/** Reads `-c stage=… -c costServiceUrl=… -c kbankBaseUrl=… -c alarmEmail=…`; fails fast on bad values. */
export function stageConfigFromContext(node: Node): StageConfig {
  const read = (key: string): string | undefined => {
    const value: unknown = node.tryGetContext(key);
    return typeof value === 'string' && value.length > 0 ? value : undefined;
  };
  const stage = read('stage') ?? 'dev';
  if (!/^[a-z][a-z0-9]{0,15}$/.test(stage)) {
    throw new Error(
      `context stage "${stage}" must be 1-16 lower-case letters/digits, starting with a letter`,
    );
  }
  const costServiceUrl = read('costServiceUrl');
  if (!costServiceUrl && stage === 'prod')
    throw new Error('context costServiceUrl is required for stage prod');
  return {
    stage,
    costServiceUrl: costServiceUrl ?? COST_SERVICE_PLACEHOLDER_URL,
    kbankBaseUrl: read('kbankBaseUrl') ?? KBANK_SANDBOX_URL,
    alarmEmail: read('alarmEmail'),
  };
}

export interface PaymentStacksOptions extends StageConfig {
  env?: Environment;
  /** Passed to the stateless stack (infra tests). */
  definitionPath?: string;
  handlersDir?: string;
  codeFor?: (handler: HandlerName) => lambda.Code;
  /** Passed to the stateless stack: the customer's time to pay a QR / finish a redirect (its defaults). */
  qrActionWindow?: Duration;
  redirectActionWindow?: Duration;
  /** Passed to the stateless stack: the settlements' fee table (default in code). */
  settlementFees?: FeeSchedule;
}

export function createPaymentStacks(
  scope: Construct,
  options: PaymentStacksOptions,
): { stateful: StatefulStack; stateless: StatelessStack } {
  const prefix = `Payments-${options.stage}`;
  const stateful = new StatefulStack(scope, `${prefix}-Stateful`, {
    env: options.env,
    stage: options.stage,
    alarmEmail: options.alarmEmail,
    description: `Payments ${options.stage}: KMS key, DynamoDB table, event bus, finance and notification queues, secrets, alarm topic`,
    terminationProtection: options.stage === 'prod',
  });
  const stateless = new StatelessStack(scope, `${prefix}-Stateless`, {
    env: options.env,
    stage: options.stage,
    description: `Payments ${options.stage}: REST API, Lambda functions, payment saga state machine, alarms`,
    table: stateful.table,
    eventBus: stateful.eventBus,
    logEncryptionKey: stateful.key,
    kbankSecret: stateful.kbankSecret,
    costServiceApiKeySecret: stateful.costServiceApiKeySecret,
    alarmTopic: stateful.alarmTopic,
    notificationQueue: stateful.notificationQueue.queue,
    settlementQueue: stateful.settlementQueue.queue,
    webhookEventQueue: stateful.webhookEventQueue.queue,
    webhookDeliveryQueue: stateful.webhookDeliveryQueue.queue,
    webhookDeadLetterQueue: stateful.webhookDeliveryQueue.deadLetterQueue,
    costServiceUrl: options.costServiceUrl,
    kbankBaseUrl: options.kbankBaseUrl,
    definitionPath: options.definitionPath,
    handlersDir: options.handlersDir,
    codeFor: options.codeFor,
    qrActionWindow: options.qrActionWindow,
    redirectActionWindow: options.redirectActionWindow,
    settlementFees: options.settlementFees,
  });
  return { stateful, stateless };
}
