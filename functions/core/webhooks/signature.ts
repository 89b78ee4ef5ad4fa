/**
 * Merchant webhook signatures in the Standard Webhooks convention (standardwebhooks.com): headers
 * `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`, a space-separated list of
 * `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, one per secret that signs (two while a secret is
 * rotated). A secret is `whsec_<base64 key>`; the key is its decoded bytes.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';

/** How far a delivery's timestamp may be from the receiver's clock: older ones are refused as replays. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export interface SignedMessage {
  /** The event id: the same on every retry of a delivery, so receivers deduplicate on it. */
  id: string;
  /** Unix seconds, when this attempt was signed. */
  timestamp: number;
  /** The exact bytes sent. */
  body: string;
}

/** A fresh signing secret: 24 random bytes (192 bits). */
export function newSigningSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(24).toString('base64')}`;
}

function keyOf(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('a signing secret starts with whsec_');
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  if (key.length < 16) throw new Error('a signing secret holds at least 16 bytes');
  return key;
}

function signatureOf(secret: string, message: SignedMessage): string {
  return createHmac('sha256', keyOf(secret))
    .update(`${message.id}.${message.timestamp}.${message.body}`)
    .digest('base64');
}

/** The three headers of one delivery attempt, signed by every secret given (current first). */
export function signatureHeaders(secrets: readonly string[], message: SignedMessage): Record<string, string> {
  if (secrets.length === 0) throw new Error('at least one secret signs');
  return {
    'webhook-id': message.id,
    'webhook-timestamp': String(message.timestamp),
    'webhook-signature': secrets.map((secret) => `v1,${signatureOf(secret, message)}`).join(' '),
  };
}

export type VerificationFailure = 'missing_headers' | 'timestamp_out_of_tolerance' | 'no_matching_signature';

export class WebhookVerificationError extends Error {
  constructor(readonly reason: VerificationFailure) {
    super(`webhook not verified: ${reason}`);
    this.name = 'WebhookVerificationError';
  }
}

/**
 * What a receiver does (our listener and the docs' example): the timestamp within tolerance of its clock,
 * and one `v1` signature matching under its secret, compared in constant time. Returns the message id.
 */
export function verifySignature(
  secret: string,
  headers: Record<string, string | undefined>,
  body: string,
  options: { nowSeconds: number; toleranceSeconds?: number },
): string {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures || !/^\d{1,12}$/.test(timestamp)) {
    throw new WebhookVerificationError('missing_headers');
  }
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(options.nowSeconds - Number(timestamp)) > tolerance) {
    throw new WebhookVerificationError('timestamp_out_of_tolerance');
  }
  const expected = Buffer.from(signatureOf(secret, { id, timestamp: Number(timestamp), body }));
  const matches = signatures.split(' ').some((entry) => {
    const [version, signature] = entry.split(',', 2);
    if (version !== 'v1' || !signature) return false;
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new WebhookVerificationError('no_matching_signature');
  return id;
}
