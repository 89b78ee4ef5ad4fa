/**
 * The example shop's server: it holds the merchant's API key and talks to the Payments API through the
 * typed client; its page (page.html) never sees the key. `npm run shop` starts it against the running local
 * stack (read from .local/stack.json); startShop() starts it in tests.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  answer,
  type CreatePaymentRequest,
  createPaymentsClient,
  type Payment,
  type PaymentsClient,
  type Problem,
} from '../../clients/typescript/index.js';

export interface ShopOptions {
  /** The Payments API's base URL (no /v1). */
  apiUrl: string;
  /** The merchant's secret key: stays in this process. */
  apiKey: string;
  /** KBank (the simulator locally): its card form is embedded in the page. */
  kbankUrl: string;
  /** KBank's public key, the only key the page gets. */
  kbankPublicKey: string;
  /** 0 picks a free port. Default 3008. */
  port?: number;
}

export interface Shop {
  url: string;
  close(): Promise<void>;
}

/** What the shopper buys: two T-shirts and a sticker, priced as the cost service prices them. */
export const CART = {
  lines: [
    { sku: 'SKU-TSHIRT', name: 'T-shirt', quantity: 2, unit_amount: 35000 },
    { sku: 'SKU-STICKER', name: 'Sticker', quantity: 1, unit_amount: 2500 },
  ],
  currency: 'THB' as const,
};
const TOTAL = CART.lines.reduce((sum, line) => sum + line.quantity * line.unit_amount, 0);

const METHODS = ['card', 'qr_promptpay', 'wechat_pay', 'alipay'] as const;
type Method = (typeof METHODS)[number];

const PAGE = readFileSync(new URL('./page.html', import.meta.url), 'utf8');

/** What the page is told about a payment: what the shopper must see, nothing of the merchant's. */
async function shopperView(payments: PaymentsClient, payment: Payment, shopUrl: string) {
  const action = payment.next_action;
  let nextAction: Record<string, unknown> | null = null;
  if (action?.type === 'display_qr') {
    const qr = answer(await payments.GET('/v1/payments/{id}/qr', { params: { path: { id: payment.id } } }));
    nextAction = { type: 'display_qr', expires_at: action.expires_at, png: qr.ok ? qr.data.png : null };
  } else if (action?.type === 'redirect_to_url') {
    // KBank's page sends the browser back to the shop when it is done (the simulator's `return_to`).
    const back = `${shopUrl}/return?payment=${encodeURIComponent(payment.id)}`;
    const url = new URL(action.url);
    url.searchParams.set('return_to', back);
    nextAction = { type: 'redirect_to_url', url: url.href, expires_at: action.expires_at };
  }
  return {
    id: payment.id,
    status: payment.status,
    amount: payment.amount,
    currency: payment.currency,
    method: payment.payment_method.type,
    card: payment.payment_method.card,
    next_action: nextAction,
    failure: payment.failure,
    created_at: payment.created_at,
  };
}

export async function startShop(options: ShopOptions): Promise<Shop> {
  const payments = createPaymentsClient({ baseUrl: options.apiUrl, apiKey: options.apiKey });
  let shopUrl = '';
  const page = PAGE.replace(
    '"__SETTINGS__"',
    JSON.stringify({
      kbankUrl: options.kbankUrl,
      kbankPublicKey: options.kbankPublicKey,
      cart: CART,
    }).replace(/</g, '\\u003c'),
  );

  async function handle(
    req: http.IncomingMessage,
  ): Promise<{ status: number; body: unknown; html?: string }> {
    const url = new URL(req.url ?? '/', shopUrl);
    if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/return')) {
      return { status: 200, body: null, html: page };
    }
    if (req.method === 'POST' && url.pathname === '/api/checkout') {
      let input: { method?: Method; token?: string; attempt?: string };
      try {
        input = JSON.parse((await readBody(req)) || '{}');
      } catch {
        return problemReply(400, 'the checkout was not JSON');
      }
      if (!METHODS.includes(input.method as Method)) return problemReply(400, 'choose a payment method');
      const method = input.method as Method;
      const body: CreatePaymentRequest = {
        amount: TOTAL,
        currency: CART.currency,
        order: {
          id: `shop-${randomUUID().slice(0, 8)}`,
          lines: CART.lines.map(({ sku, quantity, unit_amount }) => ({ sku, quantity, unit_amount })),
        },
        customer: { id: 'shopper-1' },
        payment_method: method === 'card' ? { type: 'card', token: input.token ?? '' } : { type: method },
      };
      // The page's attempt id: a double click or a retry of the same checkout is one payment.
      const key = /^[A-Za-z0-9-]{8,64}$/.test(input.attempt ?? '') ? `shop-${input.attempt}` : randomUUID();
      const created = answer(
        await payments.POST('/v1/payments', { params: { header: { 'Idempotency-Key': key } }, body }),
      );
      if (!created.ok)
        return problemReply(created.status, created.problem.detail ?? created.problem.code, created.problem);
      return { status: 201, body: await shopperView(payments, created.data, shopUrl) };
    }
    const one = /^\/api\/payments\/(pay_[0-9A-Z]{26})$/.exec(url.pathname);
    if (req.method === 'GET' && one?.[1]) {
      const read = answer(await payments.GET('/v1/payments/{id}', { params: { path: { id: one[1] } } }));
      if (!read.ok) return problemReply(read.status, read.problem.detail ?? read.problem.code, read.problem);
      return { status: 200, body: await shopperView(payments, read.data, shopUrl) };
    }
    return problemReply(404, 'not found');
  }

  const server = http.createServer((req, res) => {
    handle(req)
      .catch((error: unknown) => {
        console.error('shop: request failed', error);
        return problemReply(500, 'the shop could not reach the payments service');
      })
      .then(({ status, body, html }) => {
        const text = html ?? JSON.stringify(body);
        res.writeHead(status, {
          'Content-Type': html ? 'text/html; charset=utf-8' : 'application/json',
          'Cache-Control': 'no-store',
        });
        res.end(text);
      });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 3008, '127.0.0.1', resolve));
  shopUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: shopUrl,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Reply = { status: number; body: unknown; html?: string };

/** A refusal for the page: the message to show, and the API's code when there is one (never its internals). */
function problemReply(status: number, message: string, problem?: Problem): Reply {
  return { status, body: { error: { message, code: problem?.code ?? null } } };
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > 10_000) req.destroy(new Error('body too large'));
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}
