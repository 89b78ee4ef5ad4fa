/** Unit tests of the KBank adapter's pure parts: amounts, checksum, and error mapping with a fake fetch. */
import {
  chargeByReferenceOrderPath,
  createKbankClient,
  kbankChecksum,
  verifyKbankChecksum,
} from '../../functions/adapters/kbank-client.js';
import { KbankOutcomeUnknown, KbankRejected, KbankUnavailable } from '../../functions/core/errors.js';
import type { ChargeCardRequest } from '../../functions/core/ports.js';

const SECRET = 'skey_test_unit_secret';
const BASE_URL = 'https://kbank.example';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
  signal?: AbortSignal;
}

/** A fetch double: records each call and answers with `answer(call, index)`. */
function fakeFetch(answer: (call: Call, index: number) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const call: Call = {
      url: String(input),
      method: init?.method ?? 'GET',
      headers: { ...(init?.headers as Record<string, string>) },
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      signal: init?.signal ?? undefined,
    };
    calls.push(call);
    return answer(call, calls.length - 1);
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

function wireCharge(overrides: Record<string, unknown> = {}) {
  return {
    id: 'chrg_test_1',
    object: 'charge',
    amount: '200.50',
    currency: 'THB',
    status: 'success',
    transaction_state: 'Authorized',
    approval_code: '123456',
    source: { id: 'card_test_1', brand: 'Visa', card_masking: '411111xxxxxx1111', issuer_bank: 'KBANK' },
    created: '20250101093000123',
    livemode: false,
    failure_code: null,
    failure_message: null,
    redirect_url: null,
    reference_order: 'att_1',
    ...overrides,
  };
}

function socketError(code: string, message = 'fetch failed'): TypeError {
  return new TypeError(message, { cause: Object.assign(new Error(code), { code }) });
}

const chargeRequest: ChargeCardRequest = {
  token: 'tokn_test_abc',
  amount: 20050,
  currency: 'THB',
  referenceOrder: 'att_1',
  description: 'Order 1001',
  metadata: { paymentId: 'pay_1' },
};

function client(fetch: typeof globalThis.fetch, timeoutMs?: number) {
  return createKbankClient({ baseUrl: `${BASE_URL}/`, secretKey: SECRET, fetch, timeoutMs });
}

describe('kbank client: request shape and amounts at the boundary', () => {
  it('sends a card charge with the secret key header and the amount as a 2-decimal string', async () => {
    const fake = fakeFetch(() => json(200, wireCharge()));
    await client(fake.fetch).chargeCard(chargeRequest);

    expect(fake.calls).toHaveLength(1);
    const [call] = fake.calls;
    expect(call?.url).toBe(`${BASE_URL}/card/v2/charge`);
    expect(call?.method).toBe('POST');
    expect(call?.headers['x-api-key']).toBe(SECRET);
    expect(call?.headers['Content-Type']).toBe('application/json');
    expect(call?.body).toEqual({
      amount: '200.50',
      currency: 'THB',
      description: 'Order 1001',
      source_type: 'card',
      mode: 'token',
      token: 'tokn_test_abc',
      reference_order: 'att_1',
      metadata: { paymentId: 'pay_1' },
    });
  });

  it('sends a zero-exponent currency without decimals', async () => {
    const fake = fakeFetch(() => json(200, wireCharge({ amount: '1000.00', currency: 'JPY' })));
    const charge = await client(fake.fetch).chargeCard({ ...chargeRequest, amount: 1000, currency: 'JPY' });
    expect(fake.calls[0]?.body).toMatchObject({ amount: '1000', currency: 'JPY' });
    expect(charge.amount).toBe(1000);
  });

  it('normalizes a charge answer to minor units and camelCase', async () => {
    const fake = fakeFetch(() => json(200, wireCharge()));
    const charge = await client(fake.fetch).chargeCard(chargeRequest);
    expect(charge).toEqual({
      chargeId: 'chrg_test_1',
      referenceOrder: 'att_1',
      status: 'success',
      state: 'Authorized',
      amount: 20050,
      currency: 'THB',
      approvalCode: '123456',
      card: { brand: 'Visa', masked: '411111xxxxxx1111', issuerBank: 'KBANK' },
      created: '20250101093000123',
    });
  });

  it.each([
    [200.5, 20050],
    ['100.0000', 10000],
    ['0.07', 7],
    [74, 7400],
  ])('reads the KBank amount %p as %p minor units', async (amount, minor) => {
    const fake = fakeFetch(() => json(200, wireCharge({ amount })));
    const charge = await client(fake.fetch).inquireCharge({ chargeId: 'chrg_test_1' });
    expect(charge?.amount).toBe(minor);
  });

  it('returns a decline as a charge, not an error', async () => {
    const fake = fakeFetch(() =>
      json(
        200,
        wireCharge({
          status: 'fail',
          transaction_state: 'Declined',
          approval_code: null,
          failure_code: 'insufficient_funds',
          failure_message: 'Insufficient funds',
        }),
      ),
    );
    const charge = await client(fake.fetch).chargeCard(chargeRequest);
    expect(charge.state).toBe('Declined');
    expect(charge.failureCode).toBe('insufficient_funds');
    expect(charge.failureMessage).toBe('Insufficient funds');
    expect(charge.approvalCode).toBeUndefined();
  });

  it('inquires by charge id and by reference order on their own paths', async () => {
    const fake = fakeFetch(() => json(200, wireCharge()));
    const gateway = client(fake.fetch);
    await gateway.inquireCharge({ chargeId: 'chrg_test_1' });
    await gateway.inquireCharge({ referenceOrder: 'att_1' });
    expect(fake.calls.map((call) => [call.method, call.url])).toEqual([
      ['GET', `${BASE_URL}/card/v2/charge/chrg_test_1`],
      ['GET', `${BASE_URL}${chargeByReferenceOrderPath('att_1')}`],
    ]);
    expect(chargeByReferenceOrderPath('a/b&c')).toBe('/card/v2/charge?reference_order=a%2Fb%26c');
  });

  it('settles the whole authorized amount as type full', async () => {
    const fake = fakeFetch(() => json(200, wireCharge({ transaction_state: 'Settled' })));
    const charge = await client(fake.fetch).settleCharge('chrg_test_1', 20050, 'THB', 'full');
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]?.url).toBe(`${BASE_URL}/card/v2/charge/chrg_test_1/settle`);
    expect(fake.calls[0]?.body).toEqual({ amount: '200.50', type: 'full' });
    expect(charge.state).toBe('Settled');
  });

  it('settles less than the authorized amount as type partial', async () => {
    const fake = fakeFetch(() => json(200, wireCharge()));
    await client(fake.fetch).settleCharge('chrg_test_1', 10000, 'THB', 'partial');
    expect(fake.calls[0]?.body).toEqual({ amount: '100.00', type: 'partial' });
  });

  it('sends void and refund bodies with reasons and decimal amounts', async () => {
    const fake = fakeFetch(() => json(200, wireCharge()));
    const gateway = client(fake.fetch);
    await gateway.voidCharge('chrg_test_1', 'settlement failed');
    await gateway.refundCharge('chrg_test_1', 5005, 'THB', 'returned');
    expect(fake.calls.map((call) => [call.url, call.body])).toEqual([
      [`${BASE_URL}/card/v2/charge/chrg_test_1/void`, { reason: 'settlement failed' }],
      [`${BASE_URL}/card/v2/charge/chrg_test_1/refund`, { amount: '50.05', reason: 'returned' }],
    ]);
  });
});

