/** Stateless stack: the REST API, one Lambda per handler, the payment saga state machine, and their alarms. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  ArnFormat,
  type CfnElement,
  CfnOutput,
  CrossStackReferences,
  Duration,
  ReferenceStrength,
  RemovalPolicy,
  Stack,
  type StackProps,
  TimeZone,
  Validations,
} from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import { TABLE_DESIGN } from '../functions/adapters/table-design.js';
import { API_KEY_PATTERN } from '../functions/core/use-cases/authenticate.js';
import {
  type LogLevel,
  PAYMENT_FUNCTION_DEFAULTS,
  PaymentFunction,
  PROJECT_ROOT,
} from './constructs/payment-function.js';
import { NOTIFICATION_PROCESSOR_TIMEOUT } from './stateful-stack.js';

/** KBank KPGW sandbox; production stages pass `https://kpaymentgateway-services.kasikornbank.com`. */
export const KBANK_SANDBOX_URL = 'https://dev-kpaymentgateway-services.kasikornbank.com';

/** Base of the RFC 9457 `type` of every problem, as the handlers write it (functions/handlers/http.ts). */
export const PROBLEM_TYPE_BASE = '/problems/';

/** The 3-D Secure return route (`POST`, no authorizer); the KBank notify is its parent, `/v1/webhooks/kbank`. */
export const BROWSER_RETURN_PATH = '/v1/webhooks/kbank/return';

export interface HandlerSpec {
  description: string;
  /** DynamoDB access (grantTableAccess: the table, its named GSIs and its CMK). */
  table?: 'read' | 'readwrite';
  /** Reads the KBank secret; gets KBANK_* variables. */
  kbank?: boolean;
  /** Reads the cost service API key secret; gets COST_SERVICE_* variables. */
  cost?: boolean;
  /** May PutEvents on the payments bus. None does today: the state machine emits the events. */
  publishesEvents?: boolean;
  /** May StartExecution on the saga; gets STATE_MACHINE_ARN. */
  startsSaga?: boolean;
  /** May SendTaskSuccess/SendTaskFailure to resume the saga's parked tasks (capture, cancel). */
  resumesSaga?: boolean;
  /** Default PAYMENT_FUNCTION_DEFAULTS.timeout (10 s). */
  timeout?: Duration;
  /** The state machine's definitionSubstitutions key for this task's function ARN. */
  sagaArnKey?: string;
  /** May StartExecution on the refund saga (and nothing else); gets REFUND_STATE_MACHINE_ARN. */
  startsRefundSaga?: boolean;
  /** The refund state machine's definitionSubstitutions key for this task's function ARN. */
  refundSagaArnKey?: string;
  /** dynamodb:Query on this GSI only (no table reads, no writes), for functions that only list. */
  queriesIndex?: (typeof TABLE_DESIGN.globalSecondaryIndexes)[number]['indexName'];
  /** May SendMessage to the KBank notification queue (and nothing else on it); gets NOTIFICATION_QUEUE_URL. */
  sendsNotifications?: boolean;
  /** Consumes the notification queue (SQS event source, batches of 10, per-item failures). */
  consumesNotifications?: boolean;
  /** Gets QR_ACTION_WINDOW_SECONDS / REDIRECT_ACTION_WINDOW_SECONDS when the stack props set them. */
  actionWindows?: boolean;
  /**
   * The reconciliation sweep: StartExecution and DescribeExecution on both sagas (nothing else of them),
   * both ARNs and CAPTURE_WINDOW_SECONDS; invoked by EventBridge Scheduler every `sweepInterval`.
   */
  sweeps?: boolean;
}

/** Saga tasks call KBank (8 s per request) or the cost service (up to ~9.3 s with retries). */
const SAGA_TIMEOUT = Duration.seconds(30);

/**
 * Every Lambda, keyed by its file name in functions/handlers/. Permissions and environment come from this
 * table only, so least privilege is readable in one place.
 */
