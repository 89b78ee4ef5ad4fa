/** Merchant API keys: the shape a key must have, and the hash it is stored and looked up under. */
import { createHash } from 'node:crypto';

export const API_KEY_PATTERN = /^sk_(test|live)_[A-Za-z0-9]{24,64}$/;

export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}
