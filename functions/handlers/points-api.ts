/** What the points API handlers share: the merchant and the `{customer_id}` of the path, parsed. */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { CustomerIdSchema } from '../../schemas/points.js';
import { NotFoundError } from '../core/errors.js';
import { merchantId } from './http.js';

export interface CustomerRequest {
  merchantId: string;
  customerId: string;
}

/** The merchant and the customer of the path; a malformed customer id names no one's customer (404). */
export function customerRequest(event: APIGatewayProxyEvent): CustomerRequest {
  const merchant = merchantId(event);
  const customerId = event.pathParameters?.customer_id ?? '';
  if (!CustomerIdSchema.safeParse(customerId).success) throw new NotFoundError('No such customer.');
  return { merchantId: merchant, customerId };
}
