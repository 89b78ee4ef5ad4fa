/**
 * The example shop (examples/shop) in real Chromium (Debian's `chromium`, driven by playwright-core) against
 * the local stack: the shopper pays by card through the simulator's card form, is declined, passes 3-D
 * Secure, pays a Thai QR in the simulator's pay page in a second tab, and lets one expire. Screenshots of
 * each end state go to test-artifacts/shop/ (not committed).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { type Shop, startShop } from '../../examples/shop/server.js';
import { MAGIC_CARDS } from '../../local/kbank-simulator.js';
import type { LocalStack } from '../../local/stack.js';
import { api, startTestStack } from '../support/stack.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/shop/', import.meta.url));
// Long enough to pay in a second tab on a loaded machine, short enough to watch one expire.
const QR_SECONDS = 40;

function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'chromium not found: apt-get install -y chromium (.ci/run does it), or set CHROMIUM_PATH',
    );
  }
}

let stack: LocalStack;
let shop: Shop;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  stack = await startTestStack({ actionWindows: { qrSeconds: QR_SECONDS } });
  shop = await startShop({
    apiUrl: stack.apiUrl,
    apiKey: stack.merchant.apiKey,
    kbankUrl: stack.kbankUrl,
    kbankPublicKey: stack.kbankPublicKey,
    port: 0,
  });
  // Root in CI: Chromium's sandbox needs a user namespace it may not get there.
  browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox'] });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await shop?.close();
  await stack?.close();
});
beforeEach(async () => {
  context = await browser.newContext();
  page = await context.newPage();
  await page.goto(shop.url);
});
afterEach(async () => {
  await context?.close();
});

const shot = (name: string) => page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });

async function payByCard(number: string) {
  const form = page.frameLocator('#card-frame');
  await form.locator('#number').fill(number);
  await form.locator('#exp').fill('12/30');
  await form.locator('#cvc').fill('123');
  await form.locator('#name').fill('SOMCHAI JAIDEE');
  await form.locator('#pay').click();
}

/** Starts a Thai QR checkout; answers the payment id the shop's server created. */
async function startQr(): Promise<string> {
  await page.locator('#method-qr_promptpay').check();
  const created = page.waitForResponse((response) => response.url().endsWith('/api/checkout'));
  await page.locator('#pay').click();
  const { id } = (await (await created).json()) as { id: string };
  await page.locator('#qr').waitFor({ state: 'visible', timeout: 30_000 });
  expect(await page.locator('#qr').getAttribute('src')).toMatch(/^data:image\/png;base64,/);
  return id;
}

describe('the example shop in Chromium', () => {
  it('takes a card payment and shows the receipt; the page never holds the API key', async () => {
    await payByCard(MAGIC_CARDS.visa.number);
    await page.locator('#receipt').waitFor({ state: 'visible', timeout: 30_000 });
    await shot('card-succeeded');
    expect(await page.locator('#receipt-amount').textContent()).toBe('725.00 THB');
    expect(await page.locator('#receipt-method').textContent()).toContain('1111');
    const id = (await page.locator('#receipt-id').textContent()) ?? '';
    const { body } = await api(stack, 'GET', `/v1/payments/${id}`);
    expect(body).toMatchObject({ status: 'succeeded', amount_captured: 72500 });
    expect(await page.content()).not.toContain(stack.merchant.apiKey);
  });

  it('shows a declined card to the shopper, who stays on the checkout', async () => {
    await payByCard(MAGIC_CARDS.declined.number);
    await expect(
      page.locator('#message').filter({ hasText: 'declined' }).waitFor({ timeout: 30_000 }),
    ).resolves.toBe(undefined);
    await shot('card-declined');
    expect(await page.locator('#message').textContent()).toBe('Your card was declined. Try another card.');
    expect(await page.locator('#receipt').isVisible()).toBe(false);
    expect(await page.locator('#card-frame').isVisible()).toBe(true);
  });

  it('sends a 3-D Secure card to KBank’s page and back, then shows the receipt', async () => {
    await payByCard(MAGIC_CARDS.threeDSecure.number);
    await page.waitForURL(/\/_sim\/3ds\//, { timeout: 30_000 });
    await shot('3ds-challenge');
    await page.getByRole('button', { name: 'Pay' }).click();
    await page.waitForURL(/\/return\?payment=pay_/, { timeout: 30_000 });
    await page.locator('#receipt').waitFor({ state: 'visible', timeout: 30_000 });
    await shot('3ds-succeeded');
    expect(await page.locator('#receipt-amount').textContent()).toBe('725.00 THB');
  });

  it('shows a Thai QR, paid in the simulator’s pay page in a second tab, and updates by itself', async () => {
    const id = await startQr();
    const { body } = await api(stack, 'GET', `/v1/payments/${id}/events`);
    const opened = body.data.find((entry: { type: string }) => entry.type === 'payment.requires_action');
    const bank = await context.newPage();
    await bank.goto(`${stack.kbankUrl}/_sim/qr/${encodeURIComponent(opened.detail.orderId)}`);
    await bank.getByRole('button', { name: 'pay', exact: true }).click();
    await bank.waitForLoadState();
    await bank.screenshot({ path: `${ARTIFACTS}qr-bank-page.png` });
    await page.locator('#receipt').waitFor({ state: 'visible', timeout: 30_000 });
    await shot('qr-paid');
    expect(await page.locator('#receipt-method').textContent()).toBe('Thai QR');
  });

  it('tells the shopper when the QR expired unpaid', async () => {
    const id = await startQr();
    await page
      .locator('#message')
      .filter({ hasText: 'expired' })
      .waitFor({ timeout: (QR_SECONDS + 60) * 1000 });
    await shot('qr-expired');
    expect(await page.locator('#qr-section').isVisible()).toBe(false);
    const { body } = await api(stack, 'GET', `/v1/payments/${id}`);
    expect(body).toMatchObject({ status: 'expired', failure: { code: 'action_expired' } });
  }, 180_000);
});
