/**
 * Use cases of the endpoint registry (merchant-scoped: another merchant's endpoint does not exist, 404):
 * register an endpoint (its signing secret answered once, kept only in the secret store), list, read,
 * delete, and rotate the secret (the previous one keeps signing for ROTATION_OVERLAP_MS).
 */
import type {
  CreateWebhookEndpointRequest,
  WebhookEndpointList,
  WebhookEndpointResource,
  WebhookEndpointWithSecret,
} from '../../../../schemas/webhooks.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import type { IdGenerator } from '../../ids.js';
import type { Clock, IdempotencyStore } from '../../ports.js';
import { type EndpointPolicy, endpointUrl } from '../../webhooks/endpoint-url.js';
import {
  endpointView,
  ownedEndpoint,
  ROTATION_OVERLAP_MS,
  type WebhookEndpoint,
  type WebhookSecrets,
  type WebhookStore,
} from '../../webhooks/endpoints.js';
import { newSigningSecret } from '../../webhooks/signature.js';

export { ownedEndpoint };

export interface ManageEndpointsDeps {
  webhooks: WebhookStore;
  secrets: WebhookSecrets;
  /** The creation's and the rotation's Idempotency-Key (the handler's). */
  idempotency: IdempotencyStore;
  clock: Clock;
  ids: IdGenerator;
  /** `public` on AWS (https to public addresses only), `local` on the local stack (loopback http too). */
  endpointPolicy: EndpointPolicy;
  /** A new secret; injected so tests can pin it. */
  newSecret?: () => string;
}

/** A merchant may register this many endpoints. */
export const MAX_ENDPOINTS_PER_MERCHANT = 16;

/**
 * Registers an endpoint: the URL is checked first (a typed 400 that writes nothing), the secret is stored
 * before the endpoint exists, so no delivery ever finds an endpoint without its secret.
 */
export async function createEndpoint(
  deps: ManageEndpointsDeps,
  request: { merchantId: string; endpointId: string; body: CreateWebhookEndpointRequest },
): Promise<WebhookEndpointWithSecret> {
  const url = endpointUrl(request.body.url, deps.endpointPolicy);
  const existing = await deps.webhooks.listEndpoints(request.merchantId);
  if (existing.length >= MAX_ENDPOINTS_PER_MERCHANT && !existing.some((e) => e.id === request.endpointId)) {
    throw new ValidationError('Too many webhook endpoints.', [
      { field: 'url', message: `at most ${MAX_ENDPOINTS_PER_MERCHANT} endpoints; delete one first` },
    ]);
  }
  const now = deps.clock.now().toISOString();
  const secret = (deps.newSecret ?? newSigningSecret)();
  await deps.secrets.put(request.endpointId, { current: secret });
  const endpoint: WebhookEndpoint = {
    id: request.endpointId,
    merchantId: request.merchantId,
    url: url.toString(),
    events: [...new Set(request.body.events)],
    description: request.body.description ?? null,
    status: 'enabled',
    disabledReason: null,
    health: { consecutiveFailures: 0, failingSince: null },
    secretRotatedAt: null,
    previousSecretExpiresAt: null,
    createdAt: now,
    updatedAt: now,
  };
  await deps.webhooks.putEndpoint(endpoint);
  return { ...endpointView(endpoint), secret };
}

export async function listEndpoints(
  deps: Pick<ManageEndpointsDeps, 'webhooks'>,
  merchantId: string,
): Promise<WebhookEndpointList> {
  const endpoints = await deps.webhooks.listEndpoints(merchantId);
  return { object: 'list', data: endpoints.map(endpointView), has_more: false, next_cursor: null };
}

export async function getEndpoint(
  deps: Pick<ManageEndpointsDeps, 'webhooks'>,
  merchantId: string,
  endpointId: string,
): Promise<WebhookEndpointResource> {
  return endpointView(await ownedEndpoint(deps, merchantId, endpointId));
}

/** Deletes the endpoint, then its secret: deliveries still queued for it find nothing and stop. */
export async function deleteEndpoint(
  deps: Pick<ManageEndpointsDeps, 'webhooks' | 'secrets'>,
  merchantId: string,
  endpointId: string,
): Promise<{ id: string; object: 'webhook_endpoint'; deleted: true }> {
  await ownedEndpoint(deps, merchantId, endpointId);
  if (!(await deps.webhooks.deleteEndpoint(merchantId, endpointId))) {
    throw new NotFoundError('No such webhook endpoint.');
  }
  await deps.secrets.delete(endpointId);
  return { id: endpointId, object: 'webhook_endpoint', deleted: true };
}

/**
 * A new current secret; the one it replaces keeps signing until ROTATION_OVERLAP_MS from now (a previous
 * secret still within its own overlap is dropped: two sign at most).
 */
export async function rotateSecret(
  deps: ManageEndpointsDeps,
  merchantId: string,
  endpointId: string,
): Promise<WebhookEndpointWithSecret> {
  await ownedEndpoint(deps, merchantId, endpointId);
  const stored = await deps.secrets.get(endpointId);
  if (!stored) throw new NotFoundError('No such webhook endpoint.');
  const now = deps.clock.now();
  const previousExpiresAt = new Date(now.getTime() + ROTATION_OVERLAP_MS).toISOString();
  const secret = (deps.newSecret ?? newSigningSecret)();
  await deps.secrets.put(endpointId, { current: secret, previous: stored.current, previousExpiresAt });
  const endpoint = await deps.webhooks.markRotated(
    merchantId,
    endpointId,
    now.toISOString(),
    previousExpiresAt,
  );
  if (!endpoint) throw new NotFoundError('No such webhook endpoint.');
  return { ...endpointView(endpoint), secret };
}
