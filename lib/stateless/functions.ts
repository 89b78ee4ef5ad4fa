/** The functions: one house PaymentFunction per catalog entry, its environment and IAM made from its `access`. */
import path from 'node:path';
import { ArnFormat, Duration, type RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { CATALOG, FUNCTION_NAMES, type FunctionName, type FunctionSpec } from '../../functions/catalog.js';
import type { FeeSchedule } from '../../functions/core/settlements.js';
import { type LogLevel, PaymentFunction } from '../constructs/payment-function.js';
import { grantIndexQuery, grantQueueSend, grantSecretRead, grantTableAccess } from './grants.js';

/** KBank KPGW sandbox; production stages pass `https://kpaymentgateway-services.kasikornbank.com`. */
export const KBANK_SANDBOX_URL = 'https://dev-kpaymentgateway-services.kasikornbank.com';

/** A state machine as the functions know it: by its fixed name and the ARN built from it. */
export interface SagaRef {
  name: string;
  arn: string;
}

export interface CatalogFunctionsProps {
  table: dynamodb.ITable;
  eventBus: events.IEventBus;
  logEncryptionKey: kms.IKey;
  logRemovalPolicy: RemovalPolicy;
  logLevel?: LogLevel;
  kbankSecret: secretsmanager.ISecret;
  costServiceApiKeySecret: secretsmanager.ISecret;
  notificationQueue: sqs.IQueue;
  /** The settlements consumer's queue (fed by a rule on the bus, stateful stack). */
  settlementQueue: sqs.IQueue;
  /** The settlements' fee table (SETTLEMENT_FEES); default in code (DEFAULT_FEE_SCHEDULE). */
  settlementFees?: FeeSchedule;
  /** The webhook consumer's queue (fed by a rule on the bus, stateful stack). */
  webhookEventQueue: sqs.IQueue;
  /** One message per webhook delivery attempt; its DLQ takes deliveries whose schedule is spent. */
  webhookDeliveryQueue: sqs.IQueue;
  webhookDeadLetterQueue: sqs.IQueue;
  /** Secrets Manager name prefix of the endpoints' signing secrets (`payments/<stage>/webhooks/`). */
  webhookSecretPrefix: string;
  /** Encrypts those secrets (the stack's key). */
  webhookSecretKey: kms.IKey;
  /** The webhook retry schedule in seconds (WEBHOOK_RETRY_SCHEDULE_SECONDS); default in code (105.6 h). */
  webhookRetryScheduleSeconds?: readonly number[];
  costServiceUrl: string;
  /** Default KBANK_SANDBOX_URL. */
  kbankBaseUrl?: string;
  /** Per KBank request. Default 8000. */
  kbankTimeoutMs?: number;
  /** Per cost service attempt. Default 3000. */
  costServiceTimeoutMs?: number;
  captureWindow?: Duration;
  qrActionWindow?: Duration;
  redirectActionWindow?: Duration;
  /** Referenced by name, not by resource: the sagas need the task functions' ARNs first. */
  sagas: { payment: SagaRef; refund: SagaRef };
  /** Handler directory relative to the project root. Default functions/handlers. */
  handlersDir?: string;
  /** Replaces the esbuild bundle of every function (infra tests: `lambda.Code.fromInline`). */
  codeFor?: (name: FunctionName) => lambda.Code;
}

export interface CatalogFunctions {
  functions: Record<FunctionName, lambda.Function>;
  /** Each function's log group (metric filters count lines in some). */
  logGroups: Record<FunctionName, logs.LogGroup>;
}

/** The construct id of a function: its name in PascalCase (`saga-authorize` → `SagaAuthorize`). */
export function toPascalCase(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

export function catalogFunctions(stack: Stack, props: CatalogFunctionsProps): CatalogFunctions {
  const handlersDir = props.handlersDir ?? 'functions/handlers';
  const functions = {} as Record<FunctionName, lambda.Function>;
  const logGroups = {} as Record<FunctionName, logs.LogGroup>;
  for (const name of FUNCTION_NAMES) {
    const spec: FunctionSpec = CATALOG[name];
    const paymentFunction = new PaymentFunction(stack, toPascalCase(name), {
      entry: path.join(handlersDir, `${name}.ts`),
      description: spec.description,
      environment: environmentOf(spec, props),
      timeout: spec.timeoutSeconds === undefined ? undefined : Duration.seconds(spec.timeoutSeconds),
      logEncryptionKey: props.logEncryptionKey,
      logRemovalPolicy: props.logRemovalPolicy,
      logLevel: props.logLevel,
      code: props.codeFor?.(name),
    });
    grant(paymentFunction.function, spec, props);
    functions[name] = paymentFunction.function;
    logGroups[name] = paymentFunction.logGroup;
  }
  return { functions, logGroups };
}

/** Every function gets the table and the bus; the rest only with the access that uses it. */
function environmentOf(spec: FunctionSpec, props: CatalogFunctionsProps): Record<string, string> {
  const { access } = spec;
  const environment: Record<string, string> = {
    TABLE_NAME: props.table.tableName,
    EVENT_BUS_NAME: props.eventBus.eventBusName,
  };
  if (access.kbank) {
    environment.KBANK_BASE_URL = props.kbankBaseUrl ?? KBANK_SANDBOX_URL;
    environment.KBANK_SECRET_ARN = props.kbankSecret.secretArn;
    environment.KBANK_TIMEOUT_MS = String(props.kbankTimeoutMs ?? 8000);
  }
  if (access.cost) {
    environment.COST_SERVICE_URL = props.costServiceUrl;
    environment.COST_SERVICE_API_KEY_SECRET_ARN = props.costServiceApiKeySecret.secretArn;
    environment.COST_SERVICE_TIMEOUT_MS = String(props.costServiceTimeoutMs ?? 3000);
  }
  if (access.startsSaga || access.sweeps) environment.STATE_MACHINE_ARN = props.sagas.payment.arn;
  if ((access.startsSaga || access.sweeps) && props.captureWindow) {
    environment.CAPTURE_WINDOW_SECONDS = String(props.captureWindow.toSeconds());
  }
  if (access.actionWindows && props.qrActionWindow) {
    environment.QR_ACTION_WINDOW_SECONDS = String(props.qrActionWindow.toSeconds());
  }
  if (access.actionWindows && props.redirectActionWindow) {
    environment.REDIRECT_ACTION_WINDOW_SECONDS = String(props.redirectActionWindow.toSeconds());
  }
  if (access.sendsNotifications) environment.NOTIFICATION_QUEUE_URL = props.notificationQueue.queueUrl;
  if (access.settlementFees && props.settlementFees) {
    environment.SETTLEMENT_FEES = JSON.stringify(props.settlementFees);
  }
  if (access.startsRefundSaga || access.sweeps) environment.REFUND_STATE_MACHINE_ARN = props.sagas.refund.arn;
  if (access.webhookSecrets) {
    environment.WEBHOOK_SECRET_PREFIX = props.webhookSecretPrefix;
    environment.WEBHOOK_SECRET_KMS_KEY_ID = props.webhookSecretKey.keyArn;
    environment.WEBHOOK_ENDPOINT_POLICY = 'public';
  }
  if (access.queuesWebhooks) environment.WEBHOOK_DELIVERY_QUEUE_URL = props.webhookDeliveryQueue.queueUrl;
  if (access.deliversWebhooks) {
    environment.WEBHOOK_DEAD_LETTER_QUEUE_URL = props.webhookDeadLetterQueue.queueUrl;
    if (props.webhookRetryScheduleSeconds) {
      environment.WEBHOOK_RETRY_SCHEDULE_SECONDS = JSON.stringify(props.webhookRetryScheduleSeconds);
    }
  }
  return environment;
}

function grant(fn: lambda.Function, spec: FunctionSpec, props: CatalogFunctionsProps): void {
  const { access } = spec;
  const { payment, refund } = props.sagas;
  if (access.table) grantTableAccess(fn, props.table, access.table);
  if (access.queriesIndex) grantIndexQuery(fn, props.table, access.queriesIndex);
  if (access.kbank) grantSecretRead(fn, props.kbankSecret);
  if (access.cost) grantSecretRead(fn, props.costServiceApiKeySecret);
  if (access.publishesEvents) props.eventBus.grantPutEventsTo(fn);
  if (access.startsSaga) {
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [payment.arn] }),
    );
  }
  if (access.startsRefundSaga) {
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [refund.arn] }),
    );
  }
  if (access.resumesSaga) {
    // Task tokens are not resources: Step Functions authorizes these calls on the state machine.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
        resources: [payment.arn],
      }),
    );
  }
  if (access.sweeps) grantSweep(fn, props.sagas);
  if (access.sendsNotifications) grantQueueSend(fn, props.notificationQueue);
  if (access.webhookSecrets) grantWebhookSecrets(fn, props, access.webhookSecrets);
  if (access.queuesWebhooks) grantQueueSend(fn, props.webhookDeliveryQueue);
  if (access.deliversWebhooks) grantQueueSend(fn, props.webhookDeadLetterQueue);
  if (spec.kind === 'queue-consumer') {
    // The queue's grantConsumeMessages: receive/delete/change visibility on this queue, kms:Decrypt.
    const queues = {
      notifications: props.notificationQueue,
      settlements: props.settlementQueue,
      'webhook-events': props.webhookEventQueue,
      'webhook-deliveries': props.webhookDeliveryQueue,
    };
    const queue = queues[spec.queue];
    fn.addEventSource(
      new lambdaEventSources.SqsEventSource(queue, {
        batchSize: spec.batchSize,
        // The consumers return SQSBatchResponse: only the failed messages come back.
        reportBatchItemFailures: true,
      }),
    );
  }
}

