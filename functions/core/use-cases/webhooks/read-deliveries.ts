/**
 * Use cases of an endpoint's delivery history (merchant-scoped): the deliveries with every attempt, newest
 * first and cursor-paged, and the manual resend of one (queued for the delivery consumer, which records it
 * as a manual attempt; the schedule of a pending delivery goes on beside it).
 */
import type { WebhookDeliveryList, WebhookDeliveryResource } from '../../../../schemas/webhooks.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import type { Clock, IdempotencyStore } from '../../ports.js';
import {
  type DeliveryPosition,
  deliveryView,
  isDeliveryId,
  ownedEndpoint,
  type WebhookQueue,
  type WebhookStore,
} from '../../webhooks/endpoints.js';

export interface ReadDeliveriesDeps {
  webhooks: WebhookStore;
}

export interface RetryDeliveryDeps extends ReadDeliveriesDeps {
  queue: Pick<WebhookQueue, 'send'>;
  /** The request's Idempotency-Key (the handler's). */
  idempotency: IdempotencyStore;
  clock: Clock;
}

export async function listDeliveries(
  deps: ReadDeliveriesDeps,
  query: { merchantId: string; endpointId: string; limit: number; cursor?: string },
): Promise<WebhookDeliveryList> {
  const endpoint = await ownedEndpoint(deps, query.merchantId, query.endpointId);
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const page = await deps.webhooks.listDeliveries(endpoint.id, {
    limit: query.limit,
    ...(after ? { after } : {}),
  });
  return {
    object: 'list',
    data: page.deliveries.map(deliveryView),
    has_more: page.next !== null,
    next_cursor: page.next ? Buffer.from(JSON.stringify(page.next)).toString('base64url') : null,
  };
}

/** Queues one more attempt of the delivery now; answers the delivery as it stands (202). */
export async function retryDelivery(
  deps: RetryDeliveryDeps,
  request: { merchantId: string; endpointId: string; deliveryId: string },
): Promise<WebhookDeliveryResource> {
  const endpoint = await ownedEndpoint(deps, request.merchantId, request.endpointId);
  const delivery = isDeliveryId(request.deliveryId)
    ? await deps.webhooks.getDelivery(endpoint.id, request.deliveryId)
    : null;
  if (!delivery || delivery.merchantId !== request.merchantId) {
    throw new NotFoundError('No such webhook delivery.');
  }
  await deps.queue.send(
    {
      delivery_id: delivery.id,
      endpoint_id: endpoint.id,
      merchant_id: request.merchantId,
      manual: true,
      due_at: deps.clock.now().toISOString(),
    },
    0,
  );
  return deliveryView(delivery);
}

function decodeCursor(cursor: string): DeliveryPosition {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { deliveryId?: unknown };
    if (typeof parsed.deliveryId === 'string' && isDeliveryId(parsed.deliveryId)) {
      return { deliveryId: parsed.deliveryId };
    }
  } catch {
    // the typed error below
  }
  throw new ValidationError('Invalid cursor.', [
    { field: 'cursor', message: 'not a cursor this API returned' },
  ]);
}
