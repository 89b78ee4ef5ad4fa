/**
 * Use case of the delivery consumer: one attempt of one delivery. The body is signed anew (Standard
 * Webhooks, every secret that signs at that moment) and POSTed; the attempt is recorded (exactly once per
 * scheduled attempt number, whatever SQS redelivers), the endpoint's health updated (disabled past
 * DISABLE_AFTER), and a failure queued again after its backoff, or, once the schedule is spent, moved to
 * the dead letters with a `webhook.delivery_failed` notice.
 */
import type { WebhookDeliveryMessage, WebhookNoticeDetail } from '../../../../schemas/webhooks.js';
import type { Clock, EventPublisher } from '../../ports.js';
import {
  afterAttempt,
  DELIVERY_TIMEOUT_MS,
  DISABLE_AFTER,
  delivered,
  RETRY_SCHEDULE_SECONDS,
  retryDelayMs,
} from '../../webhooks/delivery.js';
import {
  signingSecretsAt,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookQueue,
  type WebhookSecrets,
  type WebhookSender,
  type WebhookStore,
} from '../../webhooks/endpoints.js';
import { signatureHeaders } from '../../webhooks/signature.js';

export interface DeliverDeps {
  webhooks: WebhookStore;
  secrets: Pick<WebhookSecrets, 'get'>;
  queue: WebhookQueue;
  sender: WebhookSender;
  events: EventPublisher;
  clock: Clock;
  random: () => number;
  /** Default RETRY_SCHEDULE_SECONDS. */
  retryScheduleSeconds?: readonly number[];
  /** Multiplies every delay of the schedule (1 on AWS; the local stack's tests shrink it). */
  retryScale?: number;
  /** The longest delay one queue message can carry (SQS: 900 s); a longer wait is made of several. */
  maxQueueDelayMs?: number;
  timeoutMs?: number;
}

export type DeliverOutcome =
  | { outcome: 'not_due'; waitMs: number }
  | { outcome: 'stale' }
  | { outcome: 'gone'; reason: string }
  | { outcome: 'delivered'; attempt: WebhookAttempt }
  | { outcome: 'retrying'; attempt: WebhookAttempt; nextAttemptAt: string }
  | { outcome: 'failed'; attempt: WebhookAttempt | null; reason: string }
  | { outcome: 'resent'; attempt: WebhookAttempt };

const SQS_MAX_DELAY_MS = 900_000;

export async function deliver(deps: DeliverDeps, message: WebhookDeliveryMessage): Promise<DeliverOutcome> {
  const now = deps.clock.now();
  const maxDelay = deps.maxQueueDelayMs ?? SQS_MAX_DELAY_MS;
  const waitMs = Date.parse(message.due_at) - now.getTime();
  if (waitMs > 0) {
    // Received before its time (a delay longer than one message may carry): back for the time left.
    await deps.queue.send(message, Math.min(waitMs, maxDelay));
    return { outcome: 'not_due', waitMs };
  }
  const delivery = await deps.webhooks.getDelivery(message.endpoint_id, message.delivery_id);
  if (!delivery) return { outcome: 'gone', reason: 'no such delivery' };
  const manual = message.manual === true;
  const attemptNo = manual ? delivery.attempts.length + 1 : (message.attempt ?? 1);
  if (!manual && (delivery.status !== 'pending' || delivery.scheduledAttempts !== attemptNo - 1)) {
    return { outcome: 'stale' };
  }
  const endpoint = await deps.webhooks.getEndpoint(message.merchant_id, message.endpoint_id);
  if (!endpoint || endpoint.status === 'disabled') {
    const reason = endpoint ? 'endpoint_disabled' : 'endpoint_deleted';
    if (!manual) await giveUp(deps, delivery, endpoint, message, null, reason);
    return { outcome: 'failed', attempt: null, reason };
  }
  const secrets = await deps.secrets.get(endpoint.id);
  if (!secrets) return { outcome: 'gone', reason: 'the endpoint has no secret (deleted meanwhile)' };

  const headers = {
    'content-type': 'application/json',
    'user-agent': 'payments-webhooks/1',
    ...signatureHeaders(signingSecretsAt(secrets, now), {
      id: delivery.eventId,
      timestamp: Math.floor(now.getTime() / 1000),
      body: delivery.body,
    }),
  };
  const result = await deps.sender.post(
    endpoint.url,
    delivery.body,
    headers,
    Math.min(deps.timeoutMs ?? DELIVERY_TIMEOUT_MS, DELIVERY_TIMEOUT_MS),
  );
  const ok = delivered(result.statusCode);
  const attempt: WebhookAttempt = {
    attempt: attemptNo,
    at: now.toISOString(),
    manual,
    statusCode: result.statusCode,
    latencyMs: result.latencyMs,
    responseExcerpt: result.responseExcerpt,
    error: result.error,
  };
  const finishedAt = deps.clock.now();
  const delayMs = ok || manual ? null : nextDelay(deps, attemptNo);
  const nextAttemptAt = delayMs === null ? null : new Date(finishedAt.getTime() + delayMs).toISOString();
  const status = ok ? 'delivered' : manual ? delivery.status : nextAttemptAt ? 'pending' : 'failed';
  const recorded = await deps.webhooks.recordAttempt(delivery, attempt, {
    status,
    nextAttemptAt: manual ? delivery.nextAttemptAt : nextAttemptAt,
    ...(ok ? { deliveredAt: finishedAt.toISOString() } : {}),
    ...(status === 'failed' && !manual ? { failedAt: finishedAt.toISOString() } : {}),
  });
  // Another receive of the same message made this attempt first: its record stands, this one is dropped.
  if (!recorded) return { outcome: 'stale' };
  await updateHealth(deps, endpoint, ok, finishedAt);

  if (manual) return { outcome: 'resent', attempt };
  if (ok) return { outcome: 'delivered', attempt };
  if (nextAttemptAt && delayMs !== null) {
    await deps.queue.send(
      { ...message, attempt: attemptNo + 1, due_at: nextAttemptAt },
      Math.min(delayMs, maxDelay),
    );
    return { outcome: 'retrying', attempt, nextAttemptAt };
  }
  await notify(deps, failedNotice(delivery, attempt, finishedAt));
  await deps.queue.deadLetter(message, 'retry schedule spent');
  return { outcome: 'failed', attempt, reason: 'retry schedule spent' };
}

