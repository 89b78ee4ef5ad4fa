/** Infra: both stacks synthesized with inline Lambda code (no esbuild), checked with CDK assertions and cdk-nag. */

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { App, type CfnResource, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, PCIDSS321Checks } from 'cdk-nag';
import { TABLE_DESIGN } from '../../functions/adapters/table-design.js';
import { CATALOG } from '../../functions/catalog.js';
import { ERROR_CODES, type ErrorCode } from '../../functions/core/errors.js';
import { PLAN_NAMES, PLANS } from '../../functions/core/plans.js';
import { LAST_TOKEN_WAIT_RECEIVE } from '../../functions/core/use-cases/callbacks/kbank-callbacks.js';
import { PROBLEM_PAGES } from '../../functions/handlers/problem-pages.js';
import { PROJECT_ROOT } from '../../lib/constructs/payment-function.js';
import { createPaymentStacks } from '../../lib/payments-app.js';
import type { StatefulStack } from '../../lib/stateful-stack.js';
import {
  HANDLER_NAMES,
  HANDLERS,
  type HandlerName,
  type HandlerSpec,
  type StatelessStack,
} from '../../lib/stateless-stack.js';

const REAL_ASL = 'statemachines/payment.asl.json';
const SUBSTITUTION_KEYS = [
  'VerifyCostFunctionArn',
  'AuthorizeFunctionArn',
  'InquireAuthorizationFunctionArn',
  'CaptureFunctionArn',
  'VoidFunctionArn',
  'FailPaymentFunctionArn',
  'AwaitCaptureFunctionArn',
  'AwaitActionFunctionArn',
  'ResolveActionFunctionArn',
  'ReenterFunctionArn',
  'EventBusName',
];
const SAGA_HANDLERS = HANDLER_NAMES.filter((name) => (HANDLERS[name] as HandlerSpec).sagaArnKey);
const REFUND_SAGA_HANDLERS = HANDLER_NAMES.filter((name) => (HANDLERS[name] as HandlerSpec).refundSagaArnKey);
const REFUND_ASL = 'statemachines/refund.asl.json';
const KBANK_HANDLERS: HandlerName[] = [
  'saga-authorize',
  'saga-inquire-authorization',
  'saga-capture',
  'saga-void',
  'saga-refund-at-kbank',
  'saga-inquire-refund',
  'saga-resolve-action',
  'api-kbank-webhook',
  'kbank-notifications',
  'ops-reconcile-kbank',
  // The late-charge check of a payment that failed on unanswered charge calls.
  'ops-sweep',
];
/** The two unauthenticated KBank callback endpoints: the only functions that may put on the notification queue. */
const NOTIFICATION_SENDERS: HandlerName[] = ['api-kbank-webhook', 'api-kbank-return'];
const NOTIFICATION_PROCESSOR: HandlerName = 'kbank-notifications';
/** Write the endpoints' signing secrets (create, rotate, delete). */
const WEBHOOK_SECRET_WRITERS: HandlerName[] = [
  'api-create-webhook-endpoint',
  'api-delete-webhook-endpoint',
  'api-rotate-webhook-secret',
];
/** Read them: the writers (a rotation keeps the previous secret) and the delivery, which signs. */
const WEBHOOK_SECRET_READERS: HandlerName[] = [...WEBHOOK_SECRET_WRITERS, 'webhooks-deliver'];

const scratch = mkdtempSync(path.join(tmpdir(), 'payments-infra-'));

/** The real ASL when it exists; otherwise a minimal one using every substitution (the test owns it). */
function definitionPath(): string {
  if (existsSync(path.join(PROJECT_ROOT, REAL_ASL))) return REAL_ASL;
  const placeholder = path.join(scratch, 'placeholder.asl.json');
  const states: Record<string, unknown> = {};
  const keys = SUBSTITUTION_KEYS.filter((key) => key !== 'EventBusName');
  keys.forEach((key, index) => {
    states[key] = {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: `\${${key}}`, 'Payload.$': '$' },
      Next: keys[index + 1] ?? 'Emit',
    };
  });
  states.Emit = {
    Type: 'Task',
    Resource: 'arn:aws:states:::events:putEvents',
    Parameters: {
      Entries: [{ EventBusName: '${EventBusName}', Source: 'payments', DetailType: 'x', Detail: {} }],
    },
    End: true,
  };
  writeFileSync(placeholder, JSON.stringify({ StartAt: keys[0], States: states }));
  return placeholder;
}

const inlineCode = () => lambda.Code.fromInline('export const handler = async () => ({});');

interface Built {
  app: App;
  stateful: StatefulStack;
  stateless: StatelessStack;
  statefulTemplate: Template;
  statelessTemplate: Template;
}

function build(
  stage: string,
  overrides: {
    handlersDir?: string;
    definitionPath?: string;
    inline?: boolean;
    qrActionWindow?: Duration;
    redirectActionWindow?: Duration;
  } = {},
) {
  const app = new App();
  const { stateful, stateless } = createPaymentStacks(app, {
    stage,
    costServiceUrl: 'https://cost.merchant.test',
    kbankBaseUrl: 'https://dev-kpaymentgateway-services.kasikornbank.com',
    definitionPath: overrides.definitionPath ?? definitionPath(),
    handlersDir: overrides.handlersDir,
    codeFor: overrides.inline === false ? undefined : inlineCode,
    qrActionWindow: overrides.qrActionWindow,
    redirectActionWindow: overrides.redirectActionWindow,
  });
  return { app, stateful, stateless };
}

function buildWithTemplates(stage: string): Built {
  const { app, stateful, stateless } = build(stage);
  return {
    app,
    stateful,
    stateless,
    statefulTemplate: Template.fromStack(stateful),
    statelessTemplate: Template.fromStack(stateless),
  };
}

function logicalId(construct: { node: { defaultChild?: unknown } }): string {
  const child = construct.node.defaultChild as CfnResource;
  return Stack.of(child).getLogicalId(child);
}

type Statement = { Action: string | string[]; Resource: unknown; Effect: string; Condition?: unknown };

/** Every Allow statement of the IAM policies attached to the role with this logical id. */
function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((policy) =>
      (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleLogicalId),
    )
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

const actionsOf = (statements: Statement[]) =>
  new Set(statements.flatMap((statement) => [statement.Action].flat() as string[]));

function functionRoleId(stateless: StatelessStack, name: HandlerName): string {
  return logicalId(stateless.functions[name].role as unknown as { node: { defaultChild?: unknown } });
}

let dev: Built;

beforeAll(() => {
  dev = buildWithTemplates('test');
});

