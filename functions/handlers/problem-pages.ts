/**
 * The page of every problem `type` (`/problems/<code>`): what the code means, what a client should do and an
 * example body. The one place this text lives: docs/problems.md is generated from it (`npm run openapi`,
 * drift-checked) and the local stack serves each page as HTML at its `type`.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { Problem } from '../../schemas/api.js';
import { ERROR_CODES, type ErrorCode, STATUS_TITLES } from '../core/errors.js';
import { PLAN_NAMES, PLANS } from '../core/plans.js';
import { problemOf, publicDetail } from './http.js';

export interface ProblemPage {
  /** What the answer means. */
  means: string;
  /** What the client should do about it. */
  action: string;
  /** The request of the example body, and its `detail` where the code's detail is the error's message. */
  example: { instance: string; detail?: string };
}

const RETRY_SAME_KEY = 'Retry with the same Idempotency-Key: nothing was carried out twice.';
const NEW_KEY_ONCE_CHANGED =
  'The answer is stored under the Idempotency-Key: read the payment, and send a new request with a new key once it allows it.';

/** A code of our sagas, callbacks or operators: an API client meets it only through a bug of ours. */
const internal = (means: string, instance = '/v1/payments/pay_01JD3Q4V7M0000000000000000/capture') => ({
  means: `${means} This code is our own: it is never an answer by design, and one that reaches you is a bug of ours.`,
  action:
    'Tell us (with the `instance` and the time). If the status is 503, retry with the same Idempotency-Key.',
  example: { instance },
});

const PAYMENT = '/v1/payments/pay_01JD3Q4V7M0000000000000000';

