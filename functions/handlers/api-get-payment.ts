/** GET /v1/payments/{id} — one payment of the authenticated merchant. */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { PaymentIdSchema } from '../../schemas/api.js';
import { awsRepository } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { NotFoundError } from '../core/errors.js';
import type { PaymentRepository } from '../core/repository.js';
import { getPayment } from '../core/use-cases/read-payments.js';
import { apiMiddlewares, json, merchantId } from './http.js';

export function paymentIdFrom(event: APIGatewayProxyEvent): string {
  const id = event.pathParameters?.id ?? '';
  // A malformed id cannot name anyone's payment: answer like any other unknown id, without echoing it.
  if (!PaymentIdSchema.safeParse(id).success) throw new NotFoundError('No such payment.');
  return id;
}

export function createGetPaymentHandler(repo: () => PaymentRepository) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const payment = await getPayment(
        { repo: repo() },
        { merchantId: merchantId(event), paymentId: paymentIdFrom(event) },
      );
      return json(200, payment);
    },
  ).use(apiMiddlewares());
}

export const createHandler = (deps: Pick<Dependencies, 'table'>) => createGetPaymentHandler(deps.table);

export const handler = createHandler({ table: awsRepository });
