/**
 * Merchant API keys: the shape a key must have, the hash it is stored and looked up under, and the
 * record an operator sees of it (never the key itself: it is shown once, when it is made).
 */
import { createHash, randomBytes } from 'node:crypto';

export const API_KEY_PATTERN = /^sk_(test|live)_[A-Za-z0-9]{24,64}$/;

export type KeyMode = 'test' | 'live';

export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A new secret key: `sk_<mode>_` and 32 random characters (≈190 bits). */
export function newApiKey(mode: KeyMode = 'test', random: Uint8Array = randomBytes(32)): string {
  return `sk_${mode}_${Array.from(random, (b) => ALPHABET.charAt(b % ALPHABET.length)).join('')}`;
}

/** What may be shown of a key to tell it apart: its mode and first four random characters. */
export function keyPrefix(apiKey: string): string {
  return apiKey.slice(0, apiKey.indexOf('_', 3) + 5);
}

/**
 * What a restricted key may do: each merchant route needs the scope of its resource, `:read` for a GET and
 * `:write` for anything else (scopeOf). A key without scopes is a full key: it may do everything.
 */
export const SCOPES = [
  'payments:read',
  'payments:write',
  'refunds:read',
  'refunds:write',
  'points:read',
  'points:write',
  'settlements:read',
  'webhooks:read',
  'webhooks:write',
] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** The resource a merchant route's path is about: its first segment after /v1, refunds and points by name. */
function resourceOf(path: string): string | undefined {
  if (/^\/v1\/payments\/[^/]+\/refunds(\/|$)/.test(path)) return 'refunds';
  if (/^\/v1\/customers\/[^/]+\/points(\/|$)/.test(path)) return 'points';
  const first = /^\/v1\/([a-z_]+)/.exec(path)?.[1];
  return first === 'webhook_endpoints' ? 'webhooks' : first;
}

/** The scope a call needs (the route's API Gateway resource path, e.g. `/v1/payments/{id}`); null: none known. */
export function scopeOf(method: string, resourcePath: string): Scope | null {
  const scope = `${resourceOf(resourcePath)}:${method.toUpperCase() === 'GET' ? 'read' : 'write'}`;
  return isScope(scope) ? scope : null;
}

/** A key as the operator's directory holds it. */
export interface ApiKeyRecord {
  keyId: string;
  merchantId: string;
  mode: KeyMode;
  /** A restricted key's scopes; absent for a full key. */
  scopes?: Scope[];
  /** keyPrefix() of the key, e.g. `sk_test_Ab3d`. */
  prefix: string;
  createdAt: string;
  /** Set by a rotation: the key stops working at this instant (the overlap's end). */
  validUntil?: string;
  revokedAt?: string;
}

export type KeyStatus = 'active' | 'expiring' | 'expired' | 'revoked';

export function keyStatus(key: Pick<ApiKeyRecord, 'validUntil' | 'revokedAt'>, now: Date): KeyStatus {
  if (key.revokedAt) return 'revoked';
  if (!key.validUntil) return 'active';
  return key.validUntil > now.toISOString() ? 'expiring' : 'expired';
}

/** Whether a key still authenticates at `now`: not revoked, and not past the end of its rotation overlap. */
export function keyWorks(key: Pick<ApiKeyRecord, 'validUntil' | 'revokedAt'>, now: Date): boolean {
  const status = keyStatus(key, now);
  return status === 'active' || status === 'expiring';
}
