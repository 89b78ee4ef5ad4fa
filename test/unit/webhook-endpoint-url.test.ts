/** Webhook endpoint URLs: https to public hosts in AWS, loopback allowed locally, no SSRF targets. */
import { endpointUrl, isPublicAddress } from '../../functions/core/webhooks/endpoint-url.js';

const refusal = (raw: string, policy: 'public' | 'local' = 'public') => {
  try {
    endpointUrl(raw, policy);
  } catch (error) {
    return (error as { details: { message: string }[] }).details[0]?.message;
  }
  return 'allowed';
};

describe('webhook endpoint URLs', () => {
  it('allows https to a public host', () => {
    expect(endpointUrl('https://shop.example.com/hooks/payments?x=1', 'public').href).toBe(
      'https://shop.example.com/hooks/payments?x=1',
    );
    expect(refusal('https://203.0.113.9/hook')).toBe('allowed');
  });

  it.each([
    ['http://shop.example.com/hook', 'must use https'],
    ['ftp://shop.example.com/hook', 'must use https'],
    ['shop.example.com/hook', 'must be an absolute URL'],
    ['https://user:pw@shop.example.com/hook', 'must not carry credentials'],
    ['https://shop.example.com/hook#x', 'must not have a fragment'],
    ['https://localhost/hook', 'must be a public host'],
    ['https://metadata.google.internal/hook', 'must be a public host'],
    ['https://127.0.0.1/hook', 'must be a public address'],
    ['https://169.254.169.254/latest/meta-data', 'must be a public address'],
    ['https://10.1.2.3/hook', 'must be a public address'],
    ['https://172.20.0.1/hook', 'must be a public address'],
    ['https://192.168.1.1/hook', 'must be a public address'],
    ['https://100.100.100.200/hook', 'must be a public address'],
    ['https://[::1]/hook', 'must be a public address'],
    ['https://[fd00::1]/hook', 'must be a public address'],
    ['https://[fe80::1]/hook', 'must be a public address'],
    ['https://[::ffff:10.0.0.1]/hook', 'must be a public address'],
    ['http://127.0.0.1:4400/hook', 'must use https'],
  ])('refuses %s in AWS: %s', (raw, message) => {
    expect(refusal(raw)).toBe(message);
  });

  it('allows loopback over http on the local stack, nothing else private', () => {
    expect(refusal('http://127.0.0.1:4400/hook', 'local')).toBe('allowed');
    expect(refusal('http://localhost:4400/hook', 'local')).toBe('allowed');
    expect(refusal('http://10.0.0.5/hook', 'local')).toBe('must use https');
    expect(refusal('https://169.254.169.254/', 'local')).toBe('must be a public address');
  });

  it('judges resolved addresses at delivery time', () => {
    for (const ip of ['8.8.8.8', '203.0.113.9', '2606:4700::1111']) expect(isPublicAddress(ip)).toBe(true);
    for (const ip of [
      '0.0.0.0',
      '127.0.0.53',
      '169.254.0.1',
      '224.0.0.1',
      '::',
      '::ffff:127.0.0.1',
      'nonsense',
    ]) {
      expect(isPublicAddress(ip)).toBe(false);
    }
  });
});
