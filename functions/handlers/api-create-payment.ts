/** POST /v1/payments — create a card payment under an Idempotency-Key and start its saga. */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { type CreatePaymentRequest, CreatePaymentRequestSchema } from '../../schemas/api.js';
import { awsApiDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import type { Payment } from '../core/payment.js';
import {
  type CreatePaymentDeps,
  createPayment,
  type NewPaymentRequest,
} from '../core/use-cases/api/create-payment.js';
import { paymentView } from '../core/views.js';
import { apiMiddlewares, json, merchantId } from './http.js';
import { idempotencyKey, jsonBody } from './http-request.js';
import { keyClaim, replay } from './idempotency.js';

export const CREATE_PAYMENT_OPERATION = 'POST /v1/payments';

export function createCreatePaymentHandler(deps: () => CreatePaymentDeps) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const merchant = merchantId(event);
      const key = idempotencyKey(event);
      const request = jsonBody(event, CreatePaymentRequestSchema);
      const use = deps();
      const keyed = { merchantId: merchant, operation: CREATE_PAYMENT_OPERATION, key, request };
      const creation = await createPayment(use, {
        merchantId: merchant,
        request: newPaymentRequest(request),
        claim: (payment) => keyClaim(keyed, created(payment), use.clock.now()),
      });
      return creation.kind === 'created' ? created(creation.payment) : replay(creation.response);
    },
  ).use(apiMiddlewares());
}

function created(payment: Payment): APIGatewayProxyResult {
  return json(201, paymentView(payment), { Location: `/v1/payments/${payment.id}` });
}

function newPaymentRequest(request: CreatePaymentRequest): NewPaymentRequest {
  return {
    amount: request.amount,
    currency: request.currency,
    captureMethod: request.capture,
    order: {
      id: request.order.id,
      lines: request.order.lines.map((line) => ({
        sku: line.sku,
        quantity: line.quantity,
        unitAmount: line.unit_amount,
      })),
    },
    customer: request.customer,
    paymentMethod: request.payment_method,
    ...(request.points === undefined ? {} : { points: request.points.amount }),
    ...(request.action_expires_in === undefined ? {} : { actionWindowSeconds: request.action_expires_in }),
    ...(request.description === undefined ? {} : { description: request.description }),
    ...(request.metadata === undefined ? {} : { metadata: request.metadata }),
  };
}

export const createHandler = (deps: Pick<Dependencies, 'createPayment'>) =>
  createCreatePaymentHandler(deps.createPayment);

export const handler = createHandler({ createPayment: awsApiDeps });