export const PROBLEM_PAGES: Record<ErrorCode, ProblemPage> = {
  validation_failed: {
    means: 'A field, header or query parameter is invalid; `errors` lists each one (`field` and `message`).',
    action: 'Fix the fields `errors` names and send the request again. Nothing was written.',
    example: { instance: '/v1/payments', detail: 'The request body is invalid.' },
  },
  malformed_json: {
    means: 'The body is not JSON.',
    action: 'Send the body as JSON (`Content-Type: application/json`). Nothing was written.',
    example: { instance: '/v1/payments', detail: 'The body is not valid JSON.' },
  },
  malformed_path: {
    means: 'The path is not validly percent-encoded (for example `/v1/payments/%zz`).',
    action: 'Percent-encode the path (each id as it was answered). Nothing was written.',
    example: { instance: '/v1/payments/%zz', detail: 'The path is not validly percent-encoded.' },
  },
  malformed_notification: {
    means: 'KBank webhook only: the notify has no body.',
    action: 'For KBank: send the notify with its JSON body. Merchants never call this route.',
    example: { instance: '/v1/webhooks/kbank', detail: 'Send the KBank notify JSON.' },
  },
  unauthorized: {
    means: 'The API key is missing, unknown, revoked, or past the end of its rotation overlap.',
    action:
      'Send `Authorization: Bearer sk_…` with a current key (`npm run merchant -- list`). A revoked key stops working within 60 s.',
    example: { instance: PAYMENT, detail: 'Send your API key.' },
  },
  insufficient_scope: {
    means:
      'The API key is a restricted key without the scope this call needs (`detail` names it: `payments:write`, `refunds:read`, …). Nothing ran.',
    action:
      'Use a key with that scope: an operator makes one with `npm run merchant -- create-key --merchant <id> --scopes …`, or use the full key on your server.',
    example: { instance: '/v1/payments', detail: 'This key lacks the scope payments:write.' },
  },
  invalid_checksum: {
    means: 'KBank webhook only: the notify’s checksum does not match the amount and currency we stored.',
    action:
      'For KBank: nothing is changed; the payment is settled by our inquiry at KBank, not by this notify.',
    example: {
      instance: '/v1/webhooks/kbank',
      detail: 'The checksum of the notify for chrg_test_7a1b does not match.',
    },
  },
  resource_not_found: {
    means: 'No such resource for you: it does not exist or belongs to another merchant (never told apart).',
    action: 'Check the id, and that you use the key of the merchant that created it.',
    example: { instance: PAYMENT, detail: 'No payment pay_01JD3Q4V7M0000000000000000.' },
  },
  route_not_found: {
    means: 'No route has this path.',
    action: 'Check the path against the API reference; every path starts with `/v1`.',
    example: { instance: '/v1/paymentz' },
  },
  method_not_allowed: {
    means: 'The route exists, not with this method.',
    action: 'Use a method the API reference lists for the path.',
    example: { instance: PAYMENT },
  },
  payload_too_large: {
    means:
      'The body is over 64 KiB: refused on every route (those without a body included) before anything runs.',
    action: 'Send a smaller body. Nothing was written.',
    example: { instance: '/v1/payments', detail: 'Bodies are limited to 65536 bytes.' },
  },
  unsupported_media_type: {
    means: 'The body is not sent as `application/json`.',
    action: 'Send `Content-Type: application/json`. Nothing was written.',
    example: { instance: '/v1/payments', detail: 'Send Content-Type: application/json.' },
  },
  idempotency_key_in_use: {
    means: 'A request with the same Idempotency-Key is still being processed.',
    action: 'Retry shortly with the same key and body: you then get the first request’s answer.',
    example: {
      instance: `${PAYMENT}/capture`,
      detail: 'A request with this Idempotency-Key is still in progress.',
    },
  },
  idempotency_key_reused: {
    means: 'The Idempotency-Key was used before with a different request.',
    action: 'Use a new key for a new request; to retry the first one, send its body unchanged.',
    example: {
      instance: '/v1/payments',
      detail: 'This Idempotency-Key was already used with different parameters.',
    },
  },
  stale_write: {
    means:
      'Other requests kept changing the payment at the same moment for the whole retry budget (rare: only status changes contend).',
    action: `Not stored under the key. ${RETRY_SAME_KEY}`,
    example: { instance: `${PAYMENT}/capture` },
  },
  invalid_transition: {
    means: 'The payment changed meanwhile into a status the request cannot act on.',
    action: `Read the payment. ${NEW_KEY_ONCE_CHANGED}`,
    example: { instance: `${PAYMENT}/cancel`, detail: 'payment pay_… cannot go from succeeded to canceled' },
  },
  payment_not_capturable: {
    means: 'Capture of a payment not in `requires_capture` (`detail` names its status).',
    action: `Capture only payments in \`requires_capture\` (manual capture). ${NEW_KEY_ONCE_CHANGED}`,
    example: {
      instance: `${PAYMENT}/capture`,
      detail: 'Payment pay_… is succeeded; only a payment in requires_capture can be captured.',
    },
  },
  payment_not_cancelable: {
    means: 'Cancel of a payment in a status that does not allow it (`detail` names the status).',
    action: `Cancel only while \`requires_capture\` or \`requires_action\`; refund a succeeded payment. ${NEW_KEY_ONCE_CHANGED}`,
    example: {
      instance: `${PAYMENT}/cancel`,
      detail: 'Payment pay_… is succeeded and can no longer be canceled.',
    },
  },
  payment_cancel_in_progress: {
    means: 'A cancel under another Idempotency-Key is being carried out.',
    action: 'Wait for it: the payment becomes `canceled` (or says why not). Do not send a second cancel.',
    example: {
      instance: `${PAYMENT}/cancel`,
      detail: 'Payment pay_… is already being canceled by another request.',
    },
  },
  amount_not_changeable: {
    means: 'Amount change of a payment not in `requires_capture`.',
    action: `Change the amount only before capture, in manual capture. ${NEW_KEY_ONCE_CHANGED}`,
    example: {
      instance: PAYMENT,
      detail: 'Payment pay_… is succeeded; its amount can change only while it awaits capture.',
    },
  },
  reauthorization_required: {
    means: 'Amount change to more than was authorized.',
    action: 'Cancel the payment and create a new one for the new amount.',
    example: {
      instance: PAYMENT,
      detail:
        '80000 is more than the 72500 authorized: an increase needs a new authorization. Cancel this payment and create a new one for the new amount.',
    },
  },
  payment_not_refundable: {
    means: 'Refund of a payment that is not `succeeded`.',
    action: `Refund only succeeded payments; cancel one in \`requires_capture\`. ${NEW_KEY_ONCE_CHANGED}`,
    example: { instance: `${PAYMENT}/refunds`, detail: 'Payment pay_… is requires_capture, not succeeded.' },
  },
  no_qr: {
    means: '`GET /v1/payments/{id}/qr` of a payment not waiting on a QR.',
    action: 'Show a QR only while the payment is `requires_action` with `next_action.type: display_qr`.',
    example: { instance: `${PAYMENT}/qr`, detail: 'Payment pay_… has no QR to show (it is canceled).' },
  },
  refund_exceeds_refundable: {
    means: 'The refund asks for more than the payment’s `amount_refundable`.',
    action: 'Ask for at most `amount_refundable` (read the payment), under a new Idempotency-Key.',
    example: {
      instance: `${PAYMENT}/refunds`,
      detail: 'The refund of 50000 exceeds the refundable amount of payment pay_…: 37500 THB in minor units.',
    },
  },
  cost_mismatch: {
    means: 'Amount change: the cost service prices the new order differently from the amount asked.',
    action: 'Send the amount the order costs (its lines’ total), under a new Idempotency-Key.',
    example: { instance: PAYMENT, detail: 'The new order costs 70000, not 69000.' },
  },
  points_not_enabled: {
    means: 'Points grant, read or payment for a merchant without a points program.',
    action: 'Ask us to enable a points program for your merchant account; until then, pay without points.',
    example: { instance: '/v1/customers/cus-42/points', detail: 'merchant m_shop has no points program' },
  },
  insufficient_points: {
    means:
      'A points or split payment needs more points than the customer has available (`detail` says how many).',
    action:
      'Use at most the customer’s available points (read their balance), or pay the rest by another method.',
    example: { instance: '/v1/payments', detail: 'customer cus-42 has 300 points available, 725 needed' },
  },
  points_not_refundable: {
    means: 'A refund would give back more points than the payment’s points have left.',
    action: 'Refund at most the points the payment has left (its `tenders`), under a new Idempotency-Key.',
    example: {
      instance: `${PAYMENT}/refunds`,
      detail: 'payment pay_… has 75 committed points left to refund, 100 asked by re_…',
    },
  },
  cost_service_rejected: {
    means: 'Amount change: the cost service cannot price the order (for example an unknown SKU).',
    action: 'Check the order’s lines (SKUs, quantities), then send the change under a new Idempotency-Key.',
    example: { instance: PAYMENT },
  },
  cost_service_unavailable: {
    means: 'Amount change: the cost service could not be reached or failed.',
    action: RETRY_SAME_KEY,
    example: { instance: PAYMENT },
  },
  internal_error: {
    means: 'Our fault: something failed on our side. Nothing is left half-done; the details are in our logs.',
    action: RETRY_SAME_KEY,
    example: { instance: '/v1/payments' },
  },
  bad_request: {
    means: 'API Gateway refused the request before any of our code ran (a 4xx it has no other code for).',
    action: 'Check the request against the API reference (method, path, headers).',
    example: { instance: '/v1/payments', detail: 'Invalid request' },
  },
  forbidden: {
    means: 'Refused by API Gateway or its web application firewall (a known bad input, a blocked address).',
    action:
      'Do not retry the same request; if you think it is legitimate, tell us with the time it was sent.',
    example: { instance: '/v1/payments', detail: 'Forbidden' },
  },
  rate_limited: {
    means: `More requests this second than your plan’s rate and burst allow (${PLAN_NAMES.map((name) => `${name} ${PLANS[name].rateLimit}/s, bursts of ${PLANS[name].burstLimit}`).join('; ')}), or than the stage allows (200/s, bursts of 400; KBank’s 3-D Secure return 50/s). Nothing ran and the Idempotency-Key is still unused.`,
    action: `Wait \`Retry-After\` seconds, then retry. ${RETRY_SAME_KEY}`,
    example: {
      instance: '/v1/payments',
      detail:
        'Your plan allows 10 requests/s with bursts of 20; retry after 1 s with the same Idempotency-Key.',
    },
  },
  quota_exceeded: {
    means: `Your plan’s daily quota (${PLAN_NAMES.filter((name) => PLANS[name].dailyQuota !== undefined)
      .map((name) => `${name}: ${PLANS[name].dailyQuota} requests a UTC day`)
      .join('; ')}) is used up. Nothing ran and the Idempotency-Key is still unused.`,
    action:
      'Retry after `Retry-After` seconds (the local stack: exactly at 00:00 UTC; AWS answers 3600), or ask us to move you to a larger plan.',
    example: {
      instance: '/v1/payments',
      detail: 'Your plan allows 10000 requests a day (UTC); retry after 3600 s.',
    },
  },
  upstream_timeout: {
    means:
      'Our function did not answer API Gateway in time: the request may or may not have been carried out.',
    action: `${RETRY_SAME_KEY} Without a key (a read), simply retry.`,
    example: { instance: '/v1/payments', detail: 'Endpoint request timed out' },
  },
  not_capturable: internal('A saga step found the payment not capturable.'),
  not_waiting: internal('A callback found no saga step waiting for it.'),
  no_captured_charge: internal('A refund step found no captured charge at KBank.'),
  may_hold_money: internal('A step refused to end a payment that may still hold money at KBank.'),
  reservation_missing: internal('A step found no points reservation where one was expected.'),
  saga_not_waiting_yet: internal('A paid callback came before the saga stored the token it waits on.'),
  cost_not_verified: internal('A step ran before the order’s cost was verified.'),
  kbank_unavailable: internal('KBank could not be reached; the request never left us.'),
  kbank_outcome_unknown: internal('KBank may or may not have acted; we inquire before anything else.'),
  kbank_rejected: internal('KBank refused a request of ours.'),
  outcome_still_unknown: internal('An inquiry at KBank still cannot tell the outcome.'),
  event_not_published: internal('A change is recorded but its events are not published yet.'),
};

