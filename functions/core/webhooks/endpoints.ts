/**
 * Merchant webhook endpoints and deliveries: the records, the ports that keep them (the table, the signing
 * secrets, the delivery queue, the HTTP sender), how a bus event becomes a delivery body, and the API's
 * views. Pure: no AWS SDK, no I/O.
 */
import type { PaymentResource, RefundResource } from '../../../schemas/api.js';
import type { PointsEventDetail } from '../../../schemas/events.js';
import type {
  WebhookDeliveryMessage,
  WebhookDeliveryResource,
  WebhookEndpointResource,
  WebhookEventType,
} from '../../../schemas/webhooks.js';
import { NotFoundError } from '../errors.js';
import type { EndpointHealth } from './delivery.js';

export type WebhookEndpointStatus = 'enabled' | 'disabled';

export interface WebhookEndpoint {
  id: string;
  merchantId: string;
  url: string;
  events: string[];
  description: string | null;
  status: WebhookEndpointStatus;
  disabledReason: string | null;
  health: EndpointHealth;
  secretRotatedAt: string | null;
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookAttempt {
  attempt: number;
  at: string;
  manual: boolean;
  statusCode: number | null;
  latencyMs: number;
  responseExcerpt: string | null;
  error: string | null;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDelivery {
  id: string;
  endpointId: string;
  merchantId: string;
  eventId: string;
  eventType: string;
  /** The exact bytes every attempt sends (signed anew each time, with that attempt's timestamp). */
  body: string;
  status: WebhookDeliveryStatus;
  /** Attempts of the schedule made so far (manual resends not counted): the next one is this + 1. */
  scheduledAttempts: number;
  attempts: WebhookAttempt[];
  nextAttemptAt: string | null;
  createdAt: string;
  deliveredAt: string | null;
  failedAt: string | null;
}

/** Where a page of deliveries continues (deliveries sort by id, newest first). */
export interface DeliveryPosition {
  deliveryId: string;
}

export type NewDeliveryOutcome =
  | { outcome: 'created'; delivery: WebhookDelivery }
  | { outcome: 'duplicate'; delivery: WebhookDelivery | null };

/** The table's side of webhooks: endpoints per merchant, deliveries per endpoint. */
export interface WebhookStore {
  putEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  getEndpoint(merchantId: string, endpointId: string): Promise<WebhookEndpoint | null>;
  listEndpoints(merchantId: string): Promise<WebhookEndpoint[]>;
  /** False when there was none. */
  deleteEndpoint(merchantId: string, endpointId: string): Promise<boolean>;
  /** Records a rotation's dates; null when the endpoint is gone. */
  markRotated(
    merchantId: string,
    endpointId: string,
    at: string,
    previousExpiresAt: string,
  ): Promise<WebhookEndpoint | null>;
  /** Its health after an attempt, and `disabled` with the reason when the threshold was crossed. */
  updateHealth(
    endpoint: Pick<WebhookEndpoint, 'merchantId' | 'id'>,
    health: EndpointHealth,
    disable: { reason: string; at: string } | null,
  ): Promise<void>;
  /** One delivery per (endpoint, event): a second creation for the same event is a duplicate. */
  createDelivery(delivery: WebhookDelivery): Promise<NewDeliveryOutcome>;
  getDelivery(endpointId: string, deliveryId: string): Promise<WebhookDelivery | null>;
  /**
   * Appends an attempt. A scheduled attempt is recorded only if it is the next one (`scheduledAttempts`
   * is `attempt.attempt - 1` and the delivery is pending): false when another receive already made it.
   */
  recordAttempt(
    delivery: Pick<WebhookDelivery, 'endpointId' | 'id'>,
    attempt: WebhookAttempt,
    after: {
      status: WebhookDeliveryStatus;
      nextAttemptAt: string | null;
      deliveredAt?: string;
      failedAt?: string;
    },
  ): Promise<boolean>;
  listDeliveries(
    endpointId: string,
    page: { limit: number; after?: DeliveryPosition },
  ): Promise<{ deliveries: WebhookDelivery[]; next: DeliveryPosition | null }>;
}

/** The signing secrets of one endpoint, kept apart from the table (Secrets Manager on AWS). */
export interface StoredSecrets {
  current: string;
  previous?: string;
  /** Until when `previous` still signs (ISO). */
  previousExpiresAt?: string;
}

export interface WebhookSecrets {
  put(endpointId: string, secrets: StoredSecrets): Promise<void>;
  get(endpointId: string): Promise<StoredSecrets | null>;
  delete(endpointId: string): Promise<void>;
}

/** After a rotation both secrets sign for this long, so a receiver can switch without losing a delivery. */
export const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;

/** The secrets that sign at `now`: the current one first, the previous one while the overlap lasts. */
export function signingSecretsAt(secrets: StoredSecrets, now: Date): string[] {
  const previousSigns =
    secrets.previous !== undefined &&
    secrets.previousExpiresAt !== undefined &&
    Date.parse(secrets.previousExpiresAt) > now.getTime();
  return previousSigns && secrets.previous ? [secrets.current, secrets.previous] : [secrets.current];
}

/** The delivery queue: a message now, later (its due time is in the message), or to the dead letters. */
export interface WebhookQueue {
  send(message: WebhookDeliveryMessage, delayMs: number): Promise<void>;
  deadLetter(message: WebhookDeliveryMessage, reason: string): Promise<void>;
}

export interface SendResult {
  statusCode: number | null;
  latencyMs: number;
  responseExcerpt: string | null;
  error: 'timeout' | 'connection_failed' | 'address_refused' | null;
}

/** One POST to an endpoint: no redirects followed, at most `timeoutMs`, the answer's first bytes kept. */
export interface WebhookSender {
  post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<SendResult>;
}

/** A bus event as the webhook consumer reads it (the EventBridge envelope's detail-type and detail). */
export type BusEvent =
  | {
      kind: 'payment';
      busType: string;
      detail: { event_id: string; sequence: number; occurred_at: string; payment: PaymentResource };
    }
  | {
      kind: 'refund';
      busType: string;
      detail: {
        event_id: string;
        sequence: number;
        occurred_at: string;
        payment_id: string;
        refund: RefundResource;
      };
    }
  | { kind: 'points'; busType: string; detail: PointsEventDetail };

/** The bus's types whose webhook type differs: a captured payment is `succeeded`, as its status says. */
const RENAMED: Record<string, WebhookEventType> = { 'payment.captured': 'payment.succeeded' };

export function webhookTypeOf(busType: string): string {
  return RENAMED[busType] ?? busType;
}

/** The bus types the webhook rule delivers: every subscribable type, named as the bus names it. */
export function busTypesOf(webhookTypes: readonly string[]): string[] {
  const back = Object.fromEntries(Object.entries(RENAMED).map(([bus, hook]) => [hook, bus]));
  return webhookTypes.map((type) => back[type] ?? type);
}

/** The payment an event belongs to (none for a points grant). */
export function paymentIdOf(event: BusEvent): string | null {
  if (event.kind === 'payment') return event.detail.payment.id;
  return event.detail.payment_id;
}

/** The body every attempt of the event's deliveries sends: `{id, type, created, data, sequence}`. */
export function deliveryBodyOf(event: BusEvent): string {
  return JSON.stringify({
    id: event.detail.event_id,
    type: webhookTypeOf(event.busType),
    created: event.detail.occurred_at,
    data:
      event.kind === 'payment'
        ? event.detail.payment
        : event.kind === 'refund'
          ? event.detail.refund
          : event.detail.movement,
    sequence: event.detail.sequence,
  });
}

export function endpointView(endpoint: WebhookEndpoint): WebhookEndpointResource {
  const self = `/v1/webhook_endpoints/${endpoint.id}`;
  return {
    id: endpoint.id,
    object: 'webhook_endpoint',
    url: endpoint.url,
    events: endpoint.events,
    description: endpoint.description,
    status: endpoint.status,
    disabled_reason: endpoint.disabledReason,
    secret_rotated_at: endpoint.secretRotatedAt,
    previous_secret_expires_at: endpoint.previousSecretExpiresAt,
    created_at: endpoint.createdAt,
    updated_at: endpoint.updatedAt,
    links: { self, deliveries: `${self}/deliveries` },
  };
}

export function deliveryView(delivery: WebhookDelivery): WebhookDeliveryResource {
  return {
    id: delivery.id,
    object: 'webhook_delivery',
    endpoint_id: delivery.endpointId,
    event_id: delivery.eventId,
    event_type: delivery.eventType,
    status: delivery.status,
    attempts: delivery.attempts.map((attempt) => ({
      attempt: attempt.attempt,
      at: attempt.at,
      manual: attempt.manual,
      status_code: attempt.statusCode,
      latency_ms: attempt.latencyMs,
      response_excerpt: attempt.responseExcerpt,
      error: attempt.error,
    })),
    next_attempt_at: delivery.nextAttemptAt,
    created_at: delivery.createdAt,
    delivered_at: delivery.deliveredAt,
    failed_at: delivery.failedAt,
  };
}

const ENDPOINT_ID = /^we_[0-9A-HJKMNP-TV-Z]{26}$/;
const DELIVERY_ID = /^whd_[0-9A-HJKMNP-TV-Z]{26}$/;

export const isEndpointId = (id: string) => ENDPOINT_ID.test(id);
export const isDeliveryId = (id: string) => DELIVERY_ID.test(id);

/** The merchant's endpoint, or 404 (another merchant's, a malformed or an unknown id alike). */
export async function ownedEndpoint(
  deps: { webhooks: Pick<WebhookStore, 'getEndpoint'> },
  merchantId: string,
  endpointId: string,
): Promise<WebhookEndpoint> {
  const endpoint = isEndpointId(endpointId) ? await deps.webhooks.getEndpoint(merchantId, endpointId) : null;
  if (!endpoint) throw new NotFoundError('No such webhook endpoint.');
  return endpoint;
}
