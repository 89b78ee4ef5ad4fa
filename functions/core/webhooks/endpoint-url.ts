/**
 * Which URLs a merchant may register as a webhook endpoint, and which addresses a delivery may connect to
 * (no SSRF): in AWS only `https` to public addresses; on the local stack also `http://127.0.0.1` /
 * `http://localhost`. The address check runs again at delivery time on what the host name resolves to.
 */
import { isIP } from 'node:net';
import { ValidationError } from '../errors.js';

export type EndpointPolicy = 'public' | 'local';

const MAX_URL_LENGTH = 2048;

/** The endpoint URL as it will be called, or a field-level ValidationError. */
export function endpointUrl(raw: string, policy: EndpointPolicy): URL {
  const refuse = (message: string) =>
    new ValidationError('the webhook endpoint URL is not allowed', [{ field: 'url', message }]);
  if (raw.length > MAX_URL_LENGTH) throw refuse(`must be at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('must be an absolute URL');
  }
  if (url.username || url.password) throw refuse('must not carry credentials');
  if (url.hash) throw refuse('must not have a fragment');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || (isIP(host) !== 0 && isLoopback(host));
  if (policy === 'local' && loopback && (url.protocol === 'http:' || url.protocol === 'https:')) return url;
  if (url.protocol !== 'https:') throw refuse('must use https');
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal')) {
    throw refuse('must be a public host');
  }
  if (isIP(host) !== 0 && !isPublicAddress(host)) throw refuse('must be a public address');
  return url;
}

function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

/**
 * Whether a delivery may connect to this address: not loopback, private, link-local (the instance
 * metadata service included), carrier-grade NAT, multicast, reserved or unspecified; IPv4-mapped IPv6
 * addresses are judged as their IPv4 address.
 */
export function isPublicAddress(ip: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1]) return isPublicAddress(mapped[1]);
  // The same, as the URL parser writes it: ::ffff:a00:1 is 10.0.0.1.
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (hex?.[1] && hex[2]) {
    const [high, low] = [Number.parseInt(hex[1], 16), Number.parseInt(hex[2], 16)];
    return isPublicAddress(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`);
  }
  if (isIP(ip) === 4) {
    const [a = 0, b = 0] = ip.split('.').map(Number);
    return !(
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 192 && b === 0) ||
      (a === 198 && (b === 18 || b === 19)) ||
      a >= 224
    );
  }
  if (isIP(ip) === 6) {
    const lower = ip.toLowerCase();
    return !(
      lower === '::' ||
      lower === '::1' ||
      /^f[cd]/.test(lower) ||
      /^fe[89ab]/.test(lower) ||
      lower.startsWith('ff') ||
      lower.startsWith('64:ff9b:') ||
      lower.startsWith('2001:db8')
    );
  }
  return false;
}
