/** The real KBank client against the real simulator over HTTP on 127.0.0.1 (random port). */
import { createServer } from 'node:net';
import { createKbankClient } from '../../functions/adapters/kbank-client.js';
import { KbankOutcomeUnknown, KbankRejected, KbankUnavailable } from '../../functions/core/errors.js';
import type { ChargeCardRequest, KbankGateway } from '../../functions/core/ports.js';
import {
  type KbankSimulator,
  MAGIC_CARDS,
  SIMULATOR_DEFAULTS,
  startKbankSimulator,
  TOKEN_TTL_MS,
  tokenizeTestCard,
} from '../../local/kbank-simulator.js';

const HANG_MS = 2000;
const SLOW_MS = 50;
const START = Date.parse('2025-06-15T03:00:00.000Z');

let nowMs = START;
let sim: KbankSimulator;
let kbank: KbankGateway;
let sequence = 0;

beforeAll(async () => {
  sim = await startKbankSimulator({ hangMs: HANG_MS, slowMs: SLOW_MS, now: () => new Date(nowMs) });
  kbank = createKbankClient({ baseUrl: sim.url, secretKey: SIMULATOR_DEFAULTS.secretKey });
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  nowMs = START;
});

function nextReference(): string {
  sequence += 1;
  return `att_it_${sequence}`;
}

async function chargeRequest(cardNumber: string, amount = 20050): Promise<ChargeCardRequest> {
  return {
    token: await tokenizeTestCard(sim.url, cardNumber),
    amount,
    currency: 'THB',
    referenceOrder: nextReference(),
    description: 'integration test',
  };
}

async function authorized(cardNumber: string, amount = 20050) {
  const charge = await kbank.chargeCard(await chargeRequest(cardNumber, amount));
  expect(charge.state).toBe('Authorized');
  return charge;
}

function rejection(promise: Promise<unknown>): Promise<KbankRejected> {
  return promise.then(
    () => {
      throw new Error('expected KbankRejected');
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(KbankRejected);
      return error as KbankRejected;
    },
  );
}