export const HANDLERS = {
  'api-authorizer': { description: 'REST API TOKEN authorizer: Bearer API key → merchant', table: 'read' },
  'api-create-payment': {
    description: 'POST /v1/payments',
    table: 'readwrite',
    startsSaga: true,
    actionWindows: true,
  },
  'api-get-payment': { description: 'GET /v1/payments/{id}', table: 'read' },
  'api-list-payment-events': { description: 'GET /v1/payments/{id}/events', table: 'read' },
  'api-list-payments': { description: 'GET /v1/payments (search, GSI1 Query only)', queriesIndex: 'GSI1' },
  'api-health': { description: 'GET /v1/health (no auth, no data access)' },
  'api-capture-payment': {
    description: 'POST /v1/payments/{id}/capture',
    table: 'readwrite',
    resumesSaga: true,
  },
  'api-cancel-payment': {
    description: 'POST /v1/payments/{id}/cancel',
    table: 'readwrite',
    resumesSaga: true,
  },
  'api-update-payment': {
    description: 'PATCH /v1/payments/{id} (amount change before capture, re-priced by the cost service)',
    table: 'readwrite',
    cost: true,
    resumesSaga: true,
    timeout: SAGA_TIMEOUT,
  },
  'saga-await-capture': {
    description: 'Saga task AwaitCapture (callback): park until the merchant captures or cancels',
    table: 'readwrite',
    resumesSaga: true,
    timeout: SAGA_TIMEOUT,
    sagaArnKey: 'AwaitCaptureFunctionArn',
  },
  'saga-verify-cost': {
    description: 'Saga task VerifyCost: order total from the cost service',
    table: 'readwrite',
    cost: true,
    timeout: SAGA_TIMEOUT,
    sagaArnKey: 'VerifyCostFunctionArn',
  },
  'saga-authorize': {
    description: 'Saga task Authorize: KBank create charge',
    table: 'readwrite',
    kbank: true,
    timeout: SAGA_TIMEOUT,
    sagaArnKey: 'AuthorizeFunctionArn',
  },
  'saga-inquire-authorization': {
    description: 'Saga task InquireAuthorization: KBank inquiry after an unknown outcome',
    table: 'readwrite',
    kbank: true,
    timeout: SAGA_TIMEOUT,
    sagaArnKey: 'InquireAuthorizationFunctionArn',
  },
  'saga-capture': {
    description: 'Saga task Capture: KBank settle',
    table: 'readwrite',
    kbank: true,
    timeout: SAGA_TIMEOUT,
    sagaArnKey: 'CaptureFunctionArn',
  },
  'saga-void': {
    description: 'Saga task Void: KBank void (compensation)',
    table: 'readwrite',
    kbank: true,
    timeout: SAGA_TIMEOUT,
    sagaArnKey: 'VoidFunctionArn',
  },
  'saga-reenter': {
    description: 'Saga task Reenter: where a run the reconciliation sweep started takes over',
    table: 'readwrite',
    timeout: SAGA_TIMEOUT,
    sagaArnKey: 'ReenterFunctionArn',
  },
  'ops-sweep': {
    description:
      'Reconciliation sweep (scheduled): restart dead or lost sagas of overdue payments and refunds',
    table: 'readwrite',
    sweeps: true,
    timeout: Duration.minutes(2),
  },
  'ops-reconcile-kbank': {
    description:
      "Daily KBank reconciliation (scheduled): KBank's transaction list against our attempts and refunds",
    table: 'readwrite',
    kbank: true,
    publishesEvents: true,
    timeout: Duration.minutes(10),
  },
  'saga-fail-payment': {
    description: 'Saga task FailPayment: record the terminal failure',
    table: 'readwrite',
    timeout: SAGA_TIMEOUT,
    sagaArnKey: 'FailPaymentFunctionArn',
  },
  'api-create-refund': {
    description: 'POST /v1/payments/{id}/refunds',
    table: 'readwrite',
    startsRefundSaga: true,
    // Parallel refunds of one payment race for its version and retry for up to 20 s (DEFAULT_CONTENTION),
    // within API Gateway's 29 s.
    timeout: Duration.seconds(25),
  },
  'api-list-refunds': { description: 'GET /v1/payments/{id}/refunds', table: 'read' },
  'saga-refund-at-kbank': {
    description: 'Refund saga task RefundAtKbank: KBank refund (sent once, marked first)',
    table: 'readwrite',
    kbank: true,
    timeout: SAGA_TIMEOUT,
    refundSagaArnKey: 'RefundAtKbankFunctionArn',
  },
  'saga-inquire-refund': {
    description: "Refund saga task InquireRefund: KBank inquiry of the charge's refunded total",
    table: 'readwrite',
    kbank: true,
    timeout: SAGA_TIMEOUT,
    refundSagaArnKey: 'InquireRefundFunctionArn',
  },
  'saga-refund-unresolved': {
    description: 'Refund saga task RefundUnresolved: record the refund as unknown, reservation held',
    table: 'readwrite',
    timeout: SAGA_TIMEOUT,
    refundSagaArnKey: 'RefundUnresolvedFunctionArn',
  },
  'api-get-payment-qr': { description: 'GET /v1/payments/{id}/qr (the QR to scan)', table: 'read' },
  'api-kbank-webhook': {
    description: 'POST /v1/webhooks/kbank (KBank notify, no API key: checksum verified, then queued)',
    table: 'readwrite',
    // The KBank secret keys the notify checksum.
    kbank: true,
    sendsNotifications: true,
  },
  'api-kbank-return': {
    description: 'POST /v1/webhooks/kbank/return (3-D Secure browser form, untrusted: only queued)',
    sendsNotifications: true,
  },
  'kbank-notifications': {
    description: 'Notification processor: KBank callbacks from SQS, re-inquired at KBank, resume the saga',
    table: 'readwrite',
    kbank: true,
    resumesSaga: true,
    consumesNotifications: true,
    timeout: NOTIFICATION_PROCESSOR_TIMEOUT,
  },
  'saga-await-action': {
    description: "Saga task AwaitAction (callback): park until KBank reports the customer's step",
    table: 'readwrite',
    resumesSaga: true,
    timeout: SAGA_TIMEOUT,
    sagaArnKey: 'AwaitActionFunctionArn',
  },
  'saga-resolve-action': {
    description: 'Saga task ResolveAction: KBank inquiry after a callback or the end of the action window',
    table: 'readwrite',
    kbank: true,
    timeout: SAGA_TIMEOUT,
    sagaArnKey: 'ResolveActionFunctionArn',
  },
} as const satisfies Record<string, HandlerSpec>;

export type HandlerName = keyof typeof HANDLERS;
export const HANDLER_NAMES = Object.keys(HANDLERS) as HandlerName[];