/** The example body of a code's page, as the API would answer it. */
export function exampleProblem(code: ErrorCode): Problem {
  const { example } = PROBLEM_PAGES[code];
  const spec = ERROR_CODES[code];
  const detail =
    spec.audience === 'gateway' ? example.detail : publicDetail(code, example.detail ?? 'the message');
  const problem = problemOf(code, example.instance, detail);
  return code === 'validation_failed'
    ? { ...problem, errors: [{ field: 'amount', message: 'Too small: expected number to be >0' }] }
    : problem;
}

const ANSWERED_BY: Record<(typeof ERROR_CODES)[ErrorCode]['audience'], string> = {
  merchant: 'the API',
  gateway: 'API Gateway, before any of our code runs',
  internal: 'nobody by design (our sagas’, callbacks’ and operators’ own)',
};

function heading(code: ErrorCode): string {
  const { status } = ERROR_CODES[code];
  return `${status} ${STATUS_TITLES[status]}`;
}

/** Where `npm run openapi` writes problemsMarkdown(). */
export const PROBLEMS_DOC_PATH = new URL('../../docs/problems.md', import.meta.url);

/** docs/problems.md: an index, then one section per code (its anchor is the code). */
export function problemsMarkdown(): string {
  // By status, then in the catalog's order (its groups: the edge, the key, the payment, …).
  const codes = (Object.keys(PROBLEM_PAGES) as ErrorCode[]).sort(
    (a, b) => ERROR_CODES[a].status - ERROR_CODES[b].status,
  );
  const lines = [
    '# Problem types',
    '',
    '<!-- Generated from functions/handlers/problem-pages.ts by `npm run openapi`: edit that file, not this one. -->',
    '',
    'Every error the API answers is an RFC 9457 `application/problem+json` body whose `type` is',
    '`/problems/<code>`, resolved against the API’s origin: the local stack serves each page below at that path',
    '(`http://127.0.0.1:3000/problems/validation_failed`). Act on `code` (stable), not on `title` or `detail`.',
    '',
    '| status | code | answered by |',
    '|---|---|---|',
    ...codes.map(
      (code) =>
        `| ${ERROR_CODES[code].status} | [\`${code}\`](#${code}) | ${ANSWERED_BY[ERROR_CODES[code].audience]} |`,
    ),
  ];
  for (const code of codes) {
    const page = PROBLEM_PAGES[code];
    lines.push(
      '',
      `## ${code}`,
      `**${heading(code)}** · \`type: /problems/${code}\` · answered by ${ANSWERED_BY[ERROR_CODES[code].audience]}`,
      '',
      page.means,
      '',
      `**What to do:** ${page.action}`,
      '',
      '```json',
      JSON.stringify(exampleProblem(code), null, 2),
      '```',
    );
  }
  return `${lines.join('\n')}\n`;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
/** Markdown's inline code as HTML: the pages' only markup. */
const inline = (text: string) => escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');

/** The page a `type` names, as HTML; undefined for a code that is not in the catalog. */
export function problemPageHtml(code: string): string | undefined {
  if (!Object.hasOwn(PROBLEM_PAGES, code)) return undefined;
  const known = code as ErrorCode;
  const page = PROBLEM_PAGES[known];
  return [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(code)} · ${heading(known)}</title></head><body>`,
    `<h1>${escapeHtml(code)}</h1>`,
    `<p><strong>${heading(known)}</strong> · answered by ${escapeHtml(ANSWERED_BY[ERROR_CODES[known].audience])}</p>`,
    `<h2>What it means</h2><p>${inline(page.means)}</p>`,
    `<h2>What to do</h2><p>${inline(page.action)}</p>`,
    `<h2>Example</h2><pre>${escapeHtml(JSON.stringify(exampleProblem(known), null, 2))}</pre>`,
    '</body></html>',
    '',
  ].join('\n');
}

/** The answer to `GET /problems/<code>` (a problem's `type`); undefined for any other path. */
export function problemPageResponse(path: string): APIGatewayProxyResult | undefined {
  const code = /^\/problems\/([a-z_]+)$/.exec(path)?.[1];
  const html = code === undefined ? undefined : problemPageHtml(code);
  if (html === undefined) return undefined;
  return { statusCode: 200, headers: { 'Content-Type': 'text/html; charset=utf-8' }, body: html };
}