describe('stateful stack', () => {
  it('builds the table from TABLE_DESIGN: keys, GSIs, TTL, PITR, CMK, on-demand, streams', () => {
    const key = logicalId(dev.stateful.key);
    dev.statefulTemplate.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: TABLE_DESIGN.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_DESIGN.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: TABLE_DESIGN.globalSecondaryIndexes.map((index) =>
        Match.objectLike({
          IndexName: index.indexName,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        }),
      ),
      TimeToLiveSpecification: { AttributeName: TABLE_DESIGN.ttlAttribute, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] } },
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
    dev.statefulTemplate.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('protects data only in prod: deletion protection and RETAIN', () => {
    dev.statefulTemplate.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
    const prod = buildWithTemplates('prod');
    prod.statefulTemplate.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
    prod.statefulTemplate.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
  });

  it('encrypts every queue with the CMK, enforces TLS, and gives every work queue a DLQ', () => {
    const key = logicalId(dev.stateful.key);
    const queues = dev.statefulTemplate.findResources('AWS::SQS::Queue');
    // finance queue + its DLQ, the finance rule target's DLQ, notification queue + its DLQ, settlement
    // queue + its DLQ, the settlement rule target's DLQ, webhook event queue + its DLQ, the webhook rule
    // target's DLQ, webhook delivery queue + its DLQ
    expect(Object.keys(queues)).toHaveLength(13);
    for (const queue of Object.values(queues)) {
      expect(queue.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [key, 'Arn'] });
    }
    dev.statefulTemplate.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(dev.stateful.financeQueue.deadLetterQueue), 'Arn'] },
        maxReceiveCount: 5,
      },
    });
    const tlsDenies = Object.values(dev.statefulTemplate.findResources('AWS::SQS::QueuePolicy')).filter(
      (policy) =>
        (policy.Properties.PolicyDocument.Statement as { Effect: string; Condition?: unknown }[]).some(
          (statement) =>
            statement.Effect === 'Deny' &&
            JSON.stringify(statement.Condition) ===
              JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }),
        ),
    );
    expect(tlsDenies).toHaveLength(13);
  });

  it('redelivers a KBank callback beyond its last wait for a task token, so the sweep gets it, not the DLQ', () => {
    const queue = dev.statefulTemplate.findResources('AWS::SQS::Queue', {
      Properties: {
        RedrivePolicy: {
          deadLetterTargetArn: {
            'Fn::GetAtt': [logicalId(dev.stateful.notificationQueue.deadLetterQueue), 'Arn'],
          },
        },
      },
    });
    const [notifications] = Object.values(queue);
    expect(notifications?.Properties.RedrivePolicy.maxReceiveCount).toBeGreaterThan(LAST_TOKEN_WAIT_RECEIVE);
  });

  it('routes every payments event to the finance queue, with a DLQ on the rule target', () => {
    dev.statefulTemplate.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['payments'] },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalId(dev.stateful.financeQueue.queue), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(dev.stateful.financeDeliveryDlq), 'Arn'] } },
        }),
      ],
    });
    dev.statefulTemplate.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 30 });
  });

  it('keeps both secrets encrypted with the CMK', () => {
    const key = logicalId(dev.stateful.key);
    const secrets = dev.statefulTemplate.findResources('AWS::SecretsManager::Secret');
    expect(Object.values(secrets).map((secret) => secret.Properties.KmsKeyId)).toEqual([
      { 'Fn::GetAtt': [key, 'Arn'] },
      { 'Fn::GetAtt': [key, 'Arn'] },
    ]);
  });

  it('alarms on any message in any dead-letter queue', () => {
    const topic = logicalId(dev.stateful.alarmTopic);
    for (const queue of [
      dev.stateful.financeQueue.deadLetterQueue,
      dev.stateful.financeDeliveryDlq,
      dev.stateful.notificationQueue.deadLetterQueue,
    ]) {
      dev.statefulTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(queue), 'QueueName'] } }],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [{ Ref: topic }],
      });
    }
  });
});

describe('stateful stack: KBank notification queue', () => {
  const queueProps = () =>
    dev.statefulTemplate.findResources('AWS::SQS::Queue')[logicalId(dev.stateful.notificationQueue.queue)]
      ?.Properties;

  it('is a CMK-encrypted queue that moves a callback to its own DLQ after 5 receives', () => {
    const key = logicalId(dev.stateful.key);
    expect(queueProps()).toMatchObject({
      KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] },
      RedrivePolicy: {
        deadLetterTargetArn: {
          'Fn::GetAtt': [logicalId(dev.stateful.notificationQueue.deadLetterQueue), 'Arn'],
        },
        maxReceiveCount: 5,
      },
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    const dlq =
      dev.statefulTemplate.findResources('AWS::SQS::Queue')[
        logicalId(dev.stateful.notificationQueue.deadLetterQueue)
      ];
    expect(dlq?.Properties).toMatchObject({
      KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] },
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });

  it("hides a received callback for at least six times the processor's timeout", () => {
    const processor =
      dev.statelessTemplate.findResources('AWS::Lambda::Function')[
        logicalId(dev.stateless.functions[NOTIFICATION_PROCESSOR])
      ];
    const timeout = processor?.Properties.Timeout as number;
    expect(timeout).toBeGreaterThan(0);
    expect(queueProps()?.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
  });

  it('alarms when a callback reaches the DLQ or waits more than five minutes in the queue', () => {
    const topic = logicalId(dev.stateful.alarmTopic);
    dev.statefulTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(dev.stateful.notificationQueue.deadLetterQueue), 'QueueName'] },
        },
      ],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: topic }],
    });
    dev.statefulTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(dev.stateful.notificationQueue.queue), 'QueueName'] },
        },
      ],
      Threshold: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: topic }],
      OKActions: [{ Ref: topic }],
    });
  });
});

