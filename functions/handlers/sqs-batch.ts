/** What every SQS consumer does with a batch: each record on its own, in parallel, failures reported per item. */
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { logger } from './logger.js';

/**
 * Runs `handle` for every record at once (one slow record must not hold up, or time out, the rest) and
 * answers the records that threw, logged with `retryMessage`, so that only those come back.
 */
export async function eachRecord(
  records: SQSRecord[],
  handle: (record: SQSRecord) => Promise<unknown>,
  retryMessage: string,
): Promise<SQSBatchResponse> {
  const settled = await Promise.allSettled(records.map(handle));
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  settled.forEach((outcome, index) => {
    const record = records[index];
    if (outcome.status === 'fulfilled' || !record) return;
    logger.warn(retryMessage, {
      messageId: record.messageId,
      receiveCount: record.attributes.ApproximateReceiveCount,
      error: outcome.reason as Error,
    });
    failures.push({ itemIdentifier: record.messageId });
  });
  return { batchItemFailures: failures };
}
