/** Routing: which path and method reach which operation, with KBank's keys checked and bodies read. */
import type http from 'node:http';
import { readBody } from '../sim-http.js';
import {
  createAlipayCharge,
  createCharge,
  isAlipayRequest,
  refundCharge,
  settleCharge,
  tokenize,
  voidCharge,
} from './card-protocol.js';
import { anyCharge, cardPath, orderCharge, qrCharge, qrChargeById, refresh } from './charges.js';
import type { SimContext } from './context.js';
import { abandon, customerAction, scanQr } from './customer.js';
import { setFaultsReply } from './faults.js';
import { cardFormPage, checkedReturnUrl, donePage, pageReply } from './pages.js';
import { cancelQr, createQr, createQrOrder, refundQr } from './qr-protocol.js';
import { forgetCharge, listTransactions, orphanReply, unlistCharge } from './reconciliation.js';
import { type Reply, SimError } from './replies.js';
import type { SimCharge } from './types.js';
import { toOrderWire, toWire } from './wire.js';

/** Answers one request, or throws a SimError to refuse it. */
export async function route(ctx: SimContext, req: http.IncomingMessage): Promise<Reply> {
  const requestUrl = new URL(req.url ?? '/', 'http://simulator.invalid');
  const path = requestUrl.pathname.replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';
  const { secretKey, publicKey } = ctx.config;

  if (path === '/_sim/health') return { status: 200, body: { status: 'ok' } };

  if (path === '/card/v2/tokens') {
    requireKey(req, publicKey);
    requireMethod(method, 'POST');
    return { status: 200, body: tokenize(ctx, await readJson(req)) };
  }

  if (path === '/card/v2/charge') {
    requireKey(req, secretKey);
    if (method === 'POST') {
      const json = await readJson(req);
      return isAlipayRequest(json) ? createAlipayCharge(ctx, json) : createCharge(ctx, json);
    }
    requireMethod(method, 'GET');
    const referenceOrder = requestUrl.searchParams.get('reference_order');
    if (!referenceOrder)
      throw new SimError(400, 'invalid_request', 'reference_order query parameter is required');
    return inquiry(ctx, referenceOrder, () =>
      chargeReply(cardPath(ctx.state.chargeByReference(referenceOrder))),
    );
  }

  const match = /^\/card\/v2\/charge\/([^/]+)(?:\/(void|settle|refund))?$/.exec(path);
  if (match) {
    requireKey(req, secretKey);
    const idOrReference = decodeURIComponent(match[1] ?? '');
    const action = match[2];
    if (!action) {
      requireMethod(method, 'GET');
      // One source [1×] says a reference_order also works here; serving both keeps the client's path
      // choice free.
      return inquiry(ctx, idOrReference, () =>
        chargeReply(cardPath(ctx.state.charge(idOrReference) ?? ctx.state.chargeByReference(idOrReference))),
      );
    }
    requireMethod(method, 'POST');
    const charge = cardPath(ctx.state.charge(idOrReference));
    if (!charge) throw new SimError(404, 'charge_not_found', 'no such charge');
    const body = await readJson(req);
    if (action === 'void') return voidCharge(ctx, charge, body);
    if (action === 'settle') return settleCharge(ctx, charge, body);
    return refundCharge(ctx, charge, body);
  }

  if (path === '/v2/transactions') {
    requireKey(req, secretKey);
    requireMethod(method, 'GET');
    return listTransactions(ctx, requestUrl.searchParams);
  }
  if (path === '/_sim/orphans') {
    requireMethod(method, 'POST');
    return orphanReply(ctx, await readJson(req));
  }
  const listing = /^\/_sim\/charges\/([^/]+)\/(unlist|forget)$/.exec(path);
  if (listing) {
    requireMethod(method, 'POST');
    await drain(req);
    const chargeId = pathId(listing[1]);
    if (listing[2] === 'unlist') unlistCharge(ctx, chargeId);
    else forgetCharge(ctx, chargeId);
    return {
      status: 200,
      body: { id: chargeId, [listing[2] === 'unlist' ? 'unlisted' : 'forgotten']: true },
    };
  }

  const asyncReply = await routeAsync(ctx, req, method, path, requestUrl.searchParams);
  if (asyncReply) return asyncReply;

  throw new SimError(404, 'not_found', `no route for ${method} ${path}`);
}