describe('stateless stack: functions', () => {
  it('runs every handler on ARM64, nodejs22.x, with active tracing and its own log group', () => {
    const functions = dev.statelessTemplate.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(HANDLER_NAMES.length);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties).toMatchObject({
        Architectures: ['arm64'],
        Runtime: 'nodejs22.x',
        TracingConfig: { Mode: 'Active' },
        MemorySize: 512,
        LoggingConfig: { LogGroup: expect.anything() },
        Environment: {
          Variables: expect.objectContaining({ POWERTOOLS_SERVICE_NAME: 'payments', LOG_LEVEL: 'INFO' }),
        },
      });
    }
    dev.statelessTemplate.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('gives each function only the environment its role allows it to use', () => {
    const variables = (name: HandlerName) => {
      const fn =
        dev.statelessTemplate.findResources('AWS::Lambda::Function')[
          logicalId(dev.stateless.functions[name])
        ];
      return Object.keys(fn?.Properties.Environment.Variables ?? {});
    };
    expect(variables('api-create-payment')).toContain('STATE_MACHINE_ARN');
    expect(variables('saga-verify-cost')).toEqual(
      expect.arrayContaining([
        'COST_SERVICE_URL',
        'COST_SERVICE_API_KEY_SECRET_ARN',
        'COST_SERVICE_TIMEOUT_MS',
      ]),
    );
    for (const name of KBANK_HANDLERS) {
      expect(variables(name)).toEqual(
        expect.arrayContaining(['KBANK_BASE_URL', 'KBANK_SECRET_ARN', 'KBANK_TIMEOUT_MS']),
      );
    }
    for (const name of HANDLER_NAMES) {
      if (NOTIFICATION_SENDERS.includes(name)) expect(variables(name)).toContain('NOTIFICATION_QUEUE_URL');
      else expect(variables(name)).not.toContain('NOTIFICATION_QUEUE_URL');
      expect(variables(name)).not.toContain('QR_ACTION_WINDOW_SECONDS');
      expect(variables(name)).toEqual(expect.arrayContaining(['TABLE_NAME', 'EVENT_BUS_NAME']));
      // The sweep restarts runs of both sagas.
      if (name !== 'api-create-payment' && name !== 'ops-sweep') {
        expect(variables(name)).not.toContain('STATE_MACHINE_ARN');
      }
      if (name === 'api-create-refund' || name === 'ops-sweep') {
        expect(variables(name)).toContain('REFUND_STATE_MACHINE_ARN');
      } else expect(variables(name)).not.toContain('REFUND_STATE_MACHINE_ARN');
    }
  });

  it('lets only create-payment start the saga, create-refund the refund saga, and the sweep both', () => {
    for (const name of HANDLER_NAMES) {
      const statements = statementsOfRole(dev.statelessTemplate, functionRoleId(dev.stateless, name));
      const starts = statements.filter((statement) =>
        [statement.Action].flat().includes('states:StartExecution'),
      );
      if (name === 'api-create-payment') {
        expect(starts).toHaveLength(1);
        expect(JSON.stringify(starts[0]?.Resource)).toContain(':stateMachine:payments-saga-test');
      } else if (name === 'api-create-refund') {
        expect(starts).toHaveLength(1);
        expect(JSON.stringify(starts[0]?.Resource)).toContain(':stateMachine:payments-refund-saga-test');
        expect(JSON.stringify(starts[0]?.Resource)).not.toContain(':stateMachine:payments-saga-test');
      } else if (name === 'ops-sweep') {
        expect(starts).toHaveLength(1);
        expect(JSON.stringify(starts[0]?.Resource)).toContain(':stateMachine:payments-saga-test');
        expect(JSON.stringify(starts[0]?.Resource)).toContain(':stateMachine:payments-refund-saga-test');
      } else {
        expect(starts).toEqual([]);
      }
    }
  });

  it('runs the sweep every minute through EventBridge Scheduler, lets it describe executions of the two sagas only, and alarms on what it gives up', () => {
    dev.statelessTemplate.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 minute)',
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [logicalId(dev.stateless.functions['ops-sweep']), 'Arn'] },
      }),
    });
    const statements = statementsOfRole(dev.statelessTemplate, functionRoleId(dev.stateless, 'ops-sweep'));
    const describes = statements.filter((statement) =>
      [statement.Action].flat().includes('states:DescribeExecution'),
    );
    expect(describes).toHaveLength(1);
    const resources = JSON.stringify(describes[0]?.Resource);
    expect(resources).toContain(':execution:payments-saga-test:*');
    expect(resources).toContain(':execution:payments-refund-saga-test:*');
    for (const name of HANDLER_NAMES.filter((n) => n !== 'ops-sweep')) {
      const others = statementsOfRole(dev.statelessTemplate, functionRoleId(dev.stateless, name));
      expect(others.filter((s) => [s.Action].flat().includes('states:DescribeExecution'))).toEqual([]);
      expect(others.filter((s) => [s.Action].flat().includes('kms:*'))).toEqual([]);
    }
    // Its only secret is KBank's, for the late-charge check.
    expect(
      statements
        .filter((statement) => [statement.Action].flat().some((a) => String(a).startsWith('secretsmanager:')))
        .map((statement) => JSON.stringify(statement.Resource)),
    ).toEqual([expect.stringContaining('KbankSecretKey')]);
    dev.statelessTemplate.hasResourceProperties('AWS::Logs::MetricFilter', {
      MetricTransformations: [Match.objectLike({ MetricName: 'ReconciliationUnresolved' })],
    });
    dev.statelessTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ReconciliationUnresolved',
      Threshold: 1,
    });
  });

  it('runs the KBank reconciliation daily at 03:00 Bangkok time and alarms on its exceptions', () => {
    dev.statelessTemplate.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 3 * * ? *)',
      ScheduleExpressionTimezone: 'Asia/Bangkok',
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [logicalId(dev.stateless.functions['ops-reconcile-kbank']), 'Arn'] },
      }),
    });
    dev.statelessTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'KbankReconciliationExceptions',
      Threshold: 1,
    });
  });

  it('gives the action windows to create-payment only, and only when the stage sets them', () => {
    const built = build('windows', {
      qrActionWindow: Duration.minutes(5),
      redirectActionWindow: Duration.minutes(20),
    });
    const template = Template.fromStack(built.stateless);
    const functions = template.findResources('AWS::Lambda::Function');
    for (const name of HANDLER_NAMES) {
      const variables =
        functions[logicalId(built.stateless.functions[name])]?.Properties.Environment.Variables;
      if (name === 'api-create-payment') {
        expect(variables).toMatchObject({
          QR_ACTION_WINDOW_SECONDS: '300',
          REDIRECT_ACTION_WINDOW_SECONDS: '1200',
        });
      } else {
        expect(Object.keys(variables)).not.toContain('QR_ACTION_WINDOW_SECONDS');
        expect(Object.keys(variables)).not.toContain('REDIRECT_ACTION_WINDOW_SECONDS');
      }
    }
  });

  it('lets only the two KBank callback endpoints send to the notification queue, and only to it', () => {
    const queue = logicalId(dev.stateful.notificationQueue.queue);
    for (const name of HANDLER_NAMES) {
      const statements = statementsOfRole(dev.statelessTemplate, functionRoleId(dev.stateless, name));
      const allSends = statements.filter((statement) =>
        [statement.Action].flat().includes('sqs:SendMessage'),
      );
      // Sends elsewhere (the webhook delivery queue) are checked with the webhooks below.
      const sends = NOTIFICATION_SENDERS.includes(name)
        ? allSends
        : allSends.filter((statement) => JSON.stringify(statement.Resource).includes(queue));
      if (NOTIFICATION_SENDERS.includes(name)) {
        expect(sends).toHaveLength(1);
        expect(sends[0]?.Action).toBe('sqs:SendMessage');
        expect(JSON.stringify(sends[0]?.Resource)).toContain(queue);
        expect(JSON.stringify(sends[0]?.Resource)).not.toContain(
          logicalId(dev.stateful.notificationQueue.deadLetterQueue),
        );
      } else {
        expect(sends).toEqual([]);
      }
    }
    // The browser return is untrusted input: it may queue, and nothing else (no table, no secret, no saga).
    const returnActions = [
      ...actionsOf(
        statementsOfRole(dev.statelessTemplate, functionRoleId(dev.stateless, 'api-kbank-return')),
      ),
    ].filter((action) => !/^(logs|xray):/.test(action));
    expect(returnActions.sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey', 'sqs:SendMessage']);
  });

  it('feeds the processor from the notification queue in batches of 10, reporting failures per item', () => {
    const mappings = Object.values(
      dev.statelessTemplate.findResources('AWS::Lambda::EventSourceMapping', {
        Properties: { FunctionName: { Ref: logicalId(dev.stateless.functions[NOTIFICATION_PROCESSOR]) } },
      }),
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.Properties).toMatchObject({
      FunctionName: { Ref: logicalId(dev.stateless.functions[NOTIFICATION_PROCESSOR]) },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(JSON.stringify(mappings[0]?.Properties.EventSourceArn)).toContain(
      logicalId(dev.stateful.notificationQueue.queue),
    );

    const actions = actionsOf(
      statementsOfRole(dev.statelessTemplate, functionRoleId(dev.stateless, NOTIFICATION_PROCESSOR)),
    );
    expect([...actions].filter((action) => action.startsWith('sqs:')).sort()).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
    ]);
    for (const action of [
      'states:SendTaskSuccess',
      'states:SendTaskFailure',
      'secretsmanager:GetSecretValue',
    ]) {
      expect(actions).toContain(action);
    }
    expect(actions).not.toContain('states:StartExecution');
  });

  it('lets only capture, cancel, amount change, the parked tasks and the callback processor resume saga tasks, and only of the saga', () => {
    for (const name of HANDLER_NAMES) {
      const statements = statementsOfRole(dev.statelessTemplate, functionRoleId(dev.stateless, name));
      const resumes = statements.filter((statement) =>
        [statement.Action].flat().some((action) => String(action).startsWith('states:SendTask')),
      );
      if (
        [
          'api-capture-payment',
          'api-cancel-payment',
          'api-update-payment',
          'saga-await-capture',
          'saga-await-action',
          'kbank-notifications',
        ].includes(name)
      ) {
        expect(resumes).toHaveLength(1);
        expect([resumes[0]?.Action].flat().sort()).toEqual([
          'states:SendTaskFailure',
          'states:SendTaskSuccess',
        ]);
        expect(JSON.stringify(resumes[0]?.Resource)).toContain(':stateMachine:payments-saga-test');
      } else {
        expect(resumes).toEqual([]);
      }
    }
  });

  it('lets only the KBank and cost tasks read secrets, each only its own', () => {
    const secretOf = (name: HandlerName) =>
      statementsOfRole(dev.statelessTemplate, functionRoleId(dev.stateless, name))
        .filter((statement) => [statement.Action].flat().includes('secretsmanager:GetSecretValue'))
        .map((statement) => JSON.stringify(statement.Resource));
    for (const name of HANDLER_NAMES) {
      const read = secretOf(name);
      if (KBANK_HANDLERS.includes(name)) {
        expect(read).toHaveLength(1);
        expect(read[0]).toContain('KbankSecretKey');
      } else if (name === 'saga-verify-cost' || name === 'api-update-payment') {
        expect(read).toHaveLength(1);
        expect(read[0]).toContain('CostServiceApiKey');
      } else if (WEBHOOK_SECRET_READERS.includes(name)) {
        expect(read).toHaveLength(1);
        expect(read[0]).toContain(':secret:payments/test/webhooks/*');
      } else {
        expect(read).toEqual([]);
      }
    }
  });

  it('grants table writes only to functions declared readwrite, and no wildcard on the table', () => {
    for (const name of HANDLER_NAMES) {
      const actions = actionsOf(statementsOfRole(dev.statelessTemplate, functionRoleId(dev.stateless, name)));
      const spec: HandlerSpec = HANDLERS[name];
      expect(actions.has('dynamodb:PutItem')).toBe(spec.table === 'readwrite');
      expect(actions.has('dynamodb:GetItem')).toBe(spec.table !== undefined);
      expect([...actions].filter((action) => action.includes('*'))).toEqual([]);
    }
  });

  it('lets the payment search only Query the merchant index (GSI1): no table reads, no writes', () => {
    const statements = statementsOfRole(
      dev.statelessTemplate,
      functionRoleId(dev.stateless, 'api-list-payments'),
    );
    const dynamo = statements.filter((statement) =>
      [statement.Action].flat().some((action) => action.startsWith('dynamodb:')),
    );
    expect(dynamo).toHaveLength(1);
    expect(dynamo[0]?.Action).toBe('dynamodb:Query');
    const table = logicalId(dev.stateful.table);
    const resource = JSON.stringify(dynamo[0]?.Resource);
    expect(resource).toContain('/index/GSI1');
    expect(resource).not.toContain('GSI2');
    expect(resource).toContain(table);
    expect([...actionsOf(statements)].filter((action) => /^(dynamodb|kms):/.test(action)).sort()).toEqual([
      'dynamodb:Query',
      'kms:Decrypt',
      'kms:DescribeKey',
    ]);
  });
});

