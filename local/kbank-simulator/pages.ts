/** The customer-facing pages [ours]: 3-D Secure, Alipay, and a QR order with its code, each with its buttons, and the page a button leads to. */
import { qrSvg } from '../../functions/adapters/qr-image.js';
import { toDecimalString } from '../../functions/core/money.js';
import { anyCharge, orderCharge } from './charges.js';
import type { SimContext } from './context.js';
import { type Reply, SimError } from './replies.js';
import type { SimCharge } from './types.js';

/**
 * `GET /_sim/3ds/{chargeId}`, `/_sim/alipay/{chargeId}`, `/_sim/qr/{orderId}`. With `returnTo` (the page's
 * `?return_to=`, an http(s) URL) a button sends the browser back there once done, as KBank sends it back to
 * the merchant; without it the button shows a done page.
 */
export async function pageReply(
  ctx: SimContext,
  kind: string,
  id: string,
  returnTo?: string,
): Promise<Reply> {
  const back = returnTo === undefined ? '' : `?return_to=${encodeURIComponent(checkedReturnUrl(returnTo))}`;
  if (kind === 'qr') {
    const charge = orderCharge(ctx, id);
    const image = charge.qrPayload && charge.sourceType === 'qr' ? await qrSvg(charge.qrPayload) : '';
    const actions: [string, string][] = ['pay', 'decline', 'abandon'].map((action) => [
      action,
      `/_sim/orders/${encodeURIComponent(id)}/${action}${back}`,
    ]);
    return { status: 200, body: null, html: actionPage('Thai QR (simulated)', charge, actions, image) };
  }
  const charge = anyCharge(ctx, id);
  const expected = kind === '3ds' ? charge.behaviour === 'three_d_secure' : charge.sourceType === 'alipay';
  if (!expected) throw new SimError(404, 'charge_not_found', 'no such charge');
  const actions: [string, string][] = [
    ['Pay', `/_sim/charges/${encodeURIComponent(id)}/complete${back}`],
    ['Fail', `/_sim/charges/${encodeURIComponent(id)}/fail${back}`],
  ];
  const title = kind === '3ds' ? '3-D Secure (simulated)' : 'Alipay (simulated)';
  return { status: 200, body: null, html: actionPage(title, charge, actions) };
}

/** A `return_to` must be an absolute http(s) URL: the simulator never redirects anywhere else. */
export function checkedReturnUrl(returnTo: string): string {
  let url: URL;
  try {
    url = new URL(returnTo);
  } catch {
    throw new SimError(400, 'invalid_request', 'return_to must be an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SimError(400, 'invalid_request', 'return_to must be an http(s) URL');
  }
  return url.href;
}

/** What a page button answers once the control call is done. */
export function donePage(charge: SimCharge): string {
  const text = `${charge.id} is now ${charge.state}. You can close this page.`;
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Done</title></head><body><p>${escapeHtml(text)}</p></body></html>`;
}

function actionPage(title: string, charge: SimCharge, actions: [string, string][], extra = ''): string {
  const waiting = charge.state === 'Initialize' || charge.state === 'Pre-Authorized';
  const buttons = waiting
    ? actions
        .map(
          ([label, action]) =>
            `<form method="post" action="${escapeHtml(action)}"><button type="submit">${escapeHtml(label)}</button></form>`,
        )
        .join('\n')
    : '';
  const amount = toDecimalString(charge.amount, charge.currency, 2);
  return [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>${escapeHtml(`${charge.id}: ${amount} ${charge.currency}, ${charge.state}`)}</p>`,
    extra,
    buttons,
    '</body></html>',
  ].join('\n');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/**
 * `GET /_sim/card-form?key=<public key>&origin=<the shop's origin>` [ours, as KBank's embedded card form
 * behaves]: a page for an iframe. The card goes from it straight to the simulator's `/card/v2/tokens`; the
 * shop's page only ever receives the one-time token, by `postMessage` to `origin`:
 * `{type: 'kbank:token', token: 'tokn_…', brand, masked}`, or `{type: 'kbank:error', code, message}`.
 */
export function cardFormPage(publicKey: string, origin: string): string {
  if (!/^pkey_[A-Za-z0-9_]+$/.test(publicKey))
    throw new SimError(400, 'invalid_request', 'key must be a public key');
  if (!/^https?:\/\/[A-Za-z0-9.:[\]-]+$/.test(origin)) {
    throw new SimError(
      400,
      'invalid_request',
      'origin must be the embedding page’s origin, e.g. http://127.0.0.1:3005',
    );
  }
  const settings = JSON.stringify({ publicKey, origin }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Card (KBank simulator)</title>
<style>body{font:15px system-ui,sans-serif;margin:0;padding:8px}label{display:block;margin:6px 0 2px}
input{font:inherit;padding:6px;width:100%;box-sizing:border-box}.row{display:flex;gap:8px}.row>div{flex:1}
button{font:inherit;margin-top:10px;padding:8px 16px}#error{color:#b00020;min-height:1.2em}</style></head>
<body><form id="card" autocomplete="off">
<label for="number">Card number</label><input id="number" name="number" inputmode="numeric" required>
<div class="row"><div><label for="exp">Expiry (MM/YY)</label><input id="exp" name="exp" placeholder="12/30" required></div>
<div><label for="cvc">CVC</label><input id="cvc" name="cvc" inputmode="numeric" required></div></div>
<label for="name">Name on card</label><input id="name" name="name" required>
<button id="pay" type="submit">Use this card</button><p id="error" role="alert"></p></form>
<script>
const settings = ${settings};
const form = document.getElementById('card');
const error = document.getElementById('error');
const tell = (message) => parent.postMessage(message, settings.origin);
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.textContent = '';
  const [month, year] = form.exp.value.split('/').map((part) => part.trim());
  const card = { number: form.number.value.replace(/\\s+/g, ''), expiration_month: Number(month),
    expiration_year: Number(year), security_code: form.cvc.value, name: form.name.value };
  form.pay.disabled = true;
  try {
    const response = await fetch('/card/v2/tokens', { method: 'POST',
      headers: { 'x-api-key': settings.publicKey, 'Content-Type': 'application/json' }, body: JSON.stringify({ card }) });
    const answer = await response.json();
    if (!response.ok) {
      error.textContent = answer.message || 'The card was not accepted.';
      tell({ type: 'kbank:error', code: answer.code, message: answer.message });
      return;
    }
    form.reset();
    tell({ type: 'kbank:token', token: answer.id, brand: answer.card && answer.card.brand,
      masked: answer.card && answer.card.last_digits });
  } catch (failure) {
    error.textContent = 'The card service could not be reached.';
    tell({ type: 'kbank:error', code: 'network', message: String(failure) });
  } finally {
    form.pay.disabled = false;
  }
});
</script></body></html>`;
}