export interface StatelessStackProps extends StackProps {
  stage: string;
  /** Production: RETAIN log groups. Default: stage === 'prod'. */
  prod?: boolean;
  table: dynamodb.ITable;
  eventBus: events.IEventBus;
  /** Encrypts every log group of this stack (its key policy must admit CloudWatch Logs). */
  logEncryptionKey: kms.IKey;
  kbankSecret: secretsmanager.ISecret;
  costServiceApiKeySecret: secretsmanager.ISecret;
  alarmTopic: sns.ITopic;
  /**
   * The KBank notification queue (stateful stack, KMS-encrypted with its own DLQ): the callback endpoints
   * send to it, `kbank-notifications` consumes it.
   */
  notificationQueue: sqs.IQueue;
  /** The merchant's cost calculation endpoint (docs/cost-service.md). */
  costServiceUrl: string;
  /** Default KBANK_SANDBOX_URL. */
  kbankBaseUrl?: string;
  /** Per KBank request. Default 8000. */
  kbankTimeoutMs?: number;
  /** Per cost service attempt. Default 3000. */
  costServiceTimeoutMs?: number;
  /** Default INFO. */
  logLevel?: LogLevel;
  /** How often EventBridge Scheduler runs the reconciliation sweep. Default 1 minute. */
  sweepInterval?: Duration;
  /**
   * Manual capture: how long an authorization waits for the merchant before the saga voids it. Default
   * 6.5 days (KBank holds card authorizations about 7 days; the void must land before that).
   */
  captureWindow?: Duration;
  /**
   * Thai QR / WeChat Pay: how long the customer has to pay before the saga expires the QR. Stored on the
   * payment by create-payment. Default (in code): 600 s.
   */
  qrActionWindow?: Duration;
  /** Alipay / 3-D Secure: how long the customer has to finish the redirect. Default (in code): 900 s. */
  redirectActionWindow?: Duration;
  /** Per-route throttling of the unauthenticated 3-D Secure return. Default 50 requests/s, burst 100. */
  browserReturnThrottling?: { rateLimit: number; burstLimit: number };
  /** ASL file relative to the project root. Default statemachines/payment.asl.json. */
  definitionPath?: string;
  /** The refund saga's ASL file relative to the project root. Default statemachines/refund.asl.json. */
  refundDefinitionPath?: string;
  /** Handler directory relative to the project root. Default functions/handlers. */
  handlersDir?: string;
  /** Replaces the esbuild bundle of every function (infra tests: `lambda.Code.fromInline`). */
  codeFor?: (handler: HandlerName) => lambda.Code;
  /**
   * TOKEN authorizer result cache, keyed by the Authorization header. Default 60 s: at peak (100 TPS
   * from a handful of merchants) nearly every request skips the authorizer Lambda and its DynamoDB read,
   * at the price of a revoked key working up to 60 s longer. Safe only because api-authorizer returns a
   * policy for every method of the stage: the cached decision is reused for every route.
   */
  authorizerCacheTtl?: Duration;
  /** Stage-wide throttling. Default 200 requests/s, burst 400. */
  throttling?: { rateLimit: number; burstLimit: number };
  /** AWS WAF with AWS managed rule groups in front of the API. Default true. */
  waf?: boolean;
}

export class StatelessStack extends Stack {
  readonly api: apigw.RestApi;
  readonly stateMachine: sfn.StateMachine;
  readonly functions: Record<HandlerName, lambda.Function>;
  /** Each function's log group (the sweep's `reconciliation unresolved` lines are counted from it). */
  readonly logGroups = {} as Record<HandlerName, logs.LogGroup>;
  /** Fixed, so create-payment can know the ARN without depending on the state machine resource. */
  readonly stateMachineName: string;
  /** One execution per refund (named by the refund id). */
  readonly refundStateMachine: sfn.StateMachine;
  /** Fixed for the same reason as stateMachineName (create-refund needs the ARN). */
  readonly refundStateMachineName: string;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    // Exports/imports: CloudFormation then refuses to delete the stateful stack (the data) while this
    // stack still uses it. Removing a reference later takes two deploys (docs/deployment.md).
    CrossStackReferences.of(this).consume(ReferenceStrength.STRONG);
    const prod = props.prod ?? props.stage === 'prod';
    const logRemovalPolicy = prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const logRetention = PAYMENT_FUNCTION_DEFAULTS.logRetention;

    this.stateMachineName = `payments-saga-${props.stage}`;
    // Built from the name, not taken from the resource: the state machine needs the saga functions' ARNs,
    // and create-payment needs this ARN; referencing the resource would close that cycle.
    const stateMachineArn = this.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: this.stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    this.refundStateMachineName = `payments-refund-saga-${props.stage}`;

    this.functions = this.createFunctions(props, stateMachineArn, logRemovalPolicy);
    this.stateMachine = this.createStateMachine(props, logRemovalPolicy, logRetention);
    this.refundStateMachine = this.createRefundStateMachine(props, logRemovalPolicy, logRetention);
    this.api = this.createApi(props, logRemovalPolicy, logRetention);
    this.createSweepSchedule(props);
    this.createAlarms(props.alarmTopic);