describe('stateless stack: state machine', () => {
  it('is a STANDARD machine with a fixed name, logs without execution data, and tracing', () => {
    dev.statelessTemplate.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      StateMachineName: 'payments-saga-test',
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
      TracingConfiguration: { Enabled: true },
    });
  });

  it('resolves every ${…} of the definition through its substitutions, saga ARNs from the saga functions', () => {
    const machine = Object.values(
      dev.statelessTemplate.findResources('AWS::StepFunctions::StateMachine'),
    ).find((candidate) => candidate.Properties.StateMachineName === 'payments-saga-test');
    const substitutions = machine?.Properties.DefinitionSubstitutions as Record<string, unknown>;
    expect(Object.keys(substitutions).sort()).toEqual([...SUBSTITUTION_KEYS].sort());

    const definition = readFileSync(path.resolve(PROJECT_ROOT, definitionPath()), 'utf8');
    const rendered = definition.replace(/\$\{([A-Za-z0-9]+)\}/g, (whole, key: string) =>
      key in substitutions ? 'resolved' : whole,
    );
    expect(rendered).not.toContain('${');

    const sagaArns = SAGA_HANDLERS.map((name) => ({
      'Fn::GetAtt': [logicalId(dev.stateless.functions[name]), 'Arn'],
    }));
    const substitutedArns = Object.entries(substitutions)
      .filter(([key]) => key !== 'EventBusName')
      .map(([, value]) => value);
    expect(substitutedArns).toEqual(expect.arrayContaining(sagaArns));
    expect(substitutedArns).toHaveLength(sagaArns.length);
  });

  it('substitutes nothing the definition does not use (every saga function has its state)', () => {
    const machine = Object.values(
      dev.statelessTemplate.findResources('AWS::StepFunctions::StateMachine'),
    ).find((candidate) => candidate.Properties.StateMachineName === 'payments-saga-test');
    const substitutions = machine?.Properties.DefinitionSubstitutions as Record<string, unknown>;
    const definition = readFileSync(path.resolve(PROJECT_ROOT, definitionPath()), 'utf8');
    const used = new Set([...definition.matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((match) => match[1]));
    expect(Object.keys(substitutions).sort()).toEqual([...used].sort());
  });

  it('may invoke exactly the saga task functions and put events on the bus, nothing else but logs and X-Ray', () => {
    const role = logicalId(
      dev.stateless.stateMachine.role as unknown as { node: { defaultChild?: unknown } },
    );
    const statements = statementsOfRole(dev.statelessTemplate, role);

    const invoke = statements.filter((statement) =>
      [statement.Action].flat().includes('lambda:InvokeFunction'),
    );
    expect(invoke).toHaveLength(1);
    expect(invoke[0]?.Resource).toEqual(
      SAGA_HANDLERS.map((name) => ({ 'Fn::GetAtt': [logicalId(dev.stateless.functions[name]), 'Arn'] })),
    );

    const putEvents = statements.filter((statement) =>
      [statement.Action].flat().includes('events:PutEvents'),
    );
    expect(putEvents).toHaveLength(1);
    expect(JSON.stringify(putEvents[0]?.Resource)).toContain('EventBus');

    const others = [...actionsOf(statements)].filter(
      (action) => action !== 'lambda:InvokeFunction' && action !== 'events:PutEvents',
    );
    for (const action of others) expect(action).toMatch(/^(logs|xray):/);
  });
});

