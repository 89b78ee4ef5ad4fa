/** SQS: the durable notification queue the KBank callback endpoints write to (standard queue, JSON bodies). */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { KbankCallback } from '../../schemas/callbacks.js';
import type { NotificationQueue } from '../core/ports.js';

export class SqsNotificationQueue implements NotificationQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  /**
   * Resolves once SQS has stored the message (SendMessage answered), so the endpoint's 2xx never precedes
   * it. No group id or deduplication id: a standard queue, and the processor treats repeats as duplicates.
   * Any failure is passed on: the endpoint then answers 5xx and KBank sends the notify again.
   */
  async send(message: KbankCallback): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(message) }),
    );
  }
}
