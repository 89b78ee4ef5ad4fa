/**
 * Use case: turn a bearer API key into what it grants: its merchant and, for a restricted key, its scopes.
 * Keys are stored only as hashes.
 */
import { API_KEY_PATTERN, hashApiKey, keyWorks } from '../../api-keys.js';
import { UnauthorizedError } from '../../errors.js';
import type { ApiKeyGrant, Clock, MerchantDirectory } from '../../ports.js';

export async function authenticate(
  deps: { merchants: MerchantDirectory; clock: Clock },
  authorization: string | undefined,
): Promise<ApiKeyGrant> {
  const match = /^Bearer (\S+)$/.exec(authorization ?? '');
  const apiKey = match?.[1];
  if (!apiKey || !API_KEY_PATTERN.test(apiKey)) throw new UnauthorizedError('Missing or malformed API key.');
  const grant = await deps.merchants.findByApiKeyHash(hashApiKey(apiKey));
  if (!grant) throw new UnauthorizedError('Unknown API key.');
  // A rotated key works until the end of its overlap; the lookup item outlives it until DynamoDB's TTL.
  if (!keyWorks(grant, deps.clock.now())) throw new UnauthorizedError('This API key has expired.');
  return grant;
}
