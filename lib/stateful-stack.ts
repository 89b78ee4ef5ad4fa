/**
 * Stateful stack: what holds data or identity and must outlive redeploys (key, table, bus, finance and
 * KBank notification queues, secrets, alarm topic).
 */
import {
  ArnFormat,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { TABLE_DESIGN } from '../functions/adapters/table-design.js';
import { CATALOG } from '../functions/catalog.js';
import { createDeadLetterQueue, QueueWithDlq } from './constructs/queue-with-dlq.js';

/** EventBridge `source` of every event the payment saga publishes (schemas/events.ts). */
export const PAYMENT_EVENT_SOURCE = 'payments';

/**
 * Lambda timeout of the notification processor (`kbank-notifications` in functions/catalog.ts): the queue's
 * visibility timeout is derived from it.
 */
export const NOTIFICATION_PROCESSOR_TIMEOUT = Duration.seconds(CATALOG['kbank-notifications'].timeoutSeconds);

/**
 * Six times the processor's timeout, as AWS advises for Lambda event sources (the poller may retry a
 * throttled invoke within that time). It is also the delay before a failed callback is tried again (the
 * processor reports failures per item), so it is kept short: five receives take ~15 minutes.
 */
export const NOTIFICATION_VISIBILITY_TIMEOUT = Duration.seconds(
  6 * NOTIFICATION_PROCESSOR_TIMEOUT.toSeconds(),
);

/** The oldest notification waiting longer than this raises NotificationQueueAgeAlarm. */
export const NOTIFICATION_MAX_AGE = Duration.minutes(5);

export interface StatefulStackProps extends StackProps {
  /** Short stage name (`dev`, `staging`, `prod`), part of resource names. */
  stage: string;
  /** Production: table deletion protection and RETAIN on everything that holds data. Default: stage === 'prod'. */
  prod?: boolean;
  /** Default `payments-<stage>`. Handlers read it from EVENT_BUS_NAME. */
  eventBusName?: string;
  /** Subscribed to the alarm topic when set. */
  alarmEmail?: string;
}

export class StatefulStack extends Stack {
  /** The customer-managed key: table, secrets, queues, alarm topic and every log group. */
  readonly key: kms.Key;
  readonly table: dynamodb.Table;
  readonly eventBus: events.EventBus;
  /** Finance consumers read payment events from here. */
  readonly financeQueue: QueueWithDlq;
  /** Events EventBridge could not deliver to the finance queue. */
  readonly financeDeliveryDlq: sqs.Queue;
  /**
   * KBank callbacks (notify webhook, 3-D Secure return) accepted by the API, consumed by the
   * `kbank-notifications` processor; its DLQ holds callbacks that failed five times.
   */
  readonly notificationQueue: QueueWithDlq;
  /**
   * Settlements: the money events (`settlements-consumer`'s eventTypes in functions/catalog.ts) from the bus,
   * consumed by `settlements-consumer`; its DLQ holds events that failed five times, the delivery DLQ those
   * EventBridge could not put on the queue.
   */
  readonly settlementQueue: QueueWithDlq;
  readonly settlementDeliveryDlq: sqs.Queue;
  /**
   * Merchant webhooks: the payment and refund events (`webhooks-fanout`'s eventTypes in functions/catalog.ts)
   * from the bus, consumed by `webhooks-fanout`; the delivery DLQ holds those EventBridge could not put on it.
   */
  readonly webhookEventQueue: QueueWithDlq;
  readonly webhookEventDeliveryDlq: sqs.Queue;
  /**
   * One message per webhook delivery attempt, consumed by `webhooks-deliver` (retries are delayed messages);
   * its DLQ holds the deliveries whose retry schedule is spent (put there by the consumer) and any message
   * the consumer failed five times.
   */
  readonly webhookDeliveryQueue: QueueWithDlq;
  /** SecretString = the bare KBank secret key (`skey_…`). */
  readonly kbankSecret: secretsmanager.Secret;
  /** SecretString = the bare cost service API key. */
  readonly costServiceApiKeySecret: secretsmanager.Secret;
  readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const prod = props.prod ?? props.stage === 'prod';
    const dataRemovalPolicy = prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.key = new kms.Key(this, 'Key', {
      alias: `alias/payments-${props.stage}`,
      description: `Payments (${props.stage}): table, secrets, queues, alarm topic and log groups`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(prod ? 30 : 7),
      removalPolicy: dataRemovalPolicy,
    });
    this.allowServiceUse();

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_DESIGN.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_DESIGN.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TABLE_DESIGN.ttlAttribute,
      // For future consumers (reconciliation, analytics) without touching the write path.
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      deletionProtection: prod,
      removalPolicy: dataRemovalPolicy,
    });
    for (const index of TABLE_DESIGN.globalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    this.eventBus = new events.EventBus(this, 'EventBus', {
      eventBusName: props.eventBusName ?? `payments-${props.stage}`,
      description: 'Payment lifecycle events (payment.authorized, payment.captured, …)',
    });
    // Replays for consumers that lost events or were added later.
    this.eventBus.archive('Archive', {
      description: 'Payment events, replayable for 30 days',
      eventPattern: { source: [PAYMENT_EVENT_SOURCE] },
      retention: Duration.days(30),
    });

    this.financeQueue = new QueueWithDlq(this, 'FinanceQueue', {
      encryptionKey: this.key,
      visibilityTimeout: Duration.minutes(2),
      retentionPeriod: Duration.days(14),
      removalPolicy: dataRemovalPolicy,
    });
    this.financeDeliveryDlq = createDeadLetterQueue(this, 'FinanceDeliveryDlq', {
      encryptionKey: this.key,
      removalPolicy: dataRemovalPolicy,
    });
    new events.Rule(this, 'FinanceRule', {
      eventBus: this.eventBus,
      description: 'Every payment event to the finance consumers',
      eventPattern: { source: [PAYMENT_EVENT_SOURCE] },
      targets: [
        new targets.SqsQueue(this.financeQueue.queue, {
          deadLetterQueue: this.financeDeliveryDlq,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });

    // A callback accepted here is the only trace of a customer's payment until the processor has asked
    // KBank: retention 14 days (SQS's maximum) so that an outage of the processor loses nothing.
    this.notificationQueue = new QueueWithDlq(this, 'NotificationQueue', {
      encryptionKey: this.key,
      maxReceiveCount: 5,
      visibilityTimeout: NOTIFICATION_VISIBILITY_TIMEOUT,
      retentionPeriod: Duration.days(14),
      removalPolicy: dataRemovalPolicy,
    });

    // Settlements: a rule of their own (only the money events), so the consumer's queue carries nothing else.
    const settlementConsumer = CATALOG['settlements-consumer'];
    this.settlementQueue = new QueueWithDlq(this, 'SettlementQueue', {
      encryptionKey: this.key,
      maxReceiveCount: 5,
      visibilityTimeout: Duration.seconds(6 * settlementConsumer.timeoutSeconds),
      retentionPeriod: Duration.days(14),
      removalPolicy: dataRemovalPolicy,
    });
    this.settlementDeliveryDlq = createDeadLetterQueue(this, 'SettlementDeliveryDlq', {
      encryptionKey: this.key,
      removalPolicy: dataRemovalPolicy,
    });
    new events.Rule(this, 'SettlementRule', {
      eventBus: this.eventBus,
      description: 'Money events (captures, refunds) to the settlements consumer',
      eventPattern: { source: [PAYMENT_EVENT_SOURCE], detailType: [...settlementConsumer.eventTypes] },
      targets: [
        new targets.SqsQueue(this.settlementQueue.queue, {
          deadLetterQueue: this.settlementDeliveryDlq,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });

    // Merchant webhooks: a rule of their own (the payment and refund events merchants may subscribe to).
    const webhookConsumer = CATALOG['webhooks-fanout'];
    this.webhookEventQueue = new QueueWithDlq(this, 'WebhookEventQueue', {
      encryptionKey: this.key,
      maxReceiveCount: 5,
      visibilityTimeout: Duration.seconds(6 * webhookConsumer.timeoutSeconds),
      retentionPeriod: Duration.days(14),
      removalPolicy: dataRemovalPolicy,
    });
    this.webhookEventDeliveryDlq = createDeadLetterQueue(this, 'WebhookEventDeliveryDlq', {
      encryptionKey: this.key,
      removalPolicy: dataRemovalPolicy,
    });
    new events.Rule(this, 'WebhookRule', {
      eventBus: this.eventBus,
      description: 'Payment and refund events to the merchant webhook consumer',
      eventPattern: { source: [PAYMENT_EVENT_SOURCE], detailType: [...webhookConsumer.eventTypes] },
      targets: [
        new targets.SqsQueue(this.webhookEventQueue.queue, {
          deadLetterQueue: this.webhookEventDeliveryDlq,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });
    // Retention 14 days: a retry waits at most 30 hours (and hops every 15 minutes), the DLQ keeps 14 days.
    this.webhookDeliveryQueue = new QueueWithDlq(this, 'WebhookDeliveryQueue', {
      encryptionKey: this.key,
      maxReceiveCount: 5,
      visibilityTimeout: Duration.seconds(6 * CATALOG['webhooks-deliver'].timeoutSeconds),
      retentionPeriod: Duration.days(14),
      removalPolicy: dataRemovalPolicy,
    });

    this.kbankSecret = new secretsmanager.Secret(this, 'KbankSecretKey', {
      secretName: `payments/${props.stage}/kbank-secret-key`,
      description:
        'KBank KPGW secret key (skey_…), the bare key as SecretString. Generated placeholder: operators set the real value.',
      encryptionKey: this.key,
      generateSecretString: { passwordLength: 40, excludePunctuation: true },
      removalPolicy: dataRemovalPolicy,
    });
    this.costServiceApiKeySecret = new secretsmanager.Secret(this, 'CostServiceApiKey', {
      secretName: `payments/${props.stage}/cost-service-api-key`,
      description:
        'API key for the merchant cost calculation endpoint, the bare key as SecretString. Generated placeholder: operators set the real value.',
      encryptionKey: this.key,
      generateSecretString: { passwordLength: 40, excludePunctuation: true },
      removalPolicy: dataRemovalPolicy,
    });
    for (const secret of [this.kbankSecret, this.costServiceApiKeySecret]) {
      Validations.of(secret).acknowledge(
        {
          id: 'AwsSolutions-SMG4',
          reason:
            'The key is issued by a third party (KBank / the merchant) and rotated in their portal; operators then put the new value. No Lambda can rotate it.',
        },
        {
          id: 'PCI.DSS.321-SecretsManagerRotationEnabled',
          reason:
            'Third-party issued key, rotated by operators in the issuer portal (see docs/deployment.md).',
        },
      );
    }

    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `Payments ${props.stage} alarms`,
      masterKey: this.key,
      enforceSSL: true,
    });
    if (props.alarmEmail)
      this.alarmTopic.addSubscription(new snsSubscriptions.EmailSubscription(props.alarmEmail));

    const dlqs = {
      FinanceDlq: this.financeQueue.deadLetterQueue,
      FinanceDeliveryDlq: this.financeDeliveryDlq,
      NotificationDlq: this.notificationQueue.deadLetterQueue,
      SettlementDlq: this.settlementQueue.deadLetterQueue,
      SettlementDeliveryDlq: this.settlementDeliveryDlq,
      WebhookEventDlq: this.webhookEventQueue.deadLetterQueue,
      WebhookEventDeliveryDlq: this.webhookEventDeliveryDlq,
      WebhookDeliveryDlq: this.webhookDeliveryQueue.deadLetterQueue,
    };
    for (const [name, queue] of Object.entries(dlqs)) {
      const alarm = new cloudwatch.Alarm(this, `${name}DepthAlarm`, {
        alarmDescription: `${name}: messages are waiting in a dead-letter queue (runbook: docs/deployment.md)`,
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: 'Maximum',
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
      alarm.addOkAction(new cwActions.SnsAction(this.alarmTopic));
    }
    // The processor is down, failing every message, or not keeping up: callbacks wait and sagas stay parked.
    const ageAlarm = new cloudwatch.Alarm(this, 'NotificationQueueAgeAlarm', {
      alarmDescription: `NotificationQueue: a KBank callback has waited more than ${NOTIFICATION_MAX_AGE.toSeconds()} s (runbook: docs/runbook.md)`,
      metric: this.notificationQueue.queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: NOTIFICATION_MAX_AGE.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    ageAlarm.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
    ageAlarm.addOkAction(new cwActions.SnsAction(this.alarmTopic));

    // The webhook consumer is down or failing: merchants' deliveries wait.
    const webhookAgeAlarm = new cloudwatch.Alarm(this, 'WebhookEventQueueAgeAlarm', {
      alarmDescription: `WebhookEventQueue: an event has waited more than ${NOTIFICATION_MAX_AGE.toSeconds()} s for its webhook fan-out (runbook: docs/runbook.md)`,
      metric: this.webhookEventQueue.queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: NOTIFICATION_MAX_AGE.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    webhookAgeAlarm.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
    webhookAgeAlarm.addOkAction(new cwActions.SnsAction(this.alarmTopic));

    Validations.of(this.table).acknowledge({
      id: 'PCI.DSS.321-DynamoDBInBackupPlan',
      reason: 'Point-in-time recovery (35 days) is on; an AWS Backup plan is an account-level decision.',
    });

    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'EventBusName', { value: this.eventBus.eventBusName });
    new CfnOutput(this, 'FinanceQueueUrl', { value: this.financeQueue.queue.queueUrl });
    new CfnOutput(this, 'NotificationQueueUrl', { value: this.notificationQueue.queue.queueUrl });
    new CfnOutput(this, 'WebhookDeliveryDlqUrl', {
      value: this.webhookDeliveryQueue.deadLetterQueue.queueUrl,
    });
    new CfnOutput(this, 'SettlementDlqUrl', { value: this.settlementQueue.deadLetterQueue.queueUrl });
    // The redrive source (aws sqs start-message-move-task --source-arn …, docs/runbook.md).
    new CfnOutput(this, 'NotificationDlqArn', { value: this.notificationQueue.deadLetterQueue.queueArn });
    new CfnOutput(this, 'NotificationDlqUrl', { value: this.notificationQueue.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'KbankSecretName', { value: `payments/${props.stage}/kbank-secret-key` });
    new CfnOutput(this, 'CostServiceApiKeySecretName', {
      value: `payments/${props.stage}/cost-service-api-key`,
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
  }

  /**
   * Key policy for the AWS services that encrypt with this key on our behalf: CloudWatch Logs (log groups
   * of this account only) and CloudWatch alarms publishing to the encrypted topic. EventBridge's access for
   * the finance queue is added by the queue target's grant.
   */
  private allowServiceUse(): void {
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogs',
        principals: [new iam.ServicePrincipal(`logs.${this.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': this.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsToEncryptedTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
  }
}
