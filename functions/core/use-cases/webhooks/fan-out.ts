/**
 * Use case of the webhook consumer of the bus: one payment, refund or points event becomes one delivery per
 * endpoint of its merchant that subscribes to its type, each queued for its first attempt. Idempotent per
 * (endpoint, event id): the same event again creates nothing, and only re-queues a delivery whose first
 * attempt was never made (the consumer died between the two writes).
 */
import type { Clock } from '../../ports.js';
import type { PaymentRepository } from '../../repository.js';
import { subscribes } from '../../webhooks/delivery.js';
import {
  type BusEvent,
  deliveryBodyOf,
  paymentIdOf,
  type WebhookDelivery,
  type WebhookQueue,
  type WebhookStore,
  webhookTypeOf,
} from '../../webhooks/endpoints.js';

export interface FanOutDeps {
  webhooks: WebhookStore;
  queue: WebhookQueue;
  /** The payment an event names: its merchant (events carry the API's view, which has no merchant). */
  payments: Pick<PaymentRepository, 'get'>;
  clock: Clock;
  newDeliveryId: () => string;
}

/**
 * A duplicate event re-queues a delivery whose first attempt is not made yet only once it is this old: a
 * fan-out that died between its two writes, not one whose message is simply still on its way.
 */
export const REQUEUE_AFTER_MS = 60_000;

export interface FanOutReport {
  eventId: string;
  type: string;
  created: string[];
  duplicates: number;
}

export async function fanOut(deps: FanOutDeps, event: BusEvent): Promise<FanOutReport> {
  const type = webhookTypeOf(event.busType);
  const report: FanOutReport = { eventId: event.detail.event_id, type, created: [], duplicates: 0 };
  const merchantId = await merchantOf(deps, event);
  const endpoints = (await deps.webhooks.listEndpoints(merchantId)).filter(
    (endpoint) => endpoint.status === 'enabled' && subscribes(endpoint.events, type),
  );
  const body = deliveryBodyOf(event);
  for (const endpoint of endpoints) {
    const now = deps.clock.now().toISOString();
    const delivery: WebhookDelivery = {
      id: deps.newDeliveryId(),
      endpointId: endpoint.id,
      merchantId,
      eventId: event.detail.event_id,
      eventType: type,
      body,
      status: 'pending',
      scheduledAttempts: 0,
      attempts: [],
      nextAttemptAt: now,
      createdAt: now,
      deliveredAt: null,
      failedAt: null,
    };
    const created = await deps.webhooks.createDelivery(delivery);
    const queued = created.delivery;
    if (created.outcome === 'duplicate') report.duplicates += 1;
    else report.created.push(delivery.id);
    // A duplicate whose first attempt is still to be made long after its creation may never have been
    // queued: queue it (again; the attempt is recorded once whatever happens).
    if (queued?.status !== 'pending' || queued.scheduledAttempts > 0) continue;
    const fresh = Date.parse(now) - Date.parse(queued.createdAt) < REQUEUE_AFTER_MS;
    if (created.outcome === 'duplicate' && fresh) continue;
    await deps.queue.send(
      {
        delivery_id: queued.id,
        endpoint_id: queued.endpointId,
        merchant_id: queued.merchantId,
        attempt: 1,
        due_at: now,
      },
      0,
    );
  }
  return report;
}

/** Whose event it is: a points event names its merchant; a payment or refund event, its payment. */
async function merchantOf(deps: FanOutDeps, event: BusEvent): Promise<string> {
  if (event.kind === 'points') return event.detail.merchant_id;
  const paymentId = paymentIdOf(event) ?? '';
  const payment = await deps.payments.get(paymentId);
  // Events are published after the payment is written: a missing payment is a fault, retried then DLQ'd.
  if (!payment)
    throw new Error(`webhooks: event ${event.detail.event_id} names no stored payment ${paymentId}`);
  return payment.merchantId;
}
