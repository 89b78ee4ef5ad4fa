/**
 * Use cases: an operator's merchants and their API keys (`npm run merchant`). A new key is shown once, in
 * the result of the call that made it; afterwards only its id and prefix exist outside its hash. A
 * rotation makes a new key and gives the old ones an overlap in which both work; a revocation stops a key
 * at once (on AWS within the authorizer's cache TTL, docs/api.md "API keys").
 */
import {
  type ApiKeyRecord,
  hashApiKey,
  isScope,
  type KeyMode,
  type KeyStatus,
  keyPrefix,
  keyStatus,
  newApiKey,
  SCOPES,
} from '../../api-keys.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import { ulid } from '../../ids.js';
import { DEFAULT_PLAN, isPlanName, PLAN_NAMES } from '../../plans.js';
import type { Clock, Merchant, MerchantKeyStore, UsagePlans } from '../../ports.js';

export interface MerchantKeyDeps {
  merchants: MerchantKeyStore;
  clock: Clock;
  /** AWS: API Gateway's usage plans, told each merchant's plan. Absent on the local stack. */
  usagePlans?: UsagePlans;
}

/** A key made just now: the secret, shown once, and its record. */
export interface IssuedKey {
  apiKey: string;
  key: ApiKeyRecord;
}

export type KeyView = ApiKeyRecord & { status: KeyStatus };

const MERCHANT_ID = /^merchant_[a-z0-9_]{1,48}$/;
/** The longest rotation overlap: a week, so that no old key lingers as a forgotten second credential. */
export const MAX_OVERLAP_SECONDS = 7 * 24 * 3600;

export async function createMerchant(
  deps: MerchantKeyDeps,
  input: { name: string; id?: string; mode?: KeyMode; plan?: string },
): Promise<{ merchant: Merchant } & IssuedKey> {
  const name = input.name.trim();
  const id = input.id ?? `merchant_${ulid().toLowerCase()}`;
  const problems = [
    ...(name.length === 0 || name.length > 100
      ? [{ field: 'name', message: 'must be 1 to 100 characters' }]
      : []),
    ...(MERCHANT_ID.test(id)
      ? []
      : [{ field: 'id', message: 'must be merchant_ and 1 to 48 lowercase letters, digits or _' }]),
    ...planProblems(input.plan),
  ];
  if (problems.length > 0) throw new ValidationError('The merchant cannot be created as asked.', problems);
  const plan = isPlanName(input.plan) ? input.plan : DEFAULT_PLAN;
  const merchant: Merchant = { id, name, plan };
  const createdAt = deps.clock.now().toISOString();
  if (!(await deps.merchants.createMerchant({ ...merchant, createdAt }))) {
    throw new ValidationError(`Merchant ${id} exists already.`, [{ field: 'id', message: 'is taken' }]);
  }
  // Before its first key: in AWS a key whose merchant has no usage plan yet would be refused (403).
  await deps.usagePlans?.assign(id, plan);
  return { merchant, ...(await issueKey(deps, merchant, input.mode ?? 'test')) };
}

export async function listMerchantKeys(
  deps: MerchantKeyDeps,
  merchantId: string,
): Promise<{ merchant: Merchant; keys: KeyView[] }> {
  const merchant = await merchantOf(deps, merchantId);
  const now = deps.clock.now();
  const keys = await deps.merchants.listKeys(merchant.id);
  return { merchant, keys: keys.map((key) => ({ ...key, status: keyStatus(key, now) })) };
}

/**
 * A new key for the merchant; every key that works now keeps working for `overlapSeconds` more (or less,
 * if its own overlap ends sooner), so clients can move to the new one without a moment of refusals.
 */
export async function rotateKey(
  deps: MerchantKeyDeps,
  input: { merchantId: string; overlapSeconds: number; mode?: KeyMode },
): Promise<IssuedKey & { expiring: KeyView[] }> {
  const { overlapSeconds } = input;
  if (!Number.isInteger(overlapSeconds) || overlapSeconds < 0 || overlapSeconds > MAX_OVERLAP_SECONDS) {
    throw new ValidationError('The overlap is out of range.', [
      { field: 'overlap', message: `must be a whole number of seconds from 0 to ${MAX_OVERLAP_SECONDS}` },
    ]);
  }
  const merchant = await merchantOf(deps, input.merchantId);
  const now = deps.clock.now();
  // The full keys: a restricted key is replaced by making another (createRestrictedKey), not by a rotation.
  const current = (await deps.merchants.listKeys(merchant.id)).filter((key) => {
    if (key.scopes) return false;
    const status = keyStatus(key, now);
    return status === 'active' || status === 'expiring';
  });
  const mode = input.mode ?? current.at(-1)?.mode ?? 'test';
  // The new key first: a crash in between leaves one key more, never a merchant without one.
  const issued = await issueKey(deps, merchant, mode);
  const until = new Date(now.getTime() + overlapSeconds * 1000).toISOString();
  const expiring: KeyView[] = [];
  for (const key of current) {
    const validUntil = key.validUntil && key.validUntil < until ? key.validUntil : until;
    if (validUntil !== key.validUntil) await deps.merchants.expireKey(key, validUntil);
    expiring.push({ ...key, validUntil, status: keyStatus({ validUntil }, now) });
  }
  return { ...issued, expiring };
}

