/** House SQS constructs: KMS-encrypted, TLS-only queues, and a work queue that redrives to its own dead-letter queue. */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface DeadLetterQueueProps {
  encryptionKey: kms.IKey;
  /** Default 14 days, SQS's maximum: the time operators have to look at a failure. */
  retentionPeriod?: Duration;
  removalPolicy?: RemovalPolicy;
}

/**
 * A queue whose only job is to hold what failed. cdk-nag's SQS3 cannot tell a DLQ that is not a redrive
 * target (e.g. an EventBridge target's DLQ) from a queue missing its DLQ, hence the suppression.
 */
export function createDeadLetterQueue(scope: Construct, id: string, props: DeadLetterQueueProps): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: props.encryptionKey,
    dataKeyReuse: Duration.minutes(5),
    enforceSSL: true,
    retentionPeriod: props.retentionPeriod ?? Duration.days(14),
    removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'This queue is itself a dead-letter queue.',
  });
  return queue;
}

export interface QueueWithDlqProps {
  /** Encrypts both queues. Producers need GenerateDataKey/Decrypt on it (queue grants add that). */
  encryptionKey: kms.IKey;
  /** Default 5 receives before a message moves to the DLQ: rides out transient consumer errors. */
  maxReceiveCount?: number;
  /** Default 60 s; must exceed the consumer's processing time for one batch. */
  visibilityTimeout?: Duration;
  /** Default 4 days (SQS's default). The DLQ keeps messages 14 days. */
  retentionPeriod?: Duration;
  /** Default DESTROY; production passes RETAIN. */
  removalPolicy?: RemovalPolicy;
}

export class QueueWithDlq extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: QueueWithDlqProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    this.deadLetterQueue = createDeadLetterQueue(this, 'Dlq', {
      encryptionKey: props.encryptionKey,
      removalPolicy,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      dataKeyReuse: Duration.minutes(5),
      enforceSSL: true,
      visibilityTimeout: props.visibilityTimeout ?? Duration.seconds(60),
      retentionPeriod: props.retentionPeriod ?? Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
      removalPolicy,
    });
  }
}
