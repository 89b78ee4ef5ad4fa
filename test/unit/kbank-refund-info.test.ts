/** The one place our assumption about KBank's refund answer lives: `refund_info.refunded_amount` [ours]. */
import { createKbankClient } from '../../functions/adapters/kbank-client.js';

function answering(body: unknown): typeof globalThis.fetch {
  return (async () =>
    new Response(JSON.stringify(body), {
      status: 200,
      headers: { 'Content-Type': 'application/json' },
    })) as typeof globalThis.fetch;
}

const settled = {
  id: 'chrg_test_1',
  object: 'charge',
  amount: '100.00',
  currency: 'THB',
  status: 'success',
  transaction_state: 'Refund Sent',
  reference_order: 'pay_1-1',
};

async function inquire(body: unknown) {
  const kbank = createKbankClient({
    baseUrl: 'https://kbank.example',
    secretKey: 'skey_test_x',
    fetch: answering(body),
  });
  return kbank.inquireCharge({ chargeId: 'chrg_test_1' });
}

describe('kbank client: refunded total of a charge', () => {
  it('reads refund_info.refunded_amount in minor units', async () => {
    expect(await inquire({ ...settled, refund_info: { refunded_amount: '30.50' } })).toMatchObject({
      state: 'Refund Sent',
      refundedAmount: 3050,
    });
    expect((await inquire({ ...settled, refund_info: { refunded_amount: 12 } }))?.refundedAmount).toBe(1200);
  });

  it('says nothing (never zero) when KBank does not tell, and still reads the charge', async () => {
    for (const refundInfo of [undefined, null, {}, { refunded_amount: '-1' }, 'n/a', [{ amount: '1.00' }]]) {
      const charge = await inquire({ ...settled, refund_info: refundInfo });
      expect(charge).toMatchObject({ chargeId: 'chrg_test_1', state: 'Refund Sent' });
      expect(charge).not.toHaveProperty('refundedAmount');
    }
  });
});