export async function revokeKey(
  deps: MerchantKeyDeps,
  input: { merchantId: string; keyId: string },
): Promise<KeyView> {
  const merchant = await merchantOf(deps, input.merchantId);
  const key = (await deps.merchants.listKeys(merchant.id)).find((k) => k.keyId === input.keyId);
  if (!key) throw new NotFoundError(`Merchant ${merchant.id} has no key ${input.keyId}.`);
  if (key.revokedAt) throw new ValidationError(`Key ${key.keyId} was revoked at ${key.revokedAt}.`);
  const revokedAt = deps.clock.now().toISOString();
  await deps.merchants.revokeKey(key, revokedAt);
  return { ...key, revokedAt, status: 'revoked' };
}

/**
 * Moves a merchant to another plan: our records first (the local stack and the authorizer's answer), then
 * API Gateway's usage plans. Running it again with the same plan repairs a change a crash interrupted.
 */
export async function changePlan(
  deps: MerchantKeyDeps,
  input: { merchantId: string; plan: string },
): Promise<Merchant> {
  const problems = planProblems(input.plan);
  if (!isPlanName(input.plan) || problems.length > 0) {
    throw new ValidationError('The plan cannot be changed as asked.', problems);
  }
  const merchant = await merchantOf(deps, input.merchantId);
  await deps.merchants.setPlan(merchant.id, input.plan);
  await deps.usagePlans?.assign(merchant.id, input.plan);
  return { ...merchant, plan: input.plan };
}

function planProblems(plan: string | undefined): { field: string; message: string }[] {
  if (plan === undefined || isPlanName(plan)) return [];
  return [{ field: 'plan', message: `must be one of ${PLAN_NAMES.join(', ')}` }];
}

async function merchantOf(deps: MerchantKeyDeps, merchantId: string): Promise<Merchant> {
  const merchant = await deps.merchants.getMerchant(merchantId);
  if (!merchant) throw new NotFoundError(`There is no merchant ${merchantId}.`);
  return { id: merchant.id, name: merchant.name, plan: merchant.plan ?? DEFAULT_PLAN };
}

/** The longest a restricted key may live: a year, after which its holder asks for a new one. */
export const MAX_RESTRICTED_KEY_SECONDS = 365 * 24 * 3600;

/**
 * A restricted key beside the merchant's others: it may call only the routes of its scopes (403
 * `insufficient_scope` otherwise), and stops working when it expires, if it was given an expiry.
 */
export async function createRestrictedKey(
  deps: MerchantKeyDeps,
  input: { merchantId: string; scopes: string[]; expiresInSeconds?: number; mode?: KeyMode },
): Promise<IssuedKey> {
  const unknown = input.scopes.filter((scope) => !isScope(scope));
  const problems = [
    ...(input.scopes.length === 0 ? [{ field: 'scopes', message: 'name at least one scope' }] : []),
    ...(unknown.length > 0
      ? [{ field: 'scopes', message: `unknown ${unknown.join(', ')}; scopes are ${SCOPES.join(', ')}` }]
      : []),
    ...(input.expiresInSeconds !== undefined &&
    (!Number.isInteger(input.expiresInSeconds) ||
      input.expiresInSeconds < 1 ||
      input.expiresInSeconds > MAX_RESTRICTED_KEY_SECONDS)
      ? [
          {
            field: 'expires_in',
            message: `must be a whole number of seconds from 1 to ${MAX_RESTRICTED_KEY_SECONDS}`,
          },
        ]
      : []),
  ];
  if (problems.length > 0) throw new ValidationError('The key cannot be made as asked.', problems);
  const merchant = await merchantOf(deps, input.merchantId);
  const validUntil =
    input.expiresInSeconds === undefined
      ? undefined
      : new Date(deps.clock.now().getTime() + input.expiresInSeconds * 1000).toISOString();
  const scopes = [...new Set(input.scopes)].filter(isScope).sort();
  return issueKey(deps, merchant, input.mode ?? 'test', { scopes, ...(validUntil ? { validUntil } : {}) });
}

async function issueKey(
  deps: MerchantKeyDeps,
  merchant: Merchant,
  mode: KeyMode,
  restriction: Pick<ApiKeyRecord, 'scopes' | 'validUntil'> = {},
): Promise<IssuedKey> {
  const apiKey = newApiKey(mode);
  const key: ApiKeyRecord = {
    keyId: `key_${ulid()}`,
    merchantId: merchant.id,
    mode,
    prefix: keyPrefix(apiKey),
    createdAt: deps.clock.now().toISOString(),
    ...restriction,
  };
  await deps.merchants.addKey(hashApiKey(apiKey), merchant, key);
  return { apiKey, key };
}