function nextDelay(deps: DeliverDeps, attemptNo: number): number | null {
  return retryDelayMs(
    attemptNo,
    deps.random,
    deps.retryScheduleSeconds ?? RETRY_SCHEDULE_SECONDS,
    deps.retryScale ?? 1,
  );
}

/** A delivery that cannot be made any more (its endpoint deleted or disabled): failed, dead-lettered. */
async function giveUp(
  deps: DeliverDeps,
  delivery: WebhookDelivery,
  endpoint: WebhookEndpoint | null,
  message: WebhookDeliveryMessage,
  attempt: WebhookAttempt | null,
  reason: string,
): Promise<void> {
  const now = deps.clock.now();
  const marked = await deps.webhooks.recordAttempt(
    delivery,
    attempt ?? {
      attempt: delivery.scheduledAttempts + 1,
      at: now.toISOString(),
      manual: false,
      statusCode: null,
      latencyMs: 0,
      responseExcerpt: null,
      error: reason,
    },
    { status: 'failed', nextAttemptAt: null, failedAt: now.toISOString() },
  );
  if (!marked) return;
  if (endpoint) await notify(deps, { ...failedNotice(delivery, null, now), reason });
  await deps.queue.deadLetter(message, reason);
}

async function updateHealth(deps: DeliverDeps, endpoint: WebhookEndpoint, ok: boolean, now: Date) {
  const health = afterAttempt(endpoint.health, ok, now);
  const unchanged = ok && endpoint.health.consecutiveFailures === 0 && endpoint.health.failingSince === null;
  if (unchanged) return;
  const reason = `failed every attempt for ${DISABLE_AFTER.failingForMs / 86_400_000} days (${health.consecutiveFailures} in a row)`;
  await deps.webhooks.updateHealth(
    endpoint,
    { consecutiveFailures: health.consecutiveFailures, failingSince: health.failingSince },
    health.disable ? { reason, at: now.toISOString() } : null,
  );
  if (health.disable) {
    await notify(deps, {
      version: '1',
      event_id: `evt_${endpoint.id}_disabled_${now.getTime()}`,
      type: 'webhook_endpoint.disabled',
      occurred_at: now.toISOString(),
      merchant_id: endpoint.merchantId,
      endpoint_id: endpoint.id,
      reason,
    });
  }
}

function failedNotice(
  delivery: WebhookDelivery,
  attempt: WebhookAttempt | null,
  now: Date,
): WebhookNoticeDetail {
  return {
    version: '1',
    event_id: `evt_${delivery.id}_failed`,
    type: 'webhook.delivery_failed',
    occurred_at: now.toISOString(),
    merchant_id: delivery.merchantId,
    endpoint_id: delivery.endpointId,
    delivery_id: delivery.id,
    webhook_event_id: delivery.eventId,
    attempts: delivery.attempts.length + (attempt ? 1 : 0),
    last_status_code: attempt?.statusCode ?? null,
  };
}

async function notify(deps: DeliverDeps, notice: WebhookNoticeDetail): Promise<void> {
  await deps.events.publish([{ type: notice.type, detail: notice as unknown as Record<string, unknown> }]);
}