describe('kbank client: error mapping', () => {
  it.each([
    ['connection refused', 'ECONNREFUSED'],
    ['DNS failure', 'ENOTFOUND'],
    ['DNS temporary failure', 'EAI_AGAIN'],
    ['connect timeout', 'UND_ERR_CONNECT_TIMEOUT'],
  ])('maps %s to KbankUnavailable', async (_label, code) => {
    const fake = fakeFetch(() => {
      throw socketError(code);
    });
    const error = await client(fake.fetch)
      .chargeCard(chargeRequest)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KbankUnavailable);
    expect((error as Error).name).toBe('KbankUnavailable');
  });

  it('maps connection refused on every address (AggregateError) to KbankUnavailable', async () => {
    const refused = (address: string) =>
      Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' });
    const fake = fakeFetch(() => {
      throw new TypeError('fetch failed', {
        cause: new AggregateError([refused('::1'), refused('127.0.0.1')]),
      });
    });
    await expect(client(fake.fetch).chargeCard(chargeRequest)).rejects.toBeInstanceOf(KbankUnavailable);
  });

  it.each([
    ['a socket closed after sending', 'UND_ERR_SOCKET'],
    ['a connection reset', 'ECONNRESET'],
  ])('maps %s to KbankOutcomeUnknown', async (_label, code) => {
    const fake = fakeFetch(() => {
      throw socketError(code);
    });
    await expect(client(fake.fetch).chargeCard(chargeRequest)).rejects.toBeInstanceOf(KbankOutcomeUnknown);
  });

  it('maps an error it cannot classify to KbankOutcomeUnknown', async () => {
    const fake = fakeFetch(() => {
      throw new TypeError('fetch failed');
    });
    await expect(client(fake.fetch).chargeCard(chargeRequest)).rejects.toBeInstanceOf(KbankOutcomeUnknown);
  });

  it('maps its own timeout (AbortSignal) to KbankOutcomeUnknown', async () => {
    const fake = fakeFetch(
      (call) =>
        new Promise<Response>((_resolve, reject) => {
          call.signal?.addEventListener('abort', () => reject(call.signal?.reason));
        }),
    );
    const error = await client(fake.fetch, 5)
      .chargeCard(chargeRequest)
      .catch((e: unknown) => e);
    expect(fake.calls[0]?.signal).toBeInstanceOf(AbortSignal);
    expect(error).toBeInstanceOf(KbankOutcomeUnknown);
  });

  it('maps a body that breaks off mid-read to KbankOutcomeUnknown', async () => {
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"id":'));
        controller.error(socketError('UND_ERR_SOCKET', 'terminated'));
      },
    });
    const fake = fakeFetch(() => new Response(body, { status: 200 }));
    await expect(client(fake.fetch).chargeCard(chargeRequest)).rejects.toBeInstanceOf(KbankOutcomeUnknown);
  });

  it.each([500, 502, 503, 504])(
    'maps HTTP %p to KbankOutcomeUnknown even with an error object',
    async (status) => {
      const fake = fakeFetch(() =>
        json(status, { object: 'error', code: 'service_unavailable', message: 'down' }),
      );
      await expect(client(fake.fetch).chargeCard(chargeRequest)).rejects.toBeInstanceOf(KbankOutcomeUnknown);
    },
  );

  it.each([
    ['a body that is not JSON', () => new Response('<html>ok</html>', { status: 200 })],
    ['a charge without transaction_state', () => json(200, wireCharge({ transaction_state: undefined }))],
    ['an unknown transaction_state', () => json(200, wireCharge({ transaction_state: 'Auhtorized' }))],
    ['an amount with more decimals than THB has', () => json(200, wireCharge({ amount: '200.505' }))],
    ['a negative amount', () => json(200, wireCharge({ amount: -1 }))],
    ['an unknown currency', () => json(200, wireCharge({ currency: 'XXX' }))],
    ['an error object with HTTP 200', () => json(200, { object: 'error', code: 'x', message: 'y' })],
    ['a charge for another reference_order', () => json(200, wireCharge({ reference_order: 'att_other' }))],
    [
      'a redirect',
      () => new Response(null, { status: 302, headers: { Location: 'https://elsewhere.example' } }),
    ],
    ['a 4xx that is not a KBank error object', () => new Response('<html>Forbidden</html>', { status: 403 })],
  ])('maps %s to KbankOutcomeUnknown', async (_label, answer) => {
    const fake = fakeFetch(answer);
    await expect(client(fake.fetch).chargeCard(chargeRequest)).rejects.toBeInstanceOf(KbankOutcomeUnknown);
  });

  it('maps a 4xx error object to KbankRejected with its code and status', async () => {
    const fake = fakeFetch(() =>
      json(400, {
        object: 'error',
        code: 'duplicate_reference_order',
        message: 'reference_order already used',
      }),
    );
    const error = await client(fake.fetch)
      .chargeCard(chargeRequest)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KbankRejected);
    expect(error).toMatchObject({
      name: 'KbankRejected',
      kbankCode: 'duplicate_reference_order',
      httpStatus: 400,
      retryable: false,
    });
    expect((error as Error).message).toContain('reference_order already used');
  });

  it('maps an inquiry 404 from KBank to null', async () => {
    const withErrorObject = fakeFetch(() =>
      json(404, { object: 'error', code: 'not_found', message: 'no charge' }),
    );
    const empty = fakeFetch(() => new Response('', { status: 404 }));
    expect(await client(withErrorObject.fetch).inquireCharge({ referenceOrder: 'att_1' })).toBeNull();
    expect(await client(empty.fetch).inquireCharge({ chargeId: 'chrg_test_1' })).toBeNull();
  });

  it('does not read a 404 page that is not from KBank as "no charge"', async () => {
    const fake = fakeFetch(() => new Response('<html>Not Found</html>', { status: 404 }));
    await expect(client(fake.fetch).inquireCharge({ referenceOrder: 'att_1' })).rejects.toBeInstanceOf(
      KbankOutcomeUnknown,
    );
  });

  it('maps a 404 on a void to KbankRejected, not null', async () => {
    const fake = fakeFetch(() =>
      json(404, { object: 'error', code: 'charge_not_found', message: 'no charge' }),
    );
    await expect(client(fake.fetch).voidCharge('chrg_test_x', 'r')).rejects.toMatchObject({
      kbankCode: 'charge_not_found',
      httpStatus: 404,
    });
  });

  it('maps an inquiry answered 200 with a JSON null to KbankOutcomeUnknown, not "no charge"', async () => {
    const fake = fakeFetch(() => new Response('null', { status: 200 }));
    await expect(client(fake.fetch).inquireCharge({ chargeId: 'chrg_test_1' })).rejects.toBeInstanceOf(
      KbankOutcomeUnknown,
    );
  });

  it('maps an inquiry answer about another charge to KbankOutcomeUnknown', async () => {
    const fake = fakeFetch(() => json(200, wireCharge({ id: 'chrg_test_other' })));
    await expect(client(fake.fetch).inquireCharge({ chargeId: 'chrg_test_1' })).rejects.toBeInstanceOf(
      KbankOutcomeUnknown,
    );
  });

  it('never puts the secret key or a card token in an error message', async () => {
    const echoing = fakeFetch(() =>
      json(400, {
        object: 'error',
        code: 'invalid_token',
        message: `token tokn_test_abc rejected for ${SECRET}`,
      }),
    );
    const failing = fakeFetch(() => {
      throw socketError('ECONNREFUSED');
    });
    const errors = [
      await client(echoing.fetch)
        .chargeCard(chargeRequest)
        .catch((e: unknown) => e),
      await client(failing.fetch)
        .chargeCard(chargeRequest)
        .catch((e: unknown) => e),
    ];
    for (const error of errors) {
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).not.toContain(SECRET);
      expect((error as Error).message).not.toContain('tokn_test_abc');
      expect(JSON.stringify(error)).not.toContain(SECRET);
    }
  });
});

