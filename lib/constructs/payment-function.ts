/** House Lambda construct: ARM64 Node 22, an ESM bundle built locally by esbuild, X-Ray, its own log group and role. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The repository root: entries, the lock file and tsconfig are resolved from here, not from the cwd. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * ESM bundles have no `require`; CommonJS dependencies inlined by esbuild still call it (for Node
 * built-ins). The alias avoids a clash with a bundled `createRequire` import.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __payments_createRequire } from 'node:module'; const require = __payments_createRequire(import.meta.url);";

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface PaymentFunctionProps {
  /** Handler file relative to PROJECT_ROOT, e.g. `functions/handlers/api-health.ts`, exporting `handler`. */
  entry: string;
  description?: string;
  /** Added to the defaults (POWERTOOLS_SERVICE_NAME, LOG_LEVEL, NODE_OPTIONS). */
  environment?: Record<string, string>;
  /** Default 512 MB: Lambda's CPU share grows with memory, and 512 keeps cold starts of the bundle short. */
  memorySize?: number;
  /** Default 10 s. Must exceed the function's own outbound timeouts × attempts. */
  timeout?: Duration;
  /** Default one month. */
  logRetention?: logs.RetentionDays;
  /** Encrypts the log group. The key policy must let CloudWatch Logs use it (the stateful stack's key does). */
  logEncryptionKey?: kms.IKey;
  /** Default DESTROY; production passes RETAIN so logs outlive a stack deletion. */
  logRemovalPolicy?: RemovalPolicy;
  /** Powertools `POWERTOOLS_SERVICE_NAME`. Default `payments`. */
  serviceName?: string;
  /** Powertools `LOG_LEVEL`. Default INFO. */
  logLevel?: LogLevel;
  /**
   * Ready-made code instead of the esbuild bundle; the handler is then `index.handler`. Infra tests pass
   * `lambda.Code.fromInline` so they neither bundle nor need the handler files.
   */
  code?: lambda.Code;
}

/**
 * Lambda bundles take the AWS SDK's credential chain from functions/adapters/lambda-credentials.ts: the
 * environment, which is where Lambda puts the role's credentials (the full chain adds ~140 KB a function).
 */
const CREDENTIAL_CHAIN = '@aws-sdk/credential-provider-node';
const LAMBDA_CREDENTIALS = path.join(PROJECT_ROOT, 'functions/adapters/lambda-credentials.ts');

/**
 * The SDK's event-stream codec, which none of our operations uses, is left out the same way
 * (functions/adapters/lambda-no-event-streams.ts: about 20 KB a function).
 */
const EVENT_STREAMS = '@smithy/core/event-streams';
const LAMBDA_NO_EVENT_STREAMS = path.join(PROJECT_ROOT, 'functions/adapters/lambda-no-event-streams.ts');

export const PAYMENT_FUNCTION_DEFAULTS = {
  memorySize: 512,
  timeout: Duration.seconds(10),
  logRetention: logs.RetentionDays.ONE_MONTH,
  serviceName: 'payments',
  logLevel: 'INFO' as LogLevel,
} as const;

export class PaymentFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PaymentFunctionProps) {
    super(scope, id);
    const entry = path.resolve(PROJECT_ROOT, props.entry);
    if (!props.code && !existsSync(entry)) {
      throw new Error(
        `PaymentFunction ${id}: handler entry ${path.relative(PROJECT_ROOT, entry)} does not exist. ` +
          'Every function needs its file exporting `handler` before a real synth (tests pass `code` instead).',
      );
    }

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? PAYMENT_FUNCTION_DEFAULTS.logRetention,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });

    // An own role instead of the AWSLambdaBasicExecutionRole managed policy: log writes only to this group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id}`,
    });
    this.logGroup.grantWrite(this.role);

    const common = {
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? PAYMENT_FUNCTION_DEFAULTS.memorySize,
      timeout: props.timeout ?? PAYMENT_FUNCTION_DEFAULTS.timeout,
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      role: this.role,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName ?? PAYMENT_FUNCTION_DEFAULTS.serviceName,
        LOG_LEVEL: props.logLevel ?? PAYMENT_FUNCTION_DEFAULTS.logLevel,
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
    } satisfies Partial<lambda.FunctionProps>;

    this.function = props.code
      ? new lambda.Function(this, 'Function', { ...common, code: props.code, handler: 'index.handler' })
      : new nodejs.NodejsFunction(this, 'Function', {
          ...common,
          entry,
          handler: 'handler',
          projectRoot: PROJECT_ROOT,
          depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
          bundling: {
            forceDockerBundling: false,
            format: nodejs.OutputFormat.ESM,
            target: 'node22',
            mainFields: ['module', 'main'],
            banner: ESM_REQUIRE_BANNER,
            // Bundle the AWS SDK too: the version tested locally is the version that runs.
            externalModules: [],
            minify: true,
            sourceMap: true,
            sourcesContent: false,
            tsconfig: path.join(PROJECT_ROOT, 'tsconfig.json'),
            esbuildArgs: {
              '--alias': [
                `${CREDENTIAL_CHAIN}=${LAMBDA_CREDENTIALS}`,
                `${EVENT_STREAMS}=${LAMBDA_NO_EVENT_STREAMS}`,
              ],
            },
          },
        });

    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions (Resource "*").',
      },
      {
        id: 'AwsSolutions-L1',
        reason:
          'nodejs22.x is the runtime the project targets and tests on (middy 7, the local Step Functions runner); a newer runtime is a deliberate, tested upgrade.',
      },
      {
        id: 'PCI.DSS.321-IAMNoInlinePolicy',
        reason:
          'The role and its policy belong to this one function and are generated from its declared access (functions/catalog.ts); a reusable managed policy would invite sharing permissions between functions.',
      },
      {
        id: 'PCI.DSS.321-LambdaInsideVPC',
        reason:
          'The functions reach only AWS APIs (IAM-authorized, TLS) and KBank / the cost service over public TLS endpoints; there is no VPC resource to reach, and no cardholder data passes through (cards are tokenized in the browser).',
      },
    );
  }
}
