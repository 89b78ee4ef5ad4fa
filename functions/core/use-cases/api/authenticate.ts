/** Use case: turn a bearer API key into the merchant it belongs to. Keys are stored only as hashes. */
import { createHash } from 'node:crypto';
import { UnauthorizedError } from '../../errors.js';
import type { Merchant, MerchantDirectory } from '../../ports.js';

export const API_KEY_PATTERN = /^sk_(test|live)_[A-Za-z0-9]{24,64}$/;

export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}

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