/**
 * The endpoints' signing secrets: the secrets under the stage's prefix and nothing else, read only (the
 * delivery) or also created, overwritten and deleted (the registry); the stack's key through Secrets
 * Manager only.
 */
function grantWebhookSecrets(
  fn: lambda.Function,
  props: CatalogFunctionsProps,
  mode: 'read' | 'write',
): void {
  const stack = Stack.of(fn);
  const secrets = stack.formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${props.webhookSecretPrefix}*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions:
        mode === 'read'
          ? ['secretsmanager:GetSecretValue']
          : [
              'secretsmanager:CreateSecret',
              'secretsmanager:PutSecretValue',
              'secretsmanager:GetSecretValue',
              'secretsmanager:DeleteSecret',
            ],
      resources: [secrets],
    }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: mode === 'read' ? ['kms:Decrypt'] : ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [props.webhookSecretKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` } },
    }),
  );
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  if (!fn.role) throw new Error(`${fn.node.id} has no role`);
  Validations.of(fn.role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:${region}:${account}:secret:${props.webhookSecretPrefix}*]`,
    reason:
      'One secret per webhook endpoint, named by endpoint ids unknown in advance: only the secrets under this stage’s webhook prefix.',
  });
}

/** The reconciliation sweep starts (and describes) runs of both sagas, and nothing else of them. */
function grantSweep(fn: lambda.Function, sagas: { payment: SagaRef; refund: SagaRef }): void {
  const machines = [sagas.payment, sagas.refund];
  fn.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: machines.map((m) => m.arn) }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['states:DescribeExecution'],
      resources: machines.map((m) => `${m.arn.replace(':stateMachine:', ':execution:')}:*`),
    }),
  );
  const stack = Stack.of(fn);
  // cdk-nag names an unresolved region or account by its pseudo parameter, a concrete one as it is.
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  const reason =
    'DescribeExecution needs execution ARNs, which are named by payment and refund ids (and the sweep’s restarts) unknown in advance: any execution of these two state machines, and no other.';
  if (!fn.role) throw new Error(`${fn.node.id} has no role`);
  Validations.of(fn.role).acknowledge(
    ...machines.map((machine) => ({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${region}:${account}:execution:${machine.name}:*]`,
      reason,
    })),
  );
}
