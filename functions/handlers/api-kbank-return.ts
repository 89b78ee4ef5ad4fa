/**
 * POST /v1/webhooks/kbank/return — where KBank sends the customer's browser after 3-D Secure, with a form
 * `{objectId, token, status}`. Nothing in it is trusted: the charge id is queued for the processor, which
 * asks KBank. The customer sees a short page; the merchant's page follows the payment's status.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { awsBrowserReturnDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { acceptBrowserReturn, type CallbackIntakeDeps } from '../core/use-cases/callbacks/kbank-callbacks.js';
import { apiMiddlewares } from './http.js';

const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Payment received</title>
<meta name="viewport" content="width=device-width,initial-scale=1"></head>
<body><h1>Thank you</h1><p>Your payment is being confirmed. You can return to the shop.</p></body></html>`;

export function createKbankReturnHandler(deps: () => Pick<CallbackIntakeDeps, 'queue' | 'clock'>) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const raw =
        event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
      // Bodies over MAX_BODY_BYTES never get here (bodyLimit answers 413).
      const form = new URLSearchParams(raw ?? '');
      await acceptBrowserReturn(deps(), {
        ...(form.get('objectId') === null ? {} : { objectId: form.get('objectId') ?? '' }),
        ...(form.get('status') === null ? {} : { status: form.get('status') ?? '' }),
      });
      return {
        statusCode: 200,
        headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' },
        body: PAGE,
      };
    },
  ).use(apiMiddlewares());
}

export const createHandler = (deps: Pick<Dependencies, 'browserReturn'>) =>
  createKbankReturnHandler(deps.browserReturn);

export const handler = createHandler({ browserReturn: awsBrowserReturnDeps });