    new CfnOutput(this, 'ApiUrl', { value: this.api.urlForPath('/v1') });
    // What operators register at KBank (notify URL) and pass as the 3-D Secure return URL.
    new CfnOutput(this, 'KbankNotifyUrl', { value: this.api.urlForPath('/v1/webhooks/kbank') });
    new CfnOutput(this, 'KbankReturnUrl', { value: this.api.urlForPath(BROWSER_RETURN_PATH) });
    new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, 'RefundStateMachineArn', { value: this.refundStateMachine.stateMachineArn });
  }

  private createFunctions(
    props: StatelessStackProps,
    stateMachineArn: string,
    logRemovalPolicy: RemovalPolicy,
  ): Record<HandlerName, lambda.Function> {
    const handlersDir = props.handlersDir ?? 'functions/handlers';
    const functions = {} as Record<HandlerName, lambda.Function>;
    for (const name of HANDLER_NAMES) {
      const spec: HandlerSpec = HANDLERS[name];
      const environment: Record<string, string> = {
        TABLE_NAME: props.table.tableName,
        EVENT_BUS_NAME: props.eventBus.eventBusName,
      };
      if (spec.kbank) {
        environment.KBANK_BASE_URL = props.kbankBaseUrl ?? KBANK_SANDBOX_URL;
        environment.KBANK_SECRET_ARN = props.kbankSecret.secretArn;
        environment.KBANK_TIMEOUT_MS = String(props.kbankTimeoutMs ?? 8000);
      }
      if (spec.cost) {
        environment.COST_SERVICE_URL = props.costServiceUrl;
        environment.COST_SERVICE_API_KEY_SECRET_ARN = props.costServiceApiKeySecret.secretArn;
        environment.COST_SERVICE_TIMEOUT_MS = String(props.costServiceTimeoutMs ?? 3000);
      }
      if (spec.startsSaga || spec.sweeps) environment.STATE_MACHINE_ARN = stateMachineArn;
      if ((spec.startsSaga || spec.sweeps) && props.captureWindow) {
        environment.CAPTURE_WINDOW_SECONDS = String(props.captureWindow.toSeconds());
      }
      if (spec.actionWindows && props.qrActionWindow) {
        environment.QR_ACTION_WINDOW_SECONDS = String(props.qrActionWindow.toSeconds());
      }
      if (spec.actionWindows && props.redirectActionWindow) {
        environment.REDIRECT_ACTION_WINDOW_SECONDS = String(props.redirectActionWindow.toSeconds());
      }
      if (spec.sendsNotifications) environment.NOTIFICATION_QUEUE_URL = props.notificationQueue.queueUrl;
      // From the name, like stateMachineArn: the refund machine needs the refund functions' ARNs.
      const refundStateMachineArn = this.formatArn({
        service: 'states',
        resource: 'stateMachine',
        resourceName: this.refundStateMachineName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
      if (spec.startsRefundSaga || spec.sweeps) environment.REFUND_STATE_MACHINE_ARN = refundStateMachineArn;

      const paymentFunction = new PaymentFunction(this, toPascalCase(name), {
        entry: path.join(handlersDir, `${name}.ts`),
        description: spec.description,
        environment,
        timeout: spec.timeout,
        logEncryptionKey: props.logEncryptionKey,
        logRemovalPolicy,
        logLevel: props.logLevel,
        code: props.codeFor?.(name),
      });
      const fn = paymentFunction.function;
      this.logGroups[name] = paymentFunction.logGroup;

      if (spec.table) grantTableAccess(fn, props.table, spec.table);
      if (spec.queriesIndex) grantIndexQuery(fn, props.table, spec.queriesIndex);
      if (spec.kbank) grantSecretRead(fn, props.kbankSecret);
      if (spec.cost) grantSecretRead(fn, props.costServiceApiKeySecret);
      if (spec.publishesEvents) props.eventBus.grantPutEventsTo(fn);
      if (spec.startsSaga) {
        fn.addToRolePolicy(
          new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [stateMachineArn] }),
        );
      }
      if (spec.startsRefundSaga) {
        fn.addToRolePolicy(
          new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [refundStateMachineArn] }),
        );
      }
      if (spec.resumesSaga) {
        // Task tokens are not resources: Step Functions authorizes these calls on the state machine.
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
            resources: [stateMachineArn],
          }),
        );
      }
      if (spec.sweeps) {
        const executions = [stateMachineArn, refundStateMachineArn].map(
          (arn) => `${arn.replace(':stateMachine:', ':execution:')}:*`,
        );
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['states:StartExecution'],
            resources: [stateMachineArn, refundStateMachineArn],
          }),
        );
        fn.addToRolePolicy(
          new iam.PolicyStatement({ actions: ['states:DescribeExecution'], resources: executions }),
        );
      }
      if (spec.sendsNotifications) grantQueueSend(fn, props.notificationQueue);
      if (spec.consumesNotifications) {
        // The queue's grantConsumeMessages: receive/delete/change visibility on this queue, kms:Decrypt.
        fn.addEventSource(
          new lambdaEventSources.SqsEventSource(props.notificationQueue, {
            batchSize: 10,
            // The processor returns SQSBatchResponse: only the failed callbacks come back.
            reportBatchItemFailures: true,
          }),
        );
      }
      functions[name] = fn;
    }
    return functions;
  }

  private createStateMachine(
    props: StatelessStackProps,
    logRemovalPolicy: RemovalPolicy,
    logRetention: logs.RetentionDays,
  ): sfn.StateMachine {
    const definitionPath = path.resolve(
      PROJECT_ROOT,
      props.definitionPath ?? 'statemachines/payment.asl.json',
    );
    if (!existsSync(definitionPath)) {
      throw new Error(
        `StatelessStack: the saga definition ${path.relative(PROJECT_ROOT, definitionPath)} does not exist.`,
      );
    }

    const sagaFunctions = HANDLER_NAMES.flatMap((name) => {
      const spec: HandlerSpec = HANDLERS[name];
      return spec.sagaArnKey ? [{ key: spec.sagaArnKey, fn: this.functions[name] }] : [];
    });
    const definitionSubstitutions: Record<string, string> = { EventBusName: props.eventBus.eventBusName };
    for (const { key, fn } of sagaFunctions) definitionSubstitutions[key] = fn.functionArn;

    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      // The /aws/vendedlogs/ prefix keeps CloudWatch Logs' resource policy from growing per log group.
      logGroupName: `/aws/vendedlogs/states/${this.stateMachineName}`,
      retention: logRetention,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: logRemovalPolicy,
    });

    const stateMachine = new sfn.StateMachine(this, 'PaymentSaga', {
      stateMachineName: this.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromFile(definitionPath),
      definitionSubstitutions,
      // Execution data (inputs/outputs) carries payment details: states and errors only in the logs.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
    });
    // Unqualified ARNs only: the ASL must invoke `$LATEST` (FunctionName = the substituted ARN).
    stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: sagaFunctions.map(({ fn }) => fn.functionArn),
      }),
    );
    props.eventBus.grantPutEventsTo(stateMachine);

    Validations.of(stateMachine).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'CloudWatch Logs delivery (logs:CreateLogDelivery, …) and X-Ray actions used by Step Functions support no resource-level permissions.',
      },
      {
        id: 'PCI.DSS.321-IAMNoInlinePolicy',
        reason:
          'The role and its policy belong to this one state machine (invoke its task functions, put events on the bus, log delivery, X-Ray); a reusable managed policy would invite sharing.',
      },
    );
    return stateMachine;
  }

  /**
   * The refund saga: statemachines/refund.asl.json with the refund task functions' ARNs substituted. Its
   * role may invoke those three functions and put events on the bus, nothing of the payment saga.
   */
  private createRefundStateMachine(
    props: StatelessStackProps,
    logRemovalPolicy: RemovalPolicy,
    logRetention: logs.RetentionDays,
  ): sfn.StateMachine {
    const definitionPath = path.resolve(
      PROJECT_ROOT,
      props.refundDefinitionPath ?? 'statemachines/refund.asl.json',
    );
    if (!existsSync(definitionPath)) {
      throw new Error(
        `StatelessStack: the refund saga definition ${path.relative(PROJECT_ROOT, definitionPath)} does not exist.`,
      );
    }
    const refundFunctions = HANDLER_NAMES.flatMap((name) => {
      const spec: HandlerSpec = HANDLERS[name];
      return spec.refundSagaArnKey ? [{ key: spec.refundSagaArnKey, fn: this.functions[name] }] : [];
    });
    const definitionSubstitutions: Record<string, string> = { EventBusName: props.eventBus.eventBusName };
    for (const { key, fn } of refundFunctions) definitionSubstitutions[key] = fn.functionArn;

    const logGroup = new logs.LogGroup(this, 'RefundStateMachineLogs', {
      logGroupName: `/aws/vendedlogs/states/${this.refundStateMachineName}`,
      retention: logRetention,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: logRemovalPolicy,
    });
    const stateMachine = new sfn.StateMachine(this, 'RefundSaga', {
      stateMachineName: this.refundStateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromFile(definitionPath),
      definitionSubstitutions,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
    });
    stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: refundFunctions.map(({ fn }) => fn.functionArn),
      }),
    );
    props.eventBus.grantPutEventsTo(stateMachine);

    Validations.of(stateMachine).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'CloudWatch Logs delivery (logs:CreateLogDelivery, …) and X-Ray actions used by Step Functions support no resource-level permissions.',
      },
      {
        id: 'PCI.DSS.321-IAMNoInlinePolicy',
        reason:
          'The role and its policy belong to this one state machine (invoke its three refund task functions, put events on the bus, log delivery, X-Ray); a reusable managed policy would invite sharing.',
      },
    );
    return stateMachine;
  }

  private createApi(
    props: StatelessStackProps,
    logRemovalPolicy: RemovalPolicy,
    logRetention: logs.RetentionDays,
  ): apigw.RestApi {
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: logRetention,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: logRemovalPolicy,
    });
    const throttling = props.throttling ?? { rateLimit: 200, burstLimit: 400 };
    const browserReturnThrottling = props.browserReturnThrottling ?? { rateLimit: 50, burstLimit: 100 };

    const api = new apigw.RestApi(this, 'Api', {
      restApiName: `payments-${props.stage}`,
      description: 'Payments REST API, versioned under /v1',
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      // The account-level role API Gateway needs to write execution logs.
      cloudWatchRole: true,
      deployOptions: {
        stageName: props.stage,
        tracingEnabled: true,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: apigw.AccessLogField.contextRequestId(),
            requestTime: apigw.AccessLogField.contextRequestTime(),
            ip: apigw.AccessLogField.contextIdentitySourceIp(),
            httpMethod: apigw.AccessLogField.contextHttpMethod(),
            resourcePath: apigw.AccessLogField.contextResourcePath(),
            status: apigw.AccessLogField.contextStatus(),
            responseLength: apigw.AccessLogField.contextResponseLength(),
            responseLatency: apigw.AccessLogField.contextResponseLatency(),
            integrationLatency: apigw.AccessLogField.contextIntegrationLatency(),
            // The merchant id (never the API key): who called, for support and abuse tracing.
            merchantId: apigw.AccessLogField.contextAuthorizerPrincipalId(),
            error: apigw.AccessLogField.contextErrorMessage(),
            xrayTraceId: apigw.AccessLogField.contextXrayTraceId(),
          }),
        ),
        // Per-merchant usage plans are the next step; this protects the account-wide Lambda concurrency.
        throttlingRateLimit: throttling.rateLimit,
        throttlingBurstLimit: throttling.burstLimit,
        methodOptions: {
          // Unauthenticated, and every accepted post costs the processor a KBank inquiry: a flood of
          // made-up charge ids must not use up our KBank rate or the stage's whole budget.
          [`${BROWSER_RETURN_PATH}/POST`]: {
            throttlingRateLimit: browserReturnThrottling.rateLimit,
            throttlingBurstLimit: browserReturnThrottling.burstLimit,
          },
        },
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        // Never log request/response bodies: they carry card tokens and customer data.
        dataTraceEnabled: false,
        metricsEnabled: true,
      },
    });
    this.addProblemResponses(api);

    const validator = api.addRequestValidator('RequestValidator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    // Cheap shape check only (a JSON object); the handler's zod schema is the real validation.
    const jsonObject = api.addModel('JsonObject', {
      contentType: 'application/json',
      modelName: 'JsonObject',
      schema: { schema: apigw.JsonSchemaVersion.DRAFT4, type: apigw.JsonSchemaType.OBJECT },
    });

    const authorizer = new apigw.TokenAuthorizer(this, 'Authorizer', {
      handler: this.functions['api-authorizer'],
      identitySource: apigw.IdentitySource.header('Authorization'),
      // Malformed credentials are refused by API Gateway itself, without invoking the authorizer.
      validationRegex: `^Bearer ${API_KEY_PATTERN.source.replace(/^\^/, '')}`,
      resultsCacheTtl: props.authorizerCacheTtl ?? Duration.seconds(60),
    });
    const integration = (name: HandlerName) =>
      new apigw.LambdaIntegration(this.functions[name], { proxy: true, allowTestInvoke: false });
    const secured = { authorizer, authorizationType: apigw.AuthorizationType.CUSTOM };

    const v1 = api.root.addResource('v1');
    const health = v1.addResource('health').addMethod('GET', integration('api-health'), {
      authorizationType: apigw.AuthorizationType.NONE,
    });
    const payments = v1.addResource('payments');
    payments.addMethod('POST', integration('api-create-payment'), {
      ...secured,
      requestValidator: validator,
      requestModels: { 'application/json': jsonObject },
    });
    payments.addMethod('GET', integration('api-list-payments'), {
      ...secured,
      requestValidator: validator,
      // All optional: declared so the contract is visible here; the handler's zod schema validates them.
      requestParameters: {
        'method.request.querystring.status': false,
        'method.request.querystring.created_gte': false,
        'method.request.querystring.created_lt': false,
        'method.request.querystring.limit': false,
        'method.request.querystring.cursor': false,
      },
    });
    const payment = payments.addResource('{id}');
    payment.addMethod('GET', integration('api-get-payment'), {
      ...secured,
      requestValidator: validator,
      requestParameters: { 'method.request.path.id': true },
    });
    payment.addResource('events').addMethod('GET', integration('api-list-payment-events'), {
      ...secured,
      requestValidator: validator,
      requestParameters: { 'method.request.path.id': true },
    });
    payment.addMethod('PATCH', integration('api-update-payment'), {
      ...secured,
      requestValidator: validator,
      requestParameters: { 'method.request.path.id': true },
    });
    for (const action of ['capture', 'cancel'] as const) {
      payment.addResource(action).addMethod('POST', integration(`api-${action}-payment`), {
        ...secured,
        requestValidator: validator,
        requestParameters: { 'method.request.path.id': true },
      });
    }
    const refunds = payment.addResource('refunds');
    // The body is optional (none = refund everything left), so no JSON model is required here.
    refunds.addMethod('POST', integration('api-create-refund'), {
      ...secured,
      requestValidator: validator,
      requestParameters: { 'method.request.path.id': true },
    });
    refunds.addMethod('GET', integration('api-list-refunds'), {
      ...secured,
      requestValidator: validator,
      requestParameters: { 'method.request.path.id': true },
    });
    payment.addResource('qr').addMethod('GET', integration('api-get-payment-qr'), {
      ...secured,
      requestValidator: validator,
      requestParameters: { 'method.request.path.id': true },
    });

    // KBank's callbacks carry no credential of ours. No request model either: the handlers read the raw
    // body (the notify's checksum is computed over it; the 3-D Secure return is a urlencoded form, which
    // a Lambda proxy passes through as text), and every body is untrusted until the handler checked it.
    const kbankWebhook = v1.addResource('webhooks').addResource('kbank');
    const notify = kbankWebhook.addMethod('POST', integration('api-kbank-webhook'), {
      authorizationType: apigw.AuthorizationType.NONE,
    });
    const browserReturn = kbankWebhook
      .addResource('return')
      .addMethod('POST', integration('api-kbank-return'), {
        authorizationType: apigw.AuthorizationType.NONE,
      });
    const notifyReason =
      "KBank's payment notify cannot carry our API key. It is authenticated by its checksum (SHA-256 over the charge id, amount, currency and state plus our KBank secret key), verified against the amount and currency WE stored before anything is queued; a mismatch is refused (401) and recorded on the payment, and even an accepted notify only makes the processor ask KBank. Behind the WAF and the stage throttling.";
    Validations.of(notify).acknowledge(
      { id: 'AwsSolutions-APIG4', reason: notifyReason },
      { id: 'AwsSolutions-COG4', reason: notifyReason },
    );
    const returnReason =
      "The customer's browser posts this form after 3-D Secure (KBank redirects it here); a browser holds no credential of ours. Nothing in the form is trusted: only the claimed charge id is queued, and the processor asks KBank for the charge before anything changes. Behind the WAF, the stage throttling and a lower throttle of its own.";
    Validations.of(browserReturn).acknowledge(
      { id: 'AwsSolutions-APIG4', reason: returnReason },
      { id: 'AwsSolutions-COG4', reason: returnReason },
    );

    Validations.of(health).acknowledge(
      {
        id: 'AwsSolutions-APIG4',
        reason: 'Health check for uptime probes: public by design, touches no data.',
      },
      {
        id: 'AwsSolutions-COG4',
        reason: 'Health check for uptime probes: public by design, touches no data.',
      },
    );
    Validations.of(api).acknowledge(
      {
        id: 'AwsSolutions-COG4',
        reason:
          'Merchants are server-to-server clients authenticated by API key through the Lambda TOKEN authorizer; there are no Cognito users.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'The AWS-documented policy of the account-level role API Gateway uses to write execution logs.',
      },
      {
        id: 'PCI.DSS.321-APIGWCacheEnabledAndEncrypted',
        reason:
          'Response caching is off on purpose: payment reads must be fresh and writes are never cacheable, so no payment data rests in an API cache.',
      },
      {
        id: 'PCI.DSS.321-APIGWSSLEnabled',
        reason:
          'Client certificates authenticate API Gateway to HTTP backends; every integration here is a Lambda proxy invoked through IAM.',
      },
    );

    if (props.waf ?? true) this.attachWaf(api, props, logRemovalPolicy);
    return api;
  }

  /** Gateway-generated errors in the same RFC 9457 shape as the handlers' (schemas/api.ts ProblemSchema). */
  private addProblemResponses(api: apigw.RestApi): void {
    // Codes and titles as the handlers use them, so clients see one vocabulary whoever answered.
    const responses: [apigw.ResponseType, string, string, string][] = [
      [apigw.ResponseType.UNAUTHORIZED, '401', 'unauthorized', 'Unauthorized'],
      [apigw.ResponseType.ACCESS_DENIED, '403', 'forbidden', 'Forbidden'],
      // API Gateway's answer to an unknown route: a 404 to clients.
      [apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, '404', 'resource_not_found', 'Not Found'],
      [apigw.ResponseType.RESOURCE_NOT_FOUND, '404', 'resource_not_found', 'Not Found'],
      [apigw.ResponseType.BAD_REQUEST_BODY, '400', 'validation_failed', 'Bad Request'],
      [apigw.ResponseType.BAD_REQUEST_PARAMETERS, '400', 'validation_failed', 'Bad Request'],
      [apigw.ResponseType.REQUEST_TOO_LARGE, '413', 'payload_too_large', 'Content Too Large'],
      [apigw.ResponseType.UNSUPPORTED_MEDIA_TYPE, '415', 'unsupported_media_type', 'Unsupported Media Type'],
      [apigw.ResponseType.THROTTLED, '429', 'rate_limited', 'Too Many Requests'],
      [apigw.ResponseType.QUOTA_EXCEEDED, '429', 'quota_exceeded', 'Too Many Requests'],
      [apigw.ResponseType.WAF_FILTERED, '403', 'forbidden', 'Forbidden'],
      [apigw.ResponseType.INTEGRATION_TIMEOUT, '504', 'upstream_timeout', 'Gateway Timeout'],
      [apigw.ResponseType.DEFAULT_4XX, '400', 'bad_request', 'Bad Request'],
      [apigw.ResponseType.DEFAULT_5XX, '500', 'internal_error', 'Internal Server Error'],
    ];
    for (const [type, status, code, title] of responses) {
      // Hand-written JSON: $context.error.messageString is already a quoted JSON string.
      const body = `{"type":"${PROBLEM_TYPE_BASE}${code}","title":"${title}","status":${status},"code":"${code}","detail":$context.error.messageString}`;
      api.addGatewayResponse(`Problem${type.responseType}`, {
        type,
        statusCode: status,
        responseHeaders: { 'Content-Type': "'application/problem+json'" },
        templates: { 'application/json': body, 'application/problem+json': body },
      });
    }
  }

  private attachWaf(api: apigw.RestApi, props: StatelessStackProps, logRemovalPolicy: RemovalPolicy): void {
    const stage = props.stage;
    const managedRule = (name: string, priority: number): wafv2.CfnWebACL.RuleProperty => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
      visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: name, sampledRequestsEnabled: false },
    });
    const webAcl = new wafv2.CfnWebACL(this, 'ApiWaf', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      // Sampled requests would show Authorization headers (API keys) in the console: off.
      visibilityConfig: {
        cloudWatchMetricsEnabled: true,
        metricName: `payments-${stage}-api`,
        sampledRequestsEnabled: false,
      },
      rules: [
        managedRule('AWSManagedRulesAmazonIpReputationList', 0),
        managedRule('AWSManagedRulesKnownBadInputsRuleSet', 1),
        managedRule('AWSManagedRulesCommonRuleSet', 2),
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'ApiWafAssociation', {
      resourceArn: api.deploymentStage.stageArn,
      webAclArn: webAcl.attrArn,
    });

    // WAF only delivers to log groups with this prefix.
    const wafLogGroupName = `aws-waf-logs-payments-${stage}`;
    const wafLogs = new logs.LogGroup(this, 'ApiWafLogs', {
      logGroupName: wafLogGroupName,
      retention: PAYMENT_FUNCTION_DEFAULTS.logRetention,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: logRemovalPolicy,
    });
    const wafLogging = new wafv2.CfnLoggingConfiguration(this, 'ApiWafLogging', {
      resourceArn: webAcl.attrArn,
      // The log group ARN without the `:*` suffix that its Arn attribute carries.
      logDestinationConfigs: [
        this.formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: wafLogGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      // API keys must never reach a log.
      redactedFields: [{ singleHeader: { Name: 'authorization' } }],
      // Blocked and counted requests only: logging every allowed request would cost more than it tells.
      loggingFilter: {
        DefaultBehavior: 'DROP',
        Filters: [
          {
            Behavior: 'KEEP',
            Requirement: 'MEETS_ANY',
            Conditions: [{ ActionCondition: { Action: 'BLOCK' } }, { ActionCondition: { Action: 'COUNT' } }],
          },
        ],
      },
    });
    wafLogging.node.addDependency(wafLogs);
  }

  /** EventBridge Scheduler invokes the sweep; one missed run is harmless, the next one finds the same items. */
  private createSweepSchedule(props: StatelessStackProps): void {
    const sweepFunction = this.functions['ops-sweep'];
    const role = new iam.Role(this, 'ReconciliationSweepSchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
      description:
        'EventBridge Scheduler: invoke the reconciliation sweep and the KBank reconciliation, nothing else',
    });
    new scheduler.Schedule(this, 'ReconciliationSweepSchedule', {
      description: 'Runs the reconciliation sweep (docs/runbook.md, "The reconciliation sweep")',
      schedule: scheduler.ScheduleExpression.rate(props.sweepInterval ?? Duration.minutes(1)),
      target: new schedulerTargets.LambdaInvoke(sweepFunction, { retryAttempts: 0, role }),
    });
    // The day before, once KBank's list for it is complete: 03:00 in Bangkok.
    const reconcileFunction = this.functions['ops-reconcile-kbank'];
    new scheduler.Schedule(this, 'KbankReconciliationSchedule', {
      description:
        'Runs the daily KBank reconciliation for the previous Bangkok business day (docs/runbook.md)',
      schedule: scheduler.ScheduleExpression.cron({
        minute: '0',
        hour: '3',
        timeZone: TimeZone.ASIA_BANGKOK,
      }),
      target: new schedulerTargets.LambdaInvoke(reconcileFunction, { retryAttempts: 2, role }),
    });
    const functionLogicalId = Stack.of(this).getLogicalId(sweepFunction.node.defaultChild as CfnElement);
    const reconcileLogicalId = Stack.of(this).getLogicalId(reconcileFunction.node.defaultChild as CfnElement);
    Validations.of(role).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${reconcileLogicalId}.Arn>:*]`,
        reason:
          'LambdaInvoke grants lambda:InvokeFunction on the reconciliation function and its qualified ARNs (`:*`, versions and aliases of this one function); the schedule invokes $LATEST.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${functionLogicalId}.Arn>:*]`,
        reason:
          'LambdaInvoke grants lambda:InvokeFunction on the sweep function and its qualified ARNs (`:*`, versions and aliases of this one function); the schedule invokes $LATEST.',
      },
      {
        id: 'PCI.DSS.321-IAMNoInlinePolicy',
        reason:
          'The role belongs to the two reconciliation schedules and may only invoke their two functions.',
      },
    );
    const executions = (name: string) =>
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${name}:*]`;
    const executionReason =
      'DescribeExecution needs execution ARNs, which are named by payment and refund ids (and the sweep’s restarts) unknown in advance: any execution of these two state machines, and no other.';
    if (!sweepFunction.role) throw new Error('ops-sweep has no role');
    Validations.of(sweepFunction.role).acknowledge(
      { id: executions(this.stateMachineName), reason: executionReason },
      { id: executions(this.refundStateMachineName), reason: executionReason },
    );
  }

  private createAlarms(topic: sns.ITopic): void {
    const action = new cwActions.SnsAction(topic);
    const alarm = (id: string, description: string, metric: cloudwatch.IMetric, threshold: number) => {
      const created = new cloudwatch.Alarm(this, id, {
        alarmDescription: `${description} (runbook: docs/deployment.md)`,
        metric,
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
    };
    const fiveMinutes = Duration.minutes(5);

    alarm(
      'SagaExecutionsFailedAlarm',
      'A payment saga execution failed: a payment may be left in a non-terminal state',
      this.stateMachine.metricFailed({ period: fiveMinutes, statistic: 'Sum' }),
      1,
    );
    alarm(
      'SagaExecutionsTimedOutAlarm',
      'A payment saga execution timed out',
      this.stateMachine.metricTimedOut({ period: fiveMinutes, statistic: 'Sum' }),
      1,
    );
    alarm(
      'RefundSagaExecutionsFailedAlarm',
      'A refund saga execution failed: a refund may be unknown, its amount held (RefundOutcomeUnknown)',
      this.refundStateMachine.metricFailed({ period: fiveMinutes, statistic: 'Sum' }),
      1,
    );
    alarm(
      'RefundSagaExecutionsTimedOutAlarm',
      'A refund saga execution timed out',
      this.refundStateMachine.metricTimedOut({ period: fiveMinutes, statistic: 'Sum' }),
      1,
    );
    // The sweep logs one `reconciliation unresolved` line per payment or refund it gives up to an operator.
    const unresolved = new logs.MetricFilter(this, 'ReconciliationUnresolvedFilter', {
      logGroup: this.logGroups['ops-sweep'],
      filterPattern: logs.FilterPattern.stringValue('$.message', '=', 'reconciliation unresolved'),
      metricNamespace: 'Payments',
      metricName: 'ReconciliationUnresolved',
      metricValue: '1',
      defaultValue: 0,
    });
    alarm(
      'ReconciliationUnresolvedAlarm',
      'The reconciliation sweep gave a payment or refund up to an operator (npm run ops -- unresolved)',
      unresolved.metric({ period: fiveMinutes, statistic: 'Sum' }),
      1,
    );
    const exceptions = new logs.MetricFilter(this, 'KbankReconciliationExceptionFilter', {
      logGroup: this.logGroups['ops-reconcile-kbank'],
      filterPattern: logs.FilterPattern.stringValue('$.message', '=', 'reconciliation exception'),
      metricNamespace: 'Payments',
      metricName: 'KbankReconciliationExceptions',
      metricValue: '1',
      defaultValue: 0,
    });
    alarm(
      'KbankReconciliationExceptionAlarm',
      'The daily KBank reconciliation found an orphan, a mismatch or missing money (runbook: KBank reconciliation)',
      exceptions.metric({ period: Duration.hours(1), statistic: 'Sum' }),
      1,
    );
    alarm(
      'Api5xxRateAlarm',
      '1% or more of API requests answered 5xx over 5 minutes',
      // The average of 5XXError (0 or 1 per request) is the 5xx rate.
      this.api.metricServerError({ period: fiveMinutes, statistic: 'Average' }),
      0.01,
    );
    for (const name of HANDLER_NAMES) {
      alarm(
        `${toPascalCase(name)}ErrorsAlarm`,
        `Lambda ${name} threw (unhandled error or timeout)`,
        this.functions[name].metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
        1,
      );
    }
  }
}

function toPascalCase(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/**
 * DynamoDB access written out instead of `table.grantReadData`/`grantReadWriteData`: the same actions, but
 * on the named GSIs of TABLE_DESIGN instead of `<table>/index/*`, and KMS actions spelled out instead of
 * `kms:GenerateDataKey*`/`kms:ReEncrypt*`. No wildcard is left to acknowledge.
 */
