/**
 * The HTTP side of a webhook delivery: one POST with node:http(s), which follows no redirect, bounded by a
 * timeout over the whole exchange, keeping the answer's first RESPONSE_EXCERPT_BYTES. With the `public`
 * policy (AWS) the connection may only go to a public address: the check runs on what the host name
 * resolves to, at connect time (so a name that resolves to 169.254.169.254 or 10.x is refused, and DNS
 * rebinding between a check and the connect cannot happen).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { RESPONSE_EXCERPT_BYTES } from '../core/webhooks/delivery.js';
import { type EndpointPolicy, endpointUrl, isPublicAddress } from '../core/webhooks/endpoint-url.js';
import type { SendResult, WebhookSender } from '../core/webhooks/endpoints.js';

class AddressRefused extends Error {
  constructor() {
    super('the endpoint resolves to an address deliveries may not reach');
    this.name = 'AddressRefused';
  }
}

/** dns.lookup, refusing any address that is not public. */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '', 0);
    const list = addresses as LookupAddress[];
    if (list.length === 0 || list.some((entry) => !isPublicAddress(entry.address))) {
      return callback(new AddressRefused(), '', 0);
    }
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
    const [first] = list;
    return callback(null, first?.address ?? '', first?.family ?? 4);
  });
};

export function createWebhookSender(policy: EndpointPolicy, now: () => number = Date.now): WebhookSender {
  return {
    post: (url, body, headers, timeoutMs) =>
      new Promise<SendResult>((resolve) => {
        const started = now();
        const done = (result: Omit<SendResult, 'latencyMs'>) =>
          resolve({ ...result, latencyMs: Math.max(0, Math.round(now() - started)) });
        let target: URL;
        try {
          // The registry checked it; checked again in case the policy changed since.
          target = endpointUrl(url, policy);
        } catch {
          done({ statusCode: null, responseExcerpt: null, error: 'address_refused' });
          return;
        }
        const client = target.protocol === 'https:' ? https : http;
        const request = client.request(
          target,
          {
            method: 'POST',
            headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
            ...(policy === 'public' ? { lookup: publicOnlyLookup } : {}),
            agent: false,
          },
          (response) => {
            const chunks: Buffer[] = [];
            let kept = 0;
            response.on('data', (chunk: Buffer) => {
              if (kept >= RESPONSE_EXCERPT_BYTES) return;
              chunks.push(chunk);
              kept += chunk.length;
              // Enough to show the merchant; the rest is not read.
              if (kept >= RESPONSE_EXCERPT_BYTES) response.destroy();
            });
            const finish = () => {
              clearTimeout(timer);
              const excerpt = Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8');
              done({ statusCode: response.statusCode ?? null, responseExcerpt: excerpt, error: null });
            };
            response.on('end', finish);
            response.on('close', finish);
          },
        );
        let settled = false;
        const timer = setTimeout(() => {
          settled = true;
          request.destroy();
          done({ statusCode: null, responseExcerpt: null, error: 'timeout' });
        }, timeoutMs);
        request.on('error', (error) => {
          clearTimeout(timer);
          if (settled) return;
          settled = true;
          done({
            statusCode: null,
            responseExcerpt: null,
            error: error instanceof AddressRefused ? 'address_refused' : 'connection_failed',
          });
        });
        request.end(body);
      }),
  };
}
