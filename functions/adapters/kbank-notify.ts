/** The notify parser bound to the KBank secret, read lazily (only the webhook function holds it). */
import type { NotifyReader } from '../core/use-cases/callbacks/kbank-callbacks.js';
import { parseNotify, readNotifyReference } from './kbank-client.js';

export function createNotifyReader(secretKey: () => Promise<string>): NotifyReader {
  return {
    reference: readNotifyReference,
    verify: async (body, expected) => parseNotify(body, await secretKey(), expected),
  };
}
