/**
 * Stateless stack: the functions of the catalog (functions/catalog.ts), the payment and refund sagas, the
 * REST API, the schedules and the alarms, each built by its own part in lib/stateless/.
 */
import {
  ArnFormat,
  CfnOutput,
  CrossStackReferences,
  Duration,
  ReferenceStrength,
  RemovalPolicy,
  Stack,
  type StackProps,
} from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import {
  type Access,
  CATALOG,
  FUNCTION_NAMES,
  type FunctionName,
  type FunctionSpec,
} from '../functions/catalog.js';
import type { FeeSchedule } from '../functions/core/settlements.js';
import { type LogLevel, PAYMENT_FUNCTION_DEFAULTS } from './constructs/payment-function.js';
import { alarms } from './stateless/alarms.js';
import {
  BROWSER_RETURN_PATH,
  type DEFAULT_WAF_RATE_LIMITS,
  PROBLEM_TYPE_BASE,
  paymentApi,
} from './stateless/api.js';
import { catalogFunctions, KBANK_SANDBOX_URL } from './stateless/functions.js';
import { sagaStateMachine } from './stateless/sagas.js';
import { schedules } from './stateless/schedules.js';

export { BROWSER_RETURN_PATH, KBANK_SANDBOX_URL, PROBLEM_TYPE_BASE };

/**
 * A function as the stacks used to declare it, before the catalog: its access, plus what the catalog
 * says through the entry's kind. Kept for the infra tests and scripts that read HANDLERS.
 */
export interface HandlerSpec extends Access {
  description: string;
  /** Default PAYMENT_FUNCTION_DEFAULTS.timeout (10 s). */
  timeout?: Duration;
  /** The state machine's definitionSubstitutions key for this task's function ARN. */
  sagaArnKey?: string;
  /** The refund state machine's definitionSubstitutions key for this task's function ARN. */
  refundSagaArnKey?: string;
  /** Consumes the notification queue (SQS event source, batches of 10, per-item failures). */
  consumesNotifications?: boolean;
}

export type HandlerName = FunctionName;
export const HANDLER_NAMES: HandlerName[] = FUNCTION_NAMES;

function handlerSpec(spec: FunctionSpec): HandlerSpec {
  return {
    description: spec.description,
    ...spec.access,
    ...(spec.timeoutSeconds === undefined ? {} : { timeout: Duration.seconds(spec.timeoutSeconds) }),
    ...(spec.kind === 'saga-task' && spec.saga === 'payment' ? { sagaArnKey: spec.substitution } : {}),
    ...(spec.kind === 'saga-task' && spec.saga === 'refund' ? { refundSagaArnKey: spec.substitution } : {}),
    ...(spec.kind === 'queue-consumer' ? { consumesNotifications: true } : {}),
  };
}

/** Every Lambda, keyed by its name (= its file in functions/handlers/): the catalog in the stacks' terms. */
export const HANDLERS: Record<HandlerName, HandlerSpec> = Object.fromEntries(
  FUNCTION_NAMES.map((name) => [name, handlerSpec(CATALOG[name])]),
) as Record<HandlerName, HandlerSpec>;

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
  /** The settlements consumer's queue (stateful stack, fed by a rule on the bus). */
  settlementQueue: sqs.IQueue;
  /** The webhook consumer's queue (stateful stack, fed by a rule on the bus). */
  webhookEventQueue: sqs.IQueue;
  /** One message per webhook delivery attempt, and its dead-letter queue (stateful stack). */
  webhookDeliveryQueue: sqs.IQueue;
  webhookDeadLetterQueue: sqs.IQueue;
  /** The settlements' fee table (docs/api.md "Settlements"). Default: DEFAULT_FEE_SCHEDULE in code. */
  settlementFees?: FeeSchedule;
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
  /** How often EventBridge Scheduler runs the reconciliation sweep. Default: the catalog's rate (1 minute). */
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
  /** The WAF's rate-based rules per source IP (requests a minute). Default DEFAULT_WAF_RATE_LIMITS. */
  wafRateLimits?: Partial<typeof DEFAULT_WAF_RATE_LIMITS>;
}

export class StatelessStack extends Stack {
  readonly api: apigw.RestApi;
  readonly stateMachine: sfn.StateMachine;
  readonly functions: Record<HandlerName, lambda.Function>;
  /** Each function's log group (the sweep's `reconciliation unresolved` lines are counted from it). */
  readonly logGroups: Record<HandlerName, logs.LogGroup>;
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
    this.refundStateMachineName = `payments-refund-saga-${props.stage}`;
    // Built from the names, not taken from the resources: a saga needs its task functions' ARNs, and the
    // functions that start it need its ARN; referencing the resource would close that cycle.
    const arnOf = (name: string) =>
      this.formatArn({
        service: 'states',
        resource: 'stateMachine',
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });

    ({ functions: this.functions, logGroups: this.logGroups } = catalogFunctions(this, {
      ...props,
      logRemovalPolicy,
      // Webhook signing secrets: one Secrets Manager secret per endpoint, encrypted with the stack's key.
      webhookSecretPrefix: `payments/${props.stage}/webhooks/`,
      webhookSecretKey: props.logEncryptionKey,
      sagas: {
        payment: { name: this.stateMachineName, arn: arnOf(this.stateMachineName) },
        refund: { name: this.refundStateMachineName, arn: arnOf(this.refundStateMachineName) },
      },
    }));
    const sagaCommon = {
      functions: this.functions,
      eventBus: props.eventBus,
      logEncryptionKey: props.logEncryptionKey,
      logRemovalPolicy,
      logRetention,
    };
    this.stateMachine = sagaStateMachine(this, {
      ...sagaCommon,
      saga: 'payment',
      id: 'PaymentSaga',
      logsId: 'StateMachineLogs',
      stateMachineName: this.stateMachineName,
      definitionPath: props.definitionPath ?? 'statemachines/payment.asl.json',
    });
    this.refundStateMachine = sagaStateMachine(this, {
      ...sagaCommon,
      saga: 'refund',
      id: 'RefundSaga',
      logsId: 'RefundStateMachineLogs',
      stateMachineName: this.refundStateMachineName,
      definitionPath: props.refundDefinitionPath ?? 'statemachines/refund.asl.json',
    });
    this.api = paymentApi(this, {
      ...props,
      functions: this.functions,
      logRemovalPolicy,
      logRetention,
    });
    schedules(this, { functions: this.functions, rate: props.sweepInterval });
    alarms(this, {
      topic: props.alarmTopic,
      api: this.api,
      stateMachine: this.stateMachine,
      refundStateMachine: this.refundStateMachine,
      functions: this.functions,
      logGroups: this.logGroups,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.urlForPath('/v1') });
    // What operators register at KBank (notify URL) and pass as the 3-D Secure return URL.
    new CfnOutput(this, 'KbankNotifyUrl', {
      value: this.api.urlForPath(CATALOG['api-kbank-webhook'].route.path),
    });
    new CfnOutput(this, 'KbankReturnUrl', { value: this.api.urlForPath(BROWSER_RETURN_PATH) });
    new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, 'RefundStateMachineArn', { value: this.refundStateMachine.stateMachineArn });
  }
}