describe('stateless stack: refund state machine', () => {
  const refundMachine = () =>
    Object.values(dev.statelessTemplate.findResources('AWS::StepFunctions::StateMachine')).find(
      (candidate) => candidate.Properties.StateMachineName === 'payments-refund-saga-test',
    );

  it('is a second STANDARD machine with a fixed name, logs without execution data, and tracing', () => {
    expect(refundMachine()?.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      LoggingConfiguration: expect.objectContaining({ Level: 'ALL', IncludeExecutionData: false }),
      TracingConfiguration: { Enabled: true },
    });
  });

  it('resolves every ${…} of refund.asl.json, function ARNs from exactly the refund task functions', () => {
    const substitutions = refundMachine()?.Properties.DefinitionSubstitutions as Record<string, unknown>;
    const definition = readFileSync(path.resolve(PROJECT_ROOT, REFUND_ASL), 'utf8');
    const used = new Set([...definition.matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((match) => match[1]));
    expect(Object.keys(substitutions).sort()).toEqual([...used].sort());
    const arns = Object.entries(substitutions)
      .filter(([key]) => key !== 'EventBusName')
      .map(([, value]) => value);
    expect(arns).toEqual(
      expect.arrayContaining(
        REFUND_SAGA_HANDLERS.map((name) => ({
          'Fn::GetAtt': [logicalId(dev.stateless.functions[name]), 'Arn'],
        })),
      ),
    );
    expect(arns).toHaveLength(REFUND_SAGA_HANDLERS.length);
  });

  it('may invoke exactly the three refund functions and put events on the bus, nothing else but logs and X-Ray', () => {
    const role = logicalId(
      dev.stateless.refundStateMachine.role as unknown as { node: { defaultChild?: unknown } },
    );
    const statements = statementsOfRole(dev.statelessTemplate, role);
    const invoke = statements.filter((statement) =>
      [statement.Action].flat().includes('lambda:InvokeFunction'),
    );
    expect(invoke).toHaveLength(1);
    expect(invoke[0]?.Resource).toEqual(
      REFUND_SAGA_HANDLERS.map((name) => ({
        'Fn::GetAtt': [logicalId(dev.stateless.functions[name]), 'Arn'],
      })),
    );
    const others = [...actionsOf(statements)].filter(
      (action) => action !== 'lambda:InvokeFunction' && action !== 'events:PutEvents',
    );
    for (const action of others) expect(action).toMatch(/^(logs|xray):/);
  });

  it('alarms when a refund execution fails (a refund left unknown, its amount held)', () => {
    const alarms = Object.values(dev.statelessTemplate.findResources('AWS::CloudWatch::Alarm'));
    const refundFailed = alarms.filter(
      (alarm) =>
        alarm.Properties.MetricName === 'ExecutionsFailed' &&
        JSON.stringify(alarm.Properties.Dimensions).includes(logicalId(dev.stateless.refundStateMachine)),
    );
    expect(refundFailed).toHaveLength(1);
  });
});

