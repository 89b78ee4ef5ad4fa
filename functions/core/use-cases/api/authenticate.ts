/** Use case: turn a bearer API key into the merchant it belongs to. Keys are stored only as hashes. */
import { API_KEY_PATTERN, hashApiKey } from '../../api-keys.js';
import { UnauthorizedError } from '../../errors.js';
import type { Merchant, MerchantDirectory } from '../../ports.js';

export async function authenticate(
  deps: { merchants: MerchantDirectory },
  authorization: string | undefined,
): Promise<Merchant> {
  const match = /^Bearer (\S+)$/.exec(authorization ?? '');
  const apiKey = match?.[1];
  if (!apiKey || !API_KEY_PATTERN.test(apiKey)) throw new UnauthorizedError('Missing or malformed API key.');
  const merchant = await deps.merchants.findByApiKeyHash(hashApiKey(apiKey));
  if (!merchant) throw new UnauthorizedError('Unknown API key.');
  return merchant;
}