async function postToken(card: Record<string, unknown>, apiKey: string = SIMULATOR_DEFAULTS.publicKey) {
  const response = await fetch(`${sim.url}/card/v2/tokens`, {
    method: 'POST',
    headers: { 'x-api-key': apiKey, 'Content-Type': 'application/json' },
    body: JSON.stringify({ card }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const validCard = {
  number: MAGIC_CARDS.visa.number,
  expiration_month: 12,
  expiration_year: 2030,
  security_code: '123',
  name: 'SOMCHAI JAIDEE',
};

describe('charging a card', () => {
  it.each([
    ['Visa', MAGIC_CARDS.visa.number, '411111xxxxxx1111'],
    ['Mastercard', MAGIC_CARDS.mastercard.number, '555555xxxxxx4444'],
    ['JCB', MAGIC_CARDS.jcb.number, '353011xxxxxx0000'],
  ])('authorizes a %s test card', async (brand, number, masked) => {
    const request = await chargeRequest(number, 20050);
    const charge = await kbank.chargeCard(request);
    expect(charge).toMatchObject({
      referenceOrder: request.referenceOrder,
      status: 'success',
      state: 'Authorized',
      amount: 20050,
      currency: 'THB',
      card: { brand, masked },
    });
    expect(charge.chargeId).toMatch(/^chrg_test_/);
    expect(charge.approvalCode).toMatch(/^\d{6}$/);
    // 10:00 Bangkok time for 03:00 UTC.
    expect(charge.created).toBe('20250615100000000');
  });

  it.each([
    ['card_declined', MAGIC_CARDS.declined.number],
    ['insufficient_funds', MAGIC_CARDS.insufficientFunds.number],
  ])('returns a %s decline as a Declined charge', async (failureCode, number) => {
    const charge = await kbank.chargeCard(await chargeRequest(number));
    expect(charge.state).toBe('Declined');
    expect(charge.failureCode).toBe(failureCode);
    expect(charge.failureMessage).toBeTruthy();
  });

  it('answers 503 without a charge first, then succeeds when retried with the same reference_order', async () => {
    const request = await chargeRequest(MAGIC_CARDS.unavailableOnce.number);
    await expect(kbank.chargeCard(request)).rejects.toBeInstanceOf(KbankOutcomeUnknown);
    expect(await kbank.inquireCharge({ referenceOrder: request.referenceOrder })).toBeNull();

    const charge = await kbank.chargeCard(request);
    expect(charge.state).toBe('Authorized');
    expect(sim.charges().filter((c) => c.referenceOrder === request.referenceOrder)).toHaveLength(1);
  });

  it('times out on a charge that succeeded, and inquiry by reference_order finds it Authorized', async () => {
    const impatient = createKbankClient({
      baseUrl: sim.url,
      secretKey: SIMULATOR_DEFAULTS.secretKey,
      timeoutMs: 300,
    });
    const request = await chargeRequest(MAGIC_CARDS.timeoutAfterSuccess.number, 12345);
    const started = Date.now();
    await expect(impatient.chargeCard(request)).rejects.toBeInstanceOf(KbankOutcomeUnknown);
    expect(Date.now() - started).toBeLessThan(HANG_MS);

    const found = await impatient.inquireCharge({ referenceOrder: request.referenceOrder });
    expect(found).toMatchObject({
      referenceOrder: request.referenceOrder,
      state: 'Authorized',
      amount: 12345,
    });

    const retried = await rejection(kbank.chargeCard(request));
    expect(retried.kbankCode).toBe('duplicate_reference_order');
  });

  it('answers the slow card after slowMs', async () => {
    const request = await chargeRequest(MAGIC_CARDS.slow.number);
    const started = Date.now();
    const charge = await kbank.chargeCard(request);
    expect(charge.state).toBe('Authorized');
    expect(Date.now() - started).toBeGreaterThanOrEqual(SLOW_MS - 5);
  });

  it('answers the 3-D Secure card Pre-Authorized with a redirect to the simulator', async () => {
    const charge = await kbank.chargeCard(await chargeRequest(MAGIC_CARDS.threeDSecure.number));
    expect(charge.state).toBe('Pre-Authorized');
    expect(charge.redirectUrl).toBe(`${sim.url}/_sim/3ds/${charge.chargeId}`);
  });

  it('rejects a second charge for a reference_order that already has one', async () => {
    const request = await chargeRequest(MAGIC_CARDS.visa.number);
    await kbank.chargeCard(request);
    const token = await tokenizeTestCard(sim.url, MAGIC_CARDS.visa.number);
    const error = await rejection(kbank.chargeCard({ ...request, token }));
    expect(error).toMatchObject({ kbankCode: 'duplicate_reference_order', httpStatus: 400 });
  });

  it('keeps only the masked card number, never the PAN', async () => {
    await authorized(MAGIC_CARDS.mastercard.number);
    const snapshot = JSON.stringify(sim.charges());
    expect(snapshot).toContain('555555xxxxxx4444');
    expect(snapshot).not.toContain(MAGIC_CARDS.mastercard.number);
  });
});

describe('inquiry', () => {
  it('finds a charge by id and by reference_order', async () => {
    const charge = await authorized(MAGIC_CARDS.visa.number);
    expect(await kbank.inquireCharge({ chargeId: charge.chargeId })).toEqual(charge);
    expect(await kbank.inquireCharge({ referenceOrder: charge.referenceOrder })).toEqual(charge);
  });

  it('returns null for a charge KBank does not have', async () => {
    expect(await kbank.inquireCharge({ chargeId: 'chrg_test_missing' })).toBeNull();
    expect(await kbank.inquireCharge({ referenceOrder: 'att_never_used' })).toBeNull();
  });
});

describe('settle, void and refund', () => {
  it('settles the full authorized amount', async () => {
    const charge = await authorized(MAGIC_CARDS.visa.number, 20050);
    const settled = await kbank.settleCharge(charge.chargeId, 20050, 'THB', 'full');
    expect(settled.state).toBe('Settled');
    expect(sim.charges().find((c) => c.id === charge.chargeId)?.settledAmount).toBe(20050);
  });

  it('settles part of the authorized amount', async () => {
    const charge = await authorized(MAGIC_CARDS.visa.number, 20050);
    await kbank.settleCharge(charge.chargeId, 15000, 'THB', 'partial');
    expect(sim.charges().find((c) => c.id === charge.chargeId)?.settledAmount).toBe(15000);
  });

  it('refuses to settle more than was authorized', async () => {
    const charge = await authorized(MAGIC_CARDS.visa.number, 20050);
    const error = await rejection(kbank.settleCharge(charge.chargeId, 20051, 'THB', 'partial'));
    expect(error.kbankCode).toBe('amount_exceeds_authorized');
  });

  it('fails to settle the settle-failure card, which can then be voided', async () => {
    const charge = await authorized(MAGIC_CARDS.settleFails.number);
    const error = await rejection(kbank.settleCharge(charge.chargeId, charge.amount, 'THB', 'full'));
    expect(error).toMatchObject({ kbankCode: 'settlement_failed', httpStatus: 400 });

    const voided = await kbank.voidCharge(charge.chargeId, 'settlement failed');
    expect(voided.state).toBe('Voided');
  });

  it('voids only an Authorized charge', async () => {
    const charge = await authorized(MAGIC_CARDS.visa.number);
    await kbank.settleCharge(charge.chargeId, charge.amount, 'THB', 'full');
    const error = await rejection(kbank.voidCharge(charge.chargeId, 'too late'));
    expect(error.kbankCode).toBe('invalid_state');
  });

  it('refunds up to the settled amount and no more', async () => {
    const charge = await authorized(MAGIC_CARDS.visa.number, 10000);
    await kbank.settleCharge(charge.chargeId, 10000, 'THB', 'full');

    expect((await kbank.refundCharge(charge.chargeId, 6000, 'THB', 'one item back')).state).toBe(
      'Refund Sent',
    );
    const tooMuch = await rejection(kbank.refundCharge(charge.chargeId, 4001, 'THB', 'more'));
    expect(tooMuch.kbankCode).toBe('amount_exceeds_refundable');
    expect((await kbank.refundCharge(charge.chargeId, 4000, 'THB', 'the rest')).state).toBe('Refund Sent');
    expect(sim.charges().find((c) => c.id === charge.chargeId)?.refundedAmount).toBe(10000);
  });

  it('refuses to refund a charge that was never settled', async () => {
    const charge = await authorized(MAGIC_CARDS.visa.number);
    const error = await rejection(kbank.refundCharge(charge.chargeId, 100, 'THB', 'early'));
    expect(error.kbankCode).toBe('invalid_state');
  });
});

describe('tokens', () => {
  it('refuses a token that was already used', async () => {
    const request = await chargeRequest(MAGIC_CARDS.visa.number);
    await kbank.chargeCard(request);
    const error = await rejection(kbank.chargeCard({ ...request, referenceOrder: nextReference() }));
    expect(error.kbankCode).toBe('token_already_used');
  });

  it('accepts a token just under 10 minutes old and refuses one just over', async () => {
    const fresh = await chargeRequest(MAGIC_CARDS.visa.number);
    const stale = await chargeRequest(MAGIC_CARDS.visa.number);
    nowMs = START + TOKEN_TTL_MS - 1;
    expect((await kbank.chargeCard(fresh)).state).toBe('Authorized');
    nowMs = START + TOKEN_TTL_MS + 1;
    const error = await rejection(kbank.chargeCard(stale));
    expect(error.kbankCode).toBe('token_expired');
  });

  it('returns the card summary without the full number', async () => {
    const { status, body } = await postToken(validCard);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      object: 'token',
      card: {
        brand: 'Visa',
        last_digits: '1111',
        name: 'SOMCHAI JAIDEE',
        expiration_month: 12,
        expiration_year: 2030,
      },
    });
    expect(body.id).toMatch(/^tokn_test_/);
    expect(JSON.stringify(body)).not.toContain(validCard.number);
  });

  it.each([
    ['a number failing Luhn', { number: '4111111111111112' }, 'invalid_card_number'],
    ['a number with letters', { number: '4111abcd11111111' }, 'invalid_card_number'],
    ['month 13', { expiration_month: 13 }, 'invalid_expiration_month'],
    ['a year that is not a number', { expiration_year: 'soon' }, 'invalid_expiration_year'],
    ['a card expired last month', { expiration_month: 5, expiration_year: 2025 }, 'card_expired'],
    ['a 2-digit security code', { security_code: '12' }, 'invalid_security_code'],
    ['a 5-digit security code', { security_code: '12345' }, 'invalid_security_code'],
    ['a blank name', { name: '  ' }, 'invalid_name'],
    ['no name', { name: undefined }, 'invalid_name'],
  ])('refuses to tokenize %s', async (_label, change, code) => {
    const { status, body } = await postToken({ ...validCard, ...change });
    expect(status).toBe(400);
    expect(body).toMatchObject({ object: 'error', code });
  });

  it('tokenizes a card expiring this month (injected clock)', async () => {
    const { status } = await postToken({ ...validCard, expiration_month: 6, expiration_year: 2025 });
    expect(status).toBe(200);
  });

  it('refuses tokenization with the secret key instead of the public key', async () => {
    const { status, body } = await postToken(validCard, SIMULATOR_DEFAULTS.secretKey);
    expect(status).toBe(401);
    expect(body).toMatchObject({ object: 'error', code: 'unauthorized' });
  });
});

describe('reaching KBank', () => {
  it('rejects a wrong secret key as unauthorized without echoing it', async () => {
    const wrongKey = 'skey_test_wrong_value';
    const intruder = createKbankClient({ baseUrl: sim.url, secretKey: wrongKey });
    const error = await rejection(intruder.inquireCharge({ chargeId: 'chrg_test_any' }));
    expect(error).toMatchObject({ kbankCode: 'unauthorized', httpStatus: 401 });
    expect(error.message).not.toContain(wrongKey);
  });

  it('reports a closed port as KbankUnavailable', async () => {
    const closedPort = await freePort();
    const nowhere = createKbankClient({
      baseUrl: `http://127.0.0.1:${closedPort}`,
      secretKey: 'skey_test_x',
    });
    await expect(nowhere.chargeCard(await chargeRequest(MAGIC_CARDS.visa.number))).rejects.toBeInstanceOf(
      KbankUnavailable,
    );
  });

  it('answers the health check', async () => {
    const response = await fetch(`${sim.url}/_sim/health`);
    expect(response.status).toBe(200);
  });
});

describe('simulator lifecycle', () => {
  it('closes promptly while an answer is being held', async () => {
    const hanging = await startKbankSimulator({ hangMs: 60_000 });
    const token = await tokenizeTestCard(hanging.url, MAGIC_CARDS.timeoutAfterSuccess.number);
    const client = createKbankClient({ baseUrl: hanging.url, secretKey: SIMULATOR_DEFAULTS.secretKey });
    const inFlight = client
      .chargeCard({ token, amount: 100, currency: 'THB', referenceOrder: 'att_hang', description: 'hang' })
      .catch((error: unknown) => error);
    while (hanging.charges().length === 0) await new Promise((resolve) => setImmediate(resolve));

    const started = Date.now();
    await hanging.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await inFlight).toBeInstanceOf(KbankOutcomeUnknown);
  });

  it('forgets charges and tokens on reset', async () => {
    const other = await startKbankSimulator();
    try {
      const token = await tokenizeTestCard(other.url, MAGIC_CARDS.visa.number);
      const client = createKbankClient({ baseUrl: other.url, secretKey: SIMULATOR_DEFAULTS.secretKey });
      await client.chargeCard({
        token,
        amount: 100,
        currency: 'THB',
        referenceOrder: 'att_r1',
        description: 'r',
      });
      expect(other.charges()).toHaveLength(1);
      other.reset();
      expect(other.charges()).toHaveLength(0);
      const unknownToken = await rejection(
        client.chargeCard({
          token,
          amount: 100,
          currency: 'THB',
          referenceOrder: 'att_r2',
          description: 'r',
        }),
      );
      expect(unknownToken.kbankCode).toBe('invalid_token');
    } finally {
      await other.close();
    }
  });
});

/** A port nothing listens on: bind a random one, then release it. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
