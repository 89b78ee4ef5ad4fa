/** Merchant webhook records: the event types against the catalog's rule, delivery bodies, rotation overlap, views. */
import { CATALOG } from '../../functions/catalog.js';
import {
  busTypesOf,
  deliveryBodyOf,
  endpointView,
  ROTATION_OVERLAP_MS,
  signingSecretsAt,
  type WebhookEndpoint,
  webhookTypeOf,
} from '../../functions/core/webhooks/endpoints.js';
import { CreateWebhookEndpointRequestSchema, WEBHOOK_EVENT_TYPES } from '../../schemas/webhooks.js';

describe('webhook event types', () => {
  it('subscribes the rule to exactly the bus types of the subscribable webhook types', () => {
    expect([...CATALOG['webhooks-fanout'].eventTypes].sort()).toEqual(busTypesOf(WEBHOOK_EVENT_TYPES).sort());
  });

  it('delivers payment.captured as payment.succeeded and every other type under its own name', () => {
    expect(webhookTypeOf('payment.captured')).toBe('payment.succeeded');
    expect(webhookTypeOf('refund.succeeded')).toBe('refund.succeeded');
    expect(webhookTypeOf('payment.failed')).toBe('payment.failed');
  });

  it('makes the body {id, type, created, data, sequence} from the event, data being the resource', () => {
    const refund = { id: 're_1', object: 'refund', amount: 100 };
    const body = deliveryBodyOf({
      kind: 'refund',
      busType: 'refund.succeeded',
      detail: {
        event_id: 'evt_pay_1_7',
        sequence: 7,
        occurred_at: '2026-11-22T04:00:00.000Z',
        payment_id: 'pay_1',
        refund: refund as never,
      },
    });
    expect(JSON.parse(body)).toEqual({
      id: 'evt_pay_1_7',
      type: 'refund.succeeded',
      created: '2026-11-22T04:00:00.000Z',
      data: refund,
      sequence: 7,
    });
  });
});

describe('points events as webhooks', () => {
  const movement = {
    id: 'pm_01JD3Q4V7M0000000000000000',
    object: 'points_movement',
    customer_id: 'cus-42',
    type: 'grant',
    points: 500,
    available: 500,
    held: 0,
    payment_id: null,
    refund_id: null,
    reason: 'Welcome bonus',
    created_at: '2026-11-22T04:00:00.000Z',
  } as const;

  it('delivers the ledger entry as data, with its payment sequence (null for a grant)', () => {
    const body = deliveryBodyOf({
      kind: 'points',
      busType: 'points.granted',
      detail: {
        version: '1',
        event_id: `evt_${movement.id}`,
        type: 'points.granted',
        sequence: null,
        occurred_at: movement.created_at,
        merchant_id: 'm1',
        customer_id: 'cus-42',
        payment_id: null,
        refund_id: null,
        movement,
      },
    });
    expect(JSON.parse(body)).toEqual({
      id: `evt_${movement.id}`,
      type: 'points.granted',
      created: movement.created_at,
      data: movement,
      sequence: null,
    });
  });

  it('lets an endpoint subscribe to points.* or one points type', () => {
    const patterns = CreateWebhookEndpointRequestSchema.shape.events;
    expect(patterns.safeParse(['points.*']).success).toBe(true);
    expect(patterns.safeParse(['points.committed', 'payment.*']).success).toBe(true);
    expect(patterns.safeParse(['points.earned']).success).toBe(false);
  });
});

describe('signing secrets during a rotation', () => {
  const at = new Date('2026-11-22T04:00:00.000Z');
  const until = new Date(at.getTime() + ROTATION_OVERLAP_MS).toISOString();

  it('signs with the current secret first and the previous one until the overlap ends', () => {
    const secrets = { current: 'whsec_new', previous: 'whsec_old', previousExpiresAt: until };
    expect(signingSecretsAt(secrets, at)).toEqual(['whsec_new', 'whsec_old']);
    expect(signingSecretsAt(secrets, new Date(Date.parse(until) - 1))).toEqual(['whsec_new', 'whsec_old']);
    expect(signingSecretsAt(secrets, new Date(until))).toEqual(['whsec_new']);
    expect(signingSecretsAt({ current: 'whsec_only' }, at)).toEqual(['whsec_only']);
  });

  it('never shows a secret in the endpoint view', () => {
    const endpoint: WebhookEndpoint = {
      id: 'we_01JD3Q4V7M0000000000000000',
      merchantId: 'merchant_demo',
      url: 'https://shop.example.com/hooks',
      events: ['*'],
      description: null,
      status: 'enabled',
      disabledReason: null,
      health: { consecutiveFailures: 0, failingSince: null },
      secretRotatedAt: null,
      previousSecretExpiresAt: null,
      createdAt: at.toISOString(),
      updatedAt: at.toISOString(),
    };
    const view = endpointView(endpoint);
    expect(Object.keys(view)).not.toContain('secret');
    expect(Object.keys(view)).not.toContain('merchantId');
    expect(view.links.deliveries).toBe('/v1/webhook_endpoints/we_01JD3Q4V7M0000000000000000/deliveries');
  });
});