describe('stateless stack: API', () => {
  function methodFor(pathParts: string[], httpMethod: string) {
    const resources = dev.statelessTemplate.findResources('AWS::ApiGateway::Resource');
    const byId = (id: string) =>
      resources[id]?.Properties as { PathPart: string; ParentId: unknown } | undefined;
    const fullPath = (id: string): string[] => {
      const resource = byId(id);
      if (!resource) return [];
      const parent = resource.ParentId as { Ref?: string };
      return [...(parent.Ref ? fullPath(parent.Ref) : []), resource.PathPart];
    };
    const resourceId = Object.keys(resources).find((id) => fullPath(id).join('/') === pathParts.join('/'));
    const methods = dev.statelessTemplate.findResources('AWS::ApiGateway::Method', {
      Properties: { HttpMethod: httpMethod, ResourceId: { Ref: resourceId } },
    });
    const [method] = Object.values(methods);
    if (!method) throw new Error(`no ${httpMethod} /${pathParts.join('/')}`);
    return method.Properties as {
      AuthorizationType: string;
      AuthorizerId?: unknown;
      RequestModels?: unknown;
      Integration: { Type: string; Uri: unknown };
    };
  }

  it('puts the TOKEN authorizer on every payment route and none on health', () => {
    const [authorizerId] = Object.keys(dev.statelessTemplate.findResources('AWS::ApiGateway::Authorizer'));
    dev.statelessTemplate.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'TOKEN',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 60,
    });
    for (const [route, verb] of [
      [['v1', 'payments'], 'POST'],
      [['v1', 'payments'], 'GET'],
      [['v1', 'payments', '{id}'], 'GET'],
      [['v1', 'payments', '{id}', 'events'], 'GET'],
      [['v1', 'payments', '{id}', 'refunds'], 'POST'],
      [['v1', 'payments', '{id}', 'refunds'], 'GET'],
      [['v1', 'payments', '{id}', 'qr'], 'GET'],
    ] as const) {
      expect(methodFor([...route], verb)).toMatchObject({
        AuthorizationType: 'CUSTOM',
        AuthorizerId: { Ref: authorizerId },
      });
    }
    const health = methodFor(['v1', 'health'], 'GET');
    expect(health.AuthorizationType).toBe('NONE');
    expect(health.AuthorizerId).toBeUndefined();
  });

  it('takes the KBank notify and the 3-D Secure return without an authorizer or a JSON model, each on its function', () => {
    for (const [route, handler] of [
      [['v1', 'webhooks', 'kbank'], 'api-kbank-webhook'],
      [['v1', 'webhooks', 'kbank', 'return'], 'api-kbank-return'],
    ] as const) {
      const method = methodFor([...route], 'POST');
      expect(method.AuthorizationType).toBe('NONE');
      expect(method.AuthorizerId).toBeUndefined();
      // A urlencoded form (the browser return) must reach the handler as it is: no model, Lambda proxy.
      expect(method.RequestModels).toBeUndefined();
      expect(method.Integration.Type).toBe('AWS_PROXY');
      expect(JSON.stringify(method.Integration.Uri)).toContain(logicalId(dev.stateless.functions[handler]));
    }
  });

  it('keeps the unauthenticated routes behind the WAF, and throttles the browser return below the stage', () => {
    dev.statelessTemplate.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    dev.statelessTemplate.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: 'POST',
          ResourcePath: '/~1v1~1webhooks~1kbank~1return',
          ThrottlingRateLimit: 50,
          ThrottlingBurstLimit: 100,
        }),
      ]),
    });
  });

  it('throttles, traces and access-logs the stage, never logging bodies', () => {
    dev.statelessTemplate.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'test',
      TracingEnabled: true,
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 200,
          ThrottlingBurstLimit: 400,
          DataTraceEnabled: false,
        }),
      ]),
    });
  });

  it('holds every merchant route to a usage plan per merchant plan, counted by the authorizer’s usage key', () => {
    dev.statelessTemplate.hasResourceProperties('AWS::ApiGateway::RestApi', {
      ApiKeySourceType: 'AUTHORIZER',
    });
    for (const [route, verb] of [
      [['v1', 'payments'], 'POST'],
      [['v1', 'payments', '{id}'], 'GET'],
      [['v1', 'payments', '{id}', 'refunds'], 'POST'],
    ] as const) {
      expect(methodFor([...route], verb)).toMatchObject({ ApiKeyRequired: true });
    }
    // The unauthenticated routes have no usage key to count: they stay outside the plans.
    expect(methodFor(['v1', 'health'], 'GET')).not.toMatchObject({ ApiKeyRequired: true });
    expect(methodFor(['v1', 'webhooks', 'kbank'], 'POST')).not.toMatchObject({ ApiKeyRequired: true });
    const plans = Object.values(dev.statelessTemplate.findResources('AWS::ApiGateway::UsagePlan')).map(
      (plan) => plan.Properties,
    );
    expect(plans.map((plan) => plan.UsagePlanName).sort()).toEqual(
      PLAN_NAMES.map((name) => `payments-test-${name}`).sort(),
    );
    for (const name of PLAN_NAMES) {
      const plan = plans.find((p) => p.UsagePlanName === `payments-test-${name}`);
      expect(plan).toMatchObject({
        Throttle: { RateLimit: PLANS[name].rateLimit, BurstLimit: PLANS[name].burstLimit },
        ApiStages: [{ ApiId: expect.anything(), Stage: expect.anything() }],
      });
      const quota = PLANS[name].dailyQuota;
      if (quota === undefined) expect(plan?.Quota).toBeUndefined();
      else expect(plan?.Quota).toEqual({ Limit: quota, Period: 'DAY' });
    }
  });

  it('answers a throttled or over-quota merchant 429 with Retry-After', () => {
    for (const [type, wait] of [
      ['THROTTLED', "'1'"],
      ['QUOTA_EXCEEDED', "'3600'"],
    ]) {
      dev.statelessTemplate.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        StatusCode: '429',
        ResponseParameters: Match.objectLike({ 'gatewayresponse.header.Retry-After': wait }),
      });
    }
  });

  it('blocks floods per source IP, tighter on KBank’s unauthenticated callbacks, and lets 64 KiB bodies through', () => {
    const [acl] = Object.values(dev.statelessTemplate.findResources('AWS::WAFv2::WebACL'));
    const rules = acl?.Properties.Rules as {
      Name: string;
      Action?: unknown;
      Statement: Record<string, any>;
    }[];
    const rate = (name: string) => rules.find((rule) => rule.Name === name)?.Statement.RateBasedStatement;
    expect(rate('RateLimitPerIp')).toMatchObject({
      Limit: 12_000,
      AggregateKeyType: 'IP',
      EvaluationWindowSec: 60,
    });
    expect(rate('RateLimitKbankCallbacksPerIp')).toMatchObject({
      Limit: 6_000,
      AggregateKeyType: 'IP',
      ScopeDownStatement: {
        ByteMatchStatement: { SearchString: '/v1/webhooks/kbank', PositionalConstraint: 'CONTAINS' },
      },
    });
    expect(rules.find((rule) => rule.Name === 'RateLimitPerIp')?.Action).toEqual({ Block: {} });
    const common = rules.find((rule) => rule.Name === 'AWSManagedRulesCommonRuleSet');
    expect(common?.Statement.ManagedRuleGroupStatement.RuleActionOverrides).toEqual([
      { Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } },
    ]);
  });

  it('answers gateway errors as application/problem+json', () => {
    const responses = Object.values(dev.statelessTemplate.findResources('AWS::ApiGateway::GatewayResponse'));
    const types = responses.map((response) => response.Properties.ResponseType);
    expect(types).toEqual(
      expect.arrayContaining(['DEFAULT_4XX', 'DEFAULT_5XX', 'UNAUTHORIZED', 'THROTTLED']),
    );
    for (const response of responses) {
      expect(response.Properties.ResponseParameters['gatewayresponse.header.Content-Type']).toBe(
        "'application/problem+json'",
      );
      const body = response.Properties.ResponseTemplates['application/json'] as string;
      expect(body).toContain(`"status":${response.Properties.StatusCode}`);
      // Its type is the page of a code of the taxonomy, with that code's status.
      const code = /"type":"\/problems\/([a-z_]+)"/.exec(body)?.[1] ?? '';
      expect(Object.keys(PROBLEM_PAGES)).toContain(code);
      expect(String(ERROR_CODES[code as ErrorCode].status)).toBe(response.Properties.StatusCode);
      if (response.Properties.StatusCode === '429')
        expect(response.Properties.ResponseParameters['gatewayresponse.header.Retry-After']).toMatch(
          /^'\d+'$/,
        );
    }
  });
});

