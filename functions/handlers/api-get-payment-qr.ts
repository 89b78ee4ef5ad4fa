/** GET /v1/payments/{id}/qr — the QR the customer scans, as PNG and SVG data URLs. */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { PaymentQrResource } from '../../schemas/api.js';
import { awsRepository } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { qrPngDataUrl, qrSvg } from '../adapters/qr-image.js';
import { ConflictError } from '../core/errors.js';
import { ownedPayment } from '../core/flows/merchant-requests.js';
import type { PaymentRepository } from '../core/repository.js';
import { apiMiddlewares, json, merchantId } from './http.js';
import { paymentIdFrom } from './http-request.js';

export function createGetPaymentQrHandler(repo: () => PaymentRepository) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const payment = await ownedPayment(repo(), merchantId(event), paymentIdFrom(event));
      const action = payment.nextAction;
      if (payment.status !== 'requires_action' || action?.type !== 'display_qr') {
        throw new ConflictError(
          `Payment ${payment.id} has no QR to show (it is ${payment.status}).`,
          'no_qr',
        );
      }
      const svg = await qrSvg(action.qrPayload);
      const body: PaymentQrResource = {
        object: 'payment_qr',
        payment_id: payment.id,
        payload: action.qrPayload,
        png: await qrPngDataUrl(action.qrPayload),
        svg: `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`,
        expires_at: action.expiresAt,
      };
      return json(200, body, { 'Cache-Control': 'no-store' });
    },
  ).use(apiMiddlewares());
}

export const createHandler = (deps: Pick<Dependencies, 'table'>) => createGetPaymentQrHandler(deps.table);

export const handler = createHandler({ table: awsRepository });