function grantTableAccess(fn: lambda.IFunction, table: dynamodb.ITable, mode: 'read' | 'readwrite'): void {
  const indexArns = TABLE_DESIGN.globalSecondaryIndexes.map(
    (index) => `${table.tableArn}/index/${index.indexName}`,
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: [
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        'dynamodb:ConditionCheckItem',
        'dynamodb:DescribeTable',
      ],
      resources: [table.tableArn, ...indexArns],
    }),
  );
  if (mode === 'readwrite') {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:BatchWriteItem',
        ],
        resources: [table.tableArn],
      }),
    );
  }
  const key = table.encryptionKey;
  if (!key) throw new Error('grantTableAccess: the table must be encrypted with a customer-managed key');
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions:
        mode === 'read'
          ? ['kms:Decrypt', 'kms:DescribeKey']
          : [
              'kms:Decrypt',
              'kms:DescribeKey',
              'kms:Encrypt',
              'kms:ReEncryptFrom',
              'kms:ReEncryptTo',
              'kms:GenerateDataKey',
              'kms:GenerateDataKeyWithoutPlaintext',
            ],
      resources: [key.keyArn],
    }),
  );
}

/** Query on one named GSI of the table and nothing else: no GetItem, no base table, no writes. */
function grantIndexQuery(fn: lambda.IFunction, table: dynamodb.ITable, indexName: string): void {
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:Query'],
      resources: [`${table.tableArn}/index/${indexName}`],
    }),
  );
  const key = table.encryptionKey;
  if (!key) throw new Error('grantIndexQuery: the table must be encrypted with a customer-managed key');
  fn.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:DescribeKey'], resources: [key.keyArn] }),
  );
}

/**
 * `queue.grantSendMessages` written out: SendMessage only (no GetQueueAttributes/GetQueueUrl, the URL comes
 * from the environment), and the two KMS actions SQS needs from a producer instead of
 * `kms:GenerateDataKey*`/`kms:ReEncrypt*`.
 */
function grantQueueSend(fn: lambda.IFunction, queue: sqs.IQueue): void {
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
  if (!queue.encryptionMasterKey) return;
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [queue.encryptionMasterKey.keyArn],
    }),
  );
}

/**
 * `secret.grantRead` written out: the secret's own grant adds the function's role to the key policy, which
 * lives in the stateful stack and would make it depend on this one (a cycle). The identity policy alone
 * suffices because the key policy delegates to the account's IAM.
 */
function grantSecretRead(fn: lambda.IFunction, secret: secretsmanager.ISecret): void {
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      resources: [secret.secretArn],
    }),
  );
  if (!secret.encryptionKey) return;
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['kms:Decrypt'],
      resources: [secret.encryptionKey.keyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(fn).region}.amazonaws.com` },
      },
    }),
  );
}