describe('settlements', () => {
  const CONSUMER: HandlerName = 'settlements-consumer';
  const CLOSE: HandlerName = 'settlements-close';

  it('routes only the money events of the bus to the settlement queue, with a delivery DLQ, and alarms on both DLQs', () => {
    dev.statefulTemplate.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: logicalId(dev.stateful.eventBus) },
      EventPattern: { source: ['payments'], 'detail-type': ['payment.captured', 'refund.succeeded'] },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalId(dev.stateful.settlementQueue.queue), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(dev.stateful.settlementDeliveryDlq), 'Arn'] } },
        }),
      ],
    });
    dev.statefulTemplate.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: {
        deadLetterTargetArn: {
          'Fn::GetAtt': [logicalId(dev.stateful.settlementQueue.deadLetterQueue), 'Arn'],
        },
        maxReceiveCount: 5,
      },
      VisibilityTimeout: 180,
    });
    for (const dlq of [dev.stateful.settlementQueue.deadLetterQueue, dev.stateful.settlementDeliveryDlq]) {
      dev.statefulTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(dlq), 'QueueName'] } }],
        AlarmActions: [{ Ref: logicalId(dev.stateful.alarmTopic) }],
      });
    }
  });

  it('feeds the consumer from the settlement queue, failures per item, with table access and nothing of KBank, sagas or the bus', () => {
    const mappings = Object.values(
      dev.statelessTemplate.findResources('AWS::Lambda::EventSourceMapping', {
        Properties: { FunctionName: { Ref: logicalId(dev.stateless.functions[CONSUMER]) } },
      }),
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.Properties).toMatchObject({
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(JSON.stringify(mappings[0]?.Properties.EventSourceArn)).toContain(
      logicalId(dev.stateful.settlementQueue.queue),
    );
    const actions = [
      ...actionsOf(statementsOfRole(dev.statelessTemplate, functionRoleId(dev.stateless, CONSUMER))),
    ];
    expect(actions).toContain('dynamodb:UpdateItem');
    expect(actions.filter((action) => /^(states|events|secretsmanager):/.test(action))).toEqual([]);
    expect(actions.filter((action) => action.startsWith('sqs:')).sort()).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
    ]);
  });

  it('closes hourly at minute 5 in Bangkok through EventBridge Scheduler; only the close may put settlement.closed on the bus', () => {
    dev.statelessTemplate.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(5 * * * ? *)',
      ScheduleExpressionTimezone: 'Asia/Bangkok',
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [logicalId(dev.stateless.functions[CLOSE]), 'Arn'] },
        RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }),
      }),
    });
    const close = actionsOf(statementsOfRole(dev.statelessTemplate, functionRoleId(dev.stateless, CLOSE)));
    expect(close).toContain('events:PutEvents');
    expect(close).not.toContain('secretsmanager:GetSecretValue');
    for (const name of ['api-list-settlements', 'api-get-settlement', 'api-list-settlement-lines'] as const) {
      const actions = actionsOf(statementsOfRole(dev.statelessTemplate, functionRoleId(dev.stateless, name)));
      expect(actions).not.toContain('dynamodb:PutItem');
      expect(actions).not.toContain('events:PutEvents');
    }
  });

  it("passes the stage's fee table to the consumer only", () => {
    const app = new App();
    const fees = {
      defaults: {
        card: { bps: 250, fixed: 0 },
        qr_promptpay: { bps: 60, fixed: 0 },
        wechat_pay: { bps: 200, fixed: 0 },
        alipay: { bps: 200, fixed: 0 },
      },
    };
    const { stateless } = createPaymentStacks(app, {
      stage: 'fees',
      costServiceUrl: 'https://cost.merchant.test',
      kbankBaseUrl: 'https://dev-kpaymentgateway-services.kasikornbank.com',
      definitionPath: definitionPath(),
      codeFor: inlineCode,
      settlementFees: fees,
    });
    const template = Template.fromStack(stateless);
    const withFees = Object.values(template.findResources('AWS::Lambda::Function')).filter(
      (fn) => fn.Properties.Environment?.Variables?.SETTLEMENT_FEES,
    );
    expect(withFees).toHaveLength(1);
    expect(JSON.parse(withFees[0]?.Properties.Environment.Variables.SETTLEMENT_FEES)).toEqual(fees);
    expect(withFees[0]?.Properties.Description).toContain('Settlements consumer');
  });
});

