/** Merchant webhook signatures: the Standard Webhooks test vector, rotation, replay and tampering. */
import {
  newSigningSecret,
  signatureHeaders,
  verifySignature,
} from '../../functions/core/webhooks/signature.js';

// The test vector published with the Standard Webhooks specification.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('webhook signatures', () => {
  it('signs the specification’s test vector exactly', () => {
    expect(signatureHeaders([VECTOR.secret], VECTOR)).toEqual({
      'webhook-id': VECTOR.id,
      'webhook-timestamp': String(VECTOR.timestamp),
      'webhook-signature': VECTOR.signature,
    });
  });

  it('verifies within tolerance and refuses a replay outside it', () => {
    const headers = signatureHeaders([VECTOR.secret], VECTOR);
    expect(verifySignature(VECTOR.secret, headers, VECTOR.body, { nowSeconds: VECTOR.timestamp + 299 })).toBe(
      VECTOR.id,
    );
    expect(() =>
      verifySignature(VECTOR.secret, headers, VECTOR.body, { nowSeconds: VECTOR.timestamp + 301 }),
    ).toThrow(expect.objectContaining({ reason: 'timestamp_out_of_tolerance' }));
  });

  it('refuses a changed body, id or timestamp, another secret, and missing headers', () => {
    const headers = signatureHeaders([VECTOR.secret], VECTOR);
    const now = { nowSeconds: VECTOR.timestamp };
    const refused = (secret: string, h: Record<string, string | undefined>, body: string) => {
      try {
        verifySignature(secret, h, body, now);
      } catch (error) {
        return (error as { reason: string }).reason;
      }
      return 'verified';
    };
    expect(refused(VECTOR.secret, headers, '{"test": 2432232315}')).toBe('no_matching_signature');
    expect(refused(VECTOR.secret, { ...headers, 'webhook-id': 'msg_other' }, VECTOR.body)).toBe(
      'no_matching_signature',
    );
    expect(
      refused(VECTOR.secret, { ...headers, 'webhook-timestamp': String(VECTOR.timestamp + 1) }, VECTOR.body),
    ).toBe('no_matching_signature');
    expect(refused(newSigningSecret(), headers, VECTOR.body)).toBe('no_matching_signature');
    expect(refused(VECTOR.secret, { ...headers, 'webhook-signature': undefined }, VECTOR.body)).toBe(
      'missing_headers',
    );
    expect(refused(VECTOR.secret, { ...headers, 'webhook-signature': 'v2,abc' }, VECTOR.body)).toBe(
      'no_matching_signature',
    );
  });

  it('signs with both secrets during a rotation, so either verifies', () => {
    const next = newSigningSecret();
    const headers = signatureHeaders([next, VECTOR.secret], VECTOR);
    expect(headers['webhook-signature']?.split(' ')).toHaveLength(2);
    for (const secret of [next, VECTOR.secret]) {
      expect(verifySignature(secret, headers, VECTOR.body, { nowSeconds: VECTOR.timestamp })).toBe(VECTOR.id);
    }
  });

  it('makes 192-bit secrets that differ every time', () => {
    const a = newSigningSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(newSigningSecret()).not.toBe(a);
  });
});
