/**
 * The verification snippet of docs/api.md "Webhooks", run as a merchant would paste it: it accepts the
 * specification's test vector and our own signed deliveries (two signatures during a rotation), and
 * refuses a forged or altered delivery and a replay.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { newSigningSecret, signatureHeaders } from '../../functions/core/webhooks/signature.js';

type Verify = (
  secret: string,
  headers: Record<string, string>,
  rawBody: string,
  nowSeconds?: number,
) => boolean;

/** The fenced ```js webhook-verify block, its import replaced by the same two functions of node:crypto. */
function documentedVerify(): Verify {
  const guide = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
  const block = /```js webhook-verify\n([\s\S]*?)```/.exec(guide)?.[1];
  if (!block) throw new Error('docs/api.md has no ```js webhook-verify block');
  const importLine = "import { createHmac, timingSafeEqual } from 'node:crypto';\n";
  expect(block.startsWith(importLine)).toBe(true);
  const body = block.slice(importLine.length).replace(/^export /m, '');
  expect(body.split('\n').filter(Boolean).length).toBeLessThanOrEqual(8);
  return new Function('createHmac', 'timingSafeEqual', `${body}\nreturn verifyWebhook;`)(
    createHmac,
    timingSafeEqual,
  ) as Verify;
}

const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  headers: {
    'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    'webhook-timestamp': '1614265330',
    'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  },
  body: '{"test": 2432232314}',
  now: 1614265330,
};

describe('the documented verification snippet', () => {
  const verify = documentedVerify();

  it('accepts the test vector printed beside it', () => {
    const guide = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
    for (const value of [VECTOR.secret, ...Object.values(VECTOR.headers), VECTOR.body])
      expect(guide).toContain(value);
    expect(verify(VECTOR.secret, VECTOR.headers, VECTOR.body, VECTOR.now)).toBe(true);
  });

  it('refuses a forged or altered delivery and a replay', () => {
    const cases: [string, Record<string, string>, string, number][] = [
      ['changed body', VECTOR.headers, '{"test": 2432232315}', VECTOR.now],
      ['changed id', { ...VECTOR.headers, 'webhook-id': 'msg_other' }, VECTOR.body, VECTOR.now],
      [
        'changed timestamp',
        { ...VECTOR.headers, 'webhook-timestamp': '1614265331' },
        VECTOR.body,
        VECTOR.now,
      ],
      [
        'forged signature',
        { ...VECTOR.headers, 'webhook-signature': 'v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' },
        VECTOR.body,
        VECTOR.now,
      ],
      [
        'another version',
        { ...VECTOR.headers, 'webhook-signature': VECTOR.headers['webhook-signature'].replace('v1,', 'v2,') },
        VECTOR.body,
        VECTOR.now,
      ],
      ['no signature', { ...VECTOR.headers, 'webhook-signature': '' }, VECTOR.body, VECTOR.now],
      ['replayed 6 minutes later', VECTOR.headers, VECTOR.body, VECTOR.now + 360],
    ];
    for (const [name, headers, body, now] of cases)
      expect([name, verify(VECTOR.secret, headers, body, now)]).toEqual([name, false]);
    expect(verify(newSigningSecret(), VECTOR.headers, VECTOR.body, VECTOR.now)).toBe(false);
  });

  it("accepts what our delivery signs, with either secret while a rotation's two sign", () => {
    const [current, previous] = [newSigningSecret(), newSigningSecret()];
    const message = {
      id: 'evt_pay_01JD3Q4V7M0000000000000000_5',
      timestamp: 1_764_684_000,
      body: '{"id":"x"}',
    };
    const headers = signatureHeaders([current, previous], message);
    for (const secret of [current, previous])
      expect(verify(secret, headers, message.body, message.timestamp)).toBe(true);
    expect(verify(newSigningSecret(), headers, message.body, message.timestamp)).toBe(false);
  });
});