describe('webhooks', () => {
  const FANOUT: HandlerName = 'webhooks-fanout';
  const DELIVER: HandlerName = 'webhooks-deliver';
  const roleActions = (name: HandlerName) => [
    ...actionsOf(statementsOfRole(dev.statelessTemplate, functionRoleId(dev.stateless, name))),
  ];

  it('routes the subscribable payment and refund events to the webhook event queue, with DLQs and alarms', () => {
    dev.statefulTemplate.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: logicalId(dev.stateful.eventBus) },
      EventPattern: { source: ['payments'], 'detail-type': [...CATALOG[FANOUT].eventTypes] },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalId(dev.stateful.webhookEventQueue.queue), 'Arn'] },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [logicalId(dev.stateful.webhookEventDeliveryDlq), 'Arn'] },
          },
        }),
      ],
    });
    expect(CATALOG[FANOUT].eventTypes).toContain('payment.captured');
    expect(CATALOG[FANOUT].eventTypes).toContain('refund.succeeded');
    for (const queue of [dev.stateful.webhookEventQueue, dev.stateful.webhookDeliveryQueue]) {
      dev.statefulTemplate.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(queue.deadLetterQueue), 'Arn'] },
          maxReceiveCount: 5,
        },
        VisibilityTimeout: 180,
        MessageRetentionPeriod: 14 * 24 * 3600,
      });
    }
    for (const dlq of [
      dev.stateful.webhookEventQueue.deadLetterQueue,
      dev.stateful.webhookEventDeliveryDlq,
      dev.stateful.webhookDeliveryQueue.deadLetterQueue,
    ]) {
      dev.statefulTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(dlq), 'QueueName'] } }],
        AlarmActions: [{ Ref: logicalId(dev.stateful.alarmTopic) }],
      });
    }
    dev.statefulTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(dev.stateful.webhookEventQueue.queue), 'QueueName'] },
        },
      ],
    });
  });

  it('feeds the fan-out from the event queue and the delivery from the delivery queue, failures per item', () => {
    for (const [name, queue] of [
      [FANOUT, dev.stateful.webhookEventQueue.queue],
      [DELIVER, dev.stateful.webhookDeliveryQueue.queue],
    ] as const) {
      const mappings = Object.values(
        dev.statelessTemplate.findResources('AWS::Lambda::EventSourceMapping', {
          Properties: { FunctionName: { Ref: logicalId(dev.stateless.functions[name]) } },
        }),
      );
      expect(mappings).toHaveLength(1);
      expect(mappings[0]?.Properties).toMatchObject({
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      expect(JSON.stringify(mappings[0]?.Properties.EventSourceArn)).toContain(logicalId(queue));
    }
  });

  it('lets only the registry write signing secrets, only the delivery (and the registry) read them, under the stage prefix, the key through Secrets Manager only', () => {
    for (const name of HANDLER_NAMES) {
      const statements = statementsOfRole(dev.statelessTemplate, functionRoleId(dev.stateless, name));
      const writes = statements.filter((statement) =>
        [statement.Action]
          .flat()
          .some((action) =>
            /^secretsmanager:(CreateSecret|PutSecretValue|DeleteSecret)$/.test(String(action)),
          ),
      );
      if (WEBHOOK_SECRET_WRITERS.includes(name)) {
        expect(writes).toHaveLength(1);
        expect(JSON.stringify(writes[0]?.Resource)).toContain(':secret:payments/test/webhooks/*');
      } else {
        expect([name, writes]).toEqual([name, []]);
      }
      if (WEBHOOK_SECRET_READERS.includes(name)) {
        const keyUse = statements.filter(
          (statement) =>
            [statement.Action].flat().includes('kms:Decrypt') &&
            JSON.stringify(statement.Condition ?? {}).includes('secretsmanager.'),
        );
        expect(keyUse.length).toBeGreaterThanOrEqual(1);
      }
    }
    const deliver = roleActions(DELIVER);
    expect(deliver).toContain('secretsmanager:GetSecretValue');
    expect(deliver).not.toContain('secretsmanager:PutSecretValue');
  });

  it('lets only the fan-out, the delivery and the resend route queue deliveries, only the delivery dead-letter them or put notices on the bus', () => {
    const deliveryQueue = logicalId(dev.stateful.webhookDeliveryQueue.queue);
    const dlq = logicalId(dev.stateful.webhookDeliveryQueue.deadLetterQueue);
    const sendersTo = (id: string) =>
      HANDLER_NAMES.filter((name) =>
        statementsOfRole(dev.statelessTemplate, functionRoleId(dev.stateless, name)).some(
          (statement) =>
            [statement.Action].flat().includes('sqs:SendMessage') &&
            JSON.stringify(statement.Resource).includes(id),
        ),
      );
    expect(sendersTo(deliveryQueue).sort()).toEqual(['api-retry-webhook-delivery', DELIVER, FANOUT].sort());
    expect(sendersTo(dlq)).toEqual([DELIVER]);
    expect(roleActions(DELIVER)).toContain('events:PutEvents');
    const fanout = roleActions(FANOUT);
    expect(fanout.filter((action) => /^(states|events|secretsmanager):/.test(action))).toEqual([]);
    for (const name of [
      'api-list-webhook-endpoints',
      'api-get-webhook-endpoint',
      'api-list-webhook-deliveries',
    ] as const) {
      const actions = roleActions(name);
      expect(actions).not.toContain('dynamodb:PutItem');
      expect(actions.filter((action) => /^(sqs|secretsmanager|events):/.test(action))).toEqual([]);
    }
  });

  it('gives the delivery the public-address policy, the queues and the prefix through its environment', () => {
    const fn = dev.statelessTemplate.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('^Webhook delivery') },
    });
    const variables = Object.values(fn)[0]?.Properties.Environment.Variables;
    expect(variables).toMatchObject({
      WEBHOOK_ENDPOINT_POLICY: 'public',
      WEBHOOK_SECRET_PREFIX: 'payments/test/webhooks/',
    });
    expect(JSON.stringify(variables.WEBHOOK_DELIVERY_QUEUE_URL)).toContain('WebhookDeliveryQueue');
    expect(JSON.stringify(variables.WEBHOOK_DEAD_LETTER_QUEUE_URL)).toContain('WebhookDeliveryQueueDlq');
  });
});

describe('alarms', () => {
  it('alarms on failed executions, the API 5xx rate and every function error', () => {
    const alarms = Object.values(dev.statelessTemplate.findResources('AWS::CloudWatch::Alarm'));
    const metrics = alarms.map((alarm) => alarm.Properties.MetricName);
    expect(metrics).toContain('ExecutionsFailed');
    expect(metrics).toContain('5XXError');
    expect(metrics.filter((metric) => metric === 'Errors')).toHaveLength(HANDLER_NAMES.length);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toHaveLength(1);
  });
});

describe('cdk-nag', () => {
  it('reports an unacknowledged finding (control: the check below is not vacuous)', () => {
    const app = new App();
    new sqs.Queue(new Stack(app, 'Control'), 'PlainQueue');
    const rules = new AwsSolutionsChecks()
      .validateScope(app)
      .violations.map((violation) => violation.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']));
  });

  it.each([
    ['AwsSolutions', () => new AwsSolutionsChecks()],
    ['PCI DSS 3.2.1', () => new PCIDSS321Checks()],
  ])('finds nothing unacknowledged in the %s pack', (_name, pack) => {
    const report = pack().validateScope(dev.app);
    const findings = report.violations.map(
      (violation) =>
        `${violation.severity} ${violation.ruleName} @ ${violation.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
  });
});

describe('missing inputs fail the synth with a clear message', () => {
  it('names the missing handler file', () => {
    const emptyHandlers = mkdtempSync(path.join(scratch, 'handlers-'));
    expect(() => build('test', { handlersDir: emptyHandlers, inline: false })).toThrow(
      /handler entry .*api-authorizer\.ts does not exist/,
    );
  });

  it('names the missing state machine definition', () => {
    expect(() => build('test', { definitionPath: path.join(scratch, 'missing.asl.json') })).toThrow(
      /saga definition .*missing\.asl\.json does not exist/,
    );
  });
});