/** QR / WeChat orders, the simulator's control endpoints and pages; undefined when no route matches. */
async function routeAsync(
  ctx: SimContext,
  req: http.IncomingMessage,
  method: string,
  path: string,
  query: URLSearchParams,
): Promise<Reply | undefined> {
  const { secretKey } = ctx.config;
  if (path === '/qr/v2/order') {
    requireKey(req, secretKey);
    requireMethod(method, 'POST');
    return createQrOrder(ctx, await readJson(req));
  }
  const order = /^\/qr\/v2\/order\/([^/]+)$/.exec(path);
  if (order) {
    requireKey(req, secretKey);
    requireMethod(method, 'GET');
    return { status: 200, body: toOrderWire(orderCharge(ctx, pathId(order[1]))) };
  }
  if (path === '/qr/v2/qr') {
    requireKey(req, secretKey);
    requireMethod(method, 'POST');
    return createQr(ctx, await readJson(req));
  }
  const qr = /^\/qr\/v2\/qr\/([^/]+)(?:\/(void|refund))?$/.exec(path);
  if (qr) {
    requireKey(req, secretKey);
    const id = pathId(qr[1]);
    const action = qr[2];
    if (action === 'refund') {
      requireMethod(method, 'POST');
      return refundQr(ctx, qrChargeById(ctx, id), await readJson(req));
    }
    const charge = qrCharge(ctx, id);
    if (!action) {
      requireMethod(method, 'GET');
      return { status: 200, body: toWire(charge) };
    }
    requireMethod(method, 'POST');
    return cancelQr(ctx, charge, await readJson(req));
  }

  const control = /^\/_sim\/(orders|charges)\/([^/]+)\/([a-z]+)$/.exec(path);
  if (control) {
    const [, kind, rawId, action = ''] = control;
    const actions = kind === 'orders' ? ['pay', 'decline', 'abandon'] : ['complete', 'fail'];
    if (!actions.includes(action)) throw new SimError(404, 'not_found', `no route for ${method} ${path}`);
    requireMethod(method, 'POST');
    const fromBrowser = isForm(req);
    await drain(req);
    const id = pathId(rawId);
    const charge = kind === 'orders' ? orderCharge(ctx, id) : anyCharge(ctx, id);
    const done =
      action === 'abandon'
        ? abandon(ctx, charge)
        : await customerAction(ctx, charge, action === 'pay' || action === 'complete');
    const returnTo = query.get('return_to');
    if (fromBrowser && returnTo !== null)
      return { status: 303, body: null, location: checkedReturnUrl(returnTo) };
    return fromBrowser
      ? { status: 200, body: null, html: donePage(done) }
      : { status: 200, body: toWire(done) };
  }
  if (path === '/_sim/charges') {
    // Read-only, for reconciliation checks from another process (npm run chaos): what charges() returns.
    requireMethod(method, 'GET');
    const list = [...ctx.state.charges()].map((charge) => {
      const { tokenId: _token, ...listed } = structuredClone(refresh(ctx, charge));
      return listed;
    });
    return { status: 200, body: { object: 'list', data: list } };
  }
  if (path === '/_sim/faults') {
    requireMethod(method, 'POST');
    return setFaultsReply(ctx, await readJson(req));
  }
  // Before the pages: `/_sim/qr/scan` would otherwise read as the page of an order named "scan".
  if (path === '/_sim/qr/scan') {
    requireMethod(method, 'POST');
    return scanQr(ctx, await readJson(req));
  }
  if (path === '/_sim/card-form') {
    requireMethod(method, 'GET');
    return { status: 200, body: null, html: cardFormPage(query.get('key') ?? '', query.get('origin') ?? '') };
  }
  const page = /^\/_sim\/(3ds|alipay|qr)\/([^/]+)$/.exec(path);
  if (page) {
    requireMethod(method, 'GET');
    return pageReply(ctx, page[1] ?? '', pathId(page[2]), query.get('return_to') ?? undefined);
  }
  return undefined;
}

/** Answers an inquiry; a charge held under that reference (`lands_late`) lands once the answer is made. */
function inquiry(ctx: SimContext, referenceOrder: string, answer: () => Reply): Reply {
  try {
    return answer();
  } finally {
    ctx.state.land(referenceOrder);
  }
}

function chargeReply(charge: SimCharge | undefined): Reply {
  if (!charge) throw new SimError(404, 'charge_not_found', 'no such charge');
  return { status: 200, body: toWire(charge) };
}

function requireKey(req: http.IncomingMessage, expected: string): void {
  if (req.headers['x-api-key'] !== expected) {
    throw new SimError(401, 'unauthorized', 'missing or wrong x-api-key');
  }
}

function requireMethod(actual: string, expected: string): void {
  if (actual !== expected) throw new SimError(405, 'method_not_allowed', `use ${expected}`);
}

/** Path segments are URI-decoded; a malformed escape is the caller's error, not a 500. */
function pathId(segment: string | undefined): string {
  try {
    return decodeURIComponent(segment ?? '');
  } catch {
    throw new SimError(400, 'invalid_request', 'malformed id in the path');
  }
}

function isForm(req: http.IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  if (text === undefined) throw new SimError(413, 'request_too_large', 'body too large');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SimError(400, 'invalid_json', 'body is not valid JSON');
  }
}

/** Reads and discards a body the route does not use (control calls may send none, JSON or a form). */
async function drain(req: http.IncomingMessage): Promise<void> {
  if ((await readBody(req)) === undefined) throw new SimError(413, 'request_too_large', 'body too large');
}
