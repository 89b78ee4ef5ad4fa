/**
 * SQS: the webhook delivery queue. A retry is a new message delayed by its backoff (at most SQS's 15
 * minutes per message; the consumer puts back one received before its `due_at`); a delivery whose schedule
 * is spent goes to the queue's dead-letter queue, where operators look (alarmed).
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { WebhookDeliveryMessage } from '../../schemas/webhooks.js';
import type { WebhookQueue } from '../core/webhooks/endpoints.js';

const MAX_DELAY_SECONDS = 900;

export class SqsWebhookQueue implements WebhookQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly deadLetterQueueUrl: string | undefined,
  ) {}

  async send(message: WebhookDeliveryMessage, delayMs: number): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(message),
        DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(delayMs / 1000))),
      }),
    );
  }

  async deadLetter(message: WebhookDeliveryMessage, reason: string): Promise<void> {
    if (!this.deadLetterQueueUrl) throw new Error('WEBHOOK_DEAD_LETTER_QUEUE_URL is not set');
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.deadLetterQueueUrl,
        MessageBody: JSON.stringify({ ...message, reason }),
      }),
    );
  }
}