describe('kbank checksum', () => {
  const charge = {
    id: 'chrg_test_abc123',
    amount: 10000,
    currency: 'THB' as const,
    status: 'success',
    transactionState: 'Authorized',
  };
  // printf '%s' 'chrg_test_abc123100.0000THBsuccessAuthorizedskey_test_123' | sha256sum
  const expected = 'b6a511f9fe0ec0a2d3a3bdedeb8460cc0ca041fb0a034688af7acd029eecc6b8';

  it('matches a hand-computed SHA-256 with the amount in 4 decimals', () => {
    expect(kbankChecksum(charge, 'skey_test_123')).toBe(expected);
  });

  it('shows a zero-exponent currency with 4 decimals too', () => {
    // printf '%s' 'chrg_test_jpy11000.0000JPYsuccessSettledskey_test_123' | sha256sum
    const jpy = {
      id: 'chrg_test_jpy1',
      amount: 1000,
      currency: 'JPY' as const,
      status: 'success',
      transactionState: 'Settled',
    };
    expect(kbankChecksum(jpy, 'skey_test_123')).toBe(
      '585e82d12887c995d2fa42171936f2bee019bdf489487d8b80ea0ff06970e2bd',
    );
  });

  it('verifies the right checksum, in either letter case', () => {
    expect(verifyKbankChecksum(charge, expected, 'skey_test_123')).toBe(true);
    expect(verifyKbankChecksum(charge, expected.toUpperCase(), 'skey_test_123')).toBe(true);
  });

  it('rejects a checksum for another amount, state, key or of the wrong length', () => {
    expect(verifyKbankChecksum({ ...charge, amount: 10001 }, expected, 'skey_test_123')).toBe(false);
    expect(verifyKbankChecksum({ ...charge, transactionState: 'Declined' }, expected, 'skey_test_123')).toBe(
      false,
    );
    expect(verifyKbankChecksum(charge, expected, 'skey_test_other')).toBe(false);
    expect(verifyKbankChecksum(charge, expected.slice(0, 63), 'skey_test_123')).toBe(false);
    expect(verifyKbankChecksum(charge, '', 'skey_test_123')).toBe(false);
  });
});
