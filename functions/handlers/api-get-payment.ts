/** GET /v1/payments/{id} — one payment of the authenticated merchant. */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { awsRepository } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import type { PaymentRepository } from '../core/repository.js';
import { getPayment } from '../core/use-cases/api/read-payments.js';
import { paymentView } from '../core/views.js';
import { apiMiddlewares, json, merchantId } from './http.js';
import { paymentIdFrom } from './http-request.js';

export function createGetPaymentHandler(repo: () => PaymentRepository) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const payment = await getPayment(
        { repo: repo() },
        { merchantId: merchantId(event), paymentId: paymentIdFrom(event) },
      );
      return json(200, paymentView(payment));
    },
  ).use(apiMiddlewares());
}

export const createHandler = (deps: Pick<Dependencies, 'table'>) => createGetPaymentHandler(deps.table);

export const handler = createHandler({ table: awsRepository });
