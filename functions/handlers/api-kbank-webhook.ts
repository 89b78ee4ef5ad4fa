/**
 * POST /v1/webhooks/kbank — KBank's notify (no API key: KBank cannot send one). The checksum is verified
 * against our stored amount and currency and the notify is queued durably before KBank gets its 200;
 * a forged or tampered one gets 401 and is recorded on the payment.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { awsCallbackIntakeDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { RequestRefused } from '../core/errors.js';
import { acceptNotify, type CallbackIntakeDeps } from '../core/use-cases/callbacks/kbank-callbacks.js';
import { apiMiddlewares, json } from './http.js';
import { logger } from './logger.js';

export function createKbankWebhookHandler(deps: () => CallbackIntakeDeps) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      // Bodies over MAX_BODY_BYTES never get here (bodyLimit answers 413).
      const raw = event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64') : event.body;
      if (!raw) {
        throw new RequestRefused('malformed_notification', 'Send the KBank notify JSON.');
      }
      const accepted = await acceptNotify(deps(), raw);
      logger.info('kbank notify queued', accepted);
      return json(200, { received: true });
    },
  ).use(apiMiddlewares());
}

export const createHandler = (deps: Pick<Dependencies, 'callbackIntake'>) =>
  createKbankWebhookHandler(deps.callbackIntake);

export const handler = createHandler({ callbackIntake: awsCallbackIntakeDeps });
