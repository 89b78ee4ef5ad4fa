/** The customer-facing pages [ours]: 3-D Secure, Alipay, and a QR order with its code, each with its buttons, and the page a button leads to. */
import { qrSvg } from '../../functions/adapters/qr-image.js';
import { toDecimalString } from '../../functions/core/money.js';
import { anyCharge, orderCharge } from './charges.js';
import type { SimContext } from './context.js';
import { type Reply, SimError } from './replies.js';
import type { SimCharge } from './types.js';

/** `GET /_sim/3ds/{chargeId}`, `/_sim/alipay/{chargeId}`, `/_sim/qr/{orderId}`. */
export async function pageReply(ctx: SimContext, kind: string, id: string): Promise<Reply> {
  if (kind === 'qr') {
    const charge = orderCharge(ctx, id);
    const image = charge.qrPayload && charge.sourceType === 'qr' ? await qrSvg(charge.qrPayload) : '';
    const actions: [string, string][] = ['pay', 'decline', 'abandon'].map((action) => [
      action,
      `/_sim/orders/${encodeURIComponent(id)}/${action}`,
    ]);
    return { status: 200, body: null, html: actionPage('Thai QR (simulated)', charge, actions, image) };
  }
  const charge = anyCharge(ctx, id);
  const expected = kind === '3ds' ? charge.behaviour === 'three_d_secure' : charge.sourceType === 'alipay';
  if (!expected) throw new SimError(404, 'charge_not_found', 'no such charge');
  const actions: [string, string][] = [
    ['Pay', `/_sim/charges/${encodeURIComponent(id)}/complete`],
    ['Fail', `/_sim/charges/${encodeURIComponent(id)}/fail`],
  ];
  const title = kind === '3ds' ? '3-D Secure (simulated)' : 'Alipay (simulated)';
  return { status: 200, body: null, html: actionPage(title, charge, actions) };
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
