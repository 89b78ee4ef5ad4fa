/**
 * The local stack's webhook edges: the signing secret store (in this process's memory, or with `statePath`
 * a 0600 JSON file in the stack's state folder; Secrets Manager on AWS) and the delivery queue (the local
 * queue with SQS's DelaySeconds added by a timer, and a dead-letter list; SQS on AWS).
 */

import type { StoredSecrets, WebhookQueue, WebhookSecrets } from '../functions/core/webhooks/endpoints.js';
import type { WebhookDeliveryMessage } from '../schemas/webhooks.js';
import type { LocalQueue } from './queue.js';
import { readStateFile, writeStateFile } from './state-file.js';

export function createLocalWebhookSecrets(statePath?: string): WebhookSecrets {
  const stored = new Map<string, StoredSecrets>(
    Object.entries(
      (statePath ? (readStateFile(statePath) as Record<string, StoredSecrets> | undefined) : undefined) ?? {},
    ),
  );
  const save = () => {
    if (statePath) writeStateFile(statePath, Object.fromEntries(stored));
  };
  return {
    async put(endpointId, secrets) {
      stored.set(endpointId, { ...secrets });
      save();
    },
    async get(endpointId) {
      const secrets = stored.get(endpointId);
      return secrets ? { ...secrets } : null;
    },
    async delete(endpointId) {
      stored.delete(endpointId);
      save();
    },
  };
}

export interface LocalWebhookQueue extends WebhookQueue {
  /** The messages whose schedule was spent (the DLQ), with why. */
  deadLetters(): (WebhookDeliveryMessage & { reason: string })[];
  /** Resolves when no message is delayed, queued or being delivered. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** `queue` consumes; a delayed send waits on a timer first (not durable: a restart forgets it). */
export function createLocalWebhookQueue(queue: LocalQueue<WebhookDeliveryMessage>): LocalWebhookQueue {
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const dead: (WebhookDeliveryMessage & { reason: string })[] = [];
  let waiters: (() => void)[] = [];
  /** Closed: the stack is stopping. A retry scheduled now is dropped, like any delayed one on a restart. */
  let closed = false;
  const settle = () => {
    if (timers.size > 0) return;
    const pending = waiters;
    waiters = [];
    for (const resolve of pending) resolve();
  };
  return {
    async send(message, delayMs) {
      if (delayMs <= 0) return queue.send(message);
      if (closed) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        queue
          .send(message)
          .catch((error: unknown) =>
            console.error(
              JSON.stringify({ level: 'ERROR', message: 'webhook retry lost', error: String(error) }),
            ),
          )
          .finally(settle);
      }, delayMs);
      timers.add(timer);
    },
    async deadLetter(message, reason) {
      dead.push({ ...message, reason });
    },
    deadLetters: () => dead.map((message) => ({ ...message })),
    async idle() {
      for (;;) {
        await queue.idle();
        if (timers.size === 0) {
          await queue.idle();
          if (timers.size === 0) return;
        }
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    async close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      settle();
    },
  };
}
