/**
 * The closed vocabularies of the domain that the API publishes as enums: payment statuses, payment method
 * types, refund statuses. A leaf module: schemas/api.ts builds its enums from it without importing the
 * aggregates (payment.ts, refund.ts), whose records hold the events schemas/events.ts builds from the API.
 */
export const PAYMENT_STATUSES = [
  'processing',
  'requires_action',
  'requires_capture',
  'unknown',
  'succeeded',
  'canceled',
  'failed',
  'rejected',
  'expired',
] as const;

export const PAYMENT_METHOD_TYPES = ['card', 'qr_promptpay', 'wechat_pay', 'alipay'] as const;

export const REFUND_STATUSES = ['pending', 'succeeded', 'failed', 'unknown'] as const;
