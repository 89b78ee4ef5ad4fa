/**
 * Request examples for the OpenAPI document, one set per request body, each typed as what a client sends
 * (z.input of the body's schema). test/unit/openapi.test.ts parses every one with the schema the handler uses,
 * so an example that the API would refuse fails the build.
 */
import type * as z from 'zod';
import type {
  CaptureRequestSchema,
  CreatePaymentRequestSchema,
  CreateRefundRequestSchema,
  UpdatePaymentRequestSchema,
} from './api.js';
import type { kbankNotifySchema, kbankThreeDsReturnSchema } from './kbank.js';
import type { GrantPointsRequestSchema } from './points.js';

/** One named example of an OpenAPI media type (the name is the key it is listed under). */
export interface Example<T> {
  summary: string;
  value: T;
}

const ORDER_1001 = {
  id: 'order-1001',
  lines: [
    { sku: 'SKU-TSHIRT', quantity: 2, unit_amount: 35000 },
    { sku: 'SKU-STICKER', quantity: 1, unit_amount: 2500 },
  ],
};

export const CREATE_PAYMENT_EXAMPLES: Record<string, Example<z.input<typeof CreatePaymentRequestSchema>>> = {
  card: {
    summary: 'A card (token from KBank’s card form), captured at once',
    value: {
      amount: 72500,
      currency: 'THB',
      order: ORDER_1001,
      customer: { id: 'cus-42', email: 'somchai@example.com', name: 'Somchai Jaidee' },
      payment_method: { type: 'card', token: 'tokn_test_21733a1d6b5c4f0e9a8d' },
      description: 'Order 1001',
      metadata: { channel: 'web' },
    },
  },
  card_manual_capture: {
    summary: 'A card authorized now, captured later (POST /v1/payments/{id}/capture)',
    value: {
      amount: 72500,
      currency: 'THB',
      order: ORDER_1001,
      customer: { id: 'cus-42' },
      payment_method: { type: 'card', token: 'tokn_test_21733a1d6b5c4f0e9a8d' },
      capture: 'manual',
    },
  },
  thai_qr: {
    summary: 'Thai QR (PromptPay): the customer scans the QR within 5 minutes',
    value: {
      amount: 72500,
      currency: 'THB',
      order: ORDER_1001,
      customer: { id: 'cus-42' },
      payment_method: { type: 'qr_promptpay' },
      action_expires_in: 300,
    },
  },
  wechat_pay: {
    summary: 'WeChat Pay: the customer scans the QR in WeChat',
    value: {
      amount: 35000,
      currency: 'THB',
      order: { id: 'order-1003', lines: [{ sku: 'SKU-TSHIRT', quantity: 1, unit_amount: 35000 }] },
      customer: { id: 'cus-43' },
      payment_method: { type: 'wechat_pay' },
    },
  },
  alipay: {
    summary: 'Alipay: the customer is sent to KBank’s Alipay page',
    value: {
      amount: 19900,
      currency: 'THB',
      order: { id: 'order-1004', lines: [{ sku: 'SKU-MUG', quantity: 1, unit_amount: 19900 }] },
      customer: { id: 'cus-44' },
      payment_method: { type: 'alipay' },
    },
  },
};

export const UPDATE_PAYMENT_EXAMPLES: Record<string, Example<z.input<typeof UpdatePaymentRequestSchema>>> = {
  one_line_less: {
    summary: 'The customer dropped the sticker: 725.00 THB becomes 700.00 THB',
    value: {
      amount: 70000,
      currency: 'THB',
      order: { id: 'order-1001', lines: [{ sku: 'SKU-TSHIRT', quantity: 2, unit_amount: 35000 }] },
    },
  },
};

export const CAPTURE_EXAMPLES: Record<string, Example<z.input<typeof CaptureRequestSchema>>> = {
  all: { summary: 'Capture all of `amount_capturable`', value: {} },
  part: { summary: 'Capture 500.00 THB and release the rest', value: { amount: 50000 } },
};

export const CREATE_REFUND_EXAMPLES: Record<string, Example<z.input<typeof CreateRefundRequestSchema>>> = {
  part: {
    summary: 'Refund 350.00 THB of the payment',
    value: { amount: 35000, reason: 'customer returned one T-shirt' },
  },
  rest: { summary: 'Refund everything still refundable', value: {} },
};

/** What KBank posts to the notify webhook (the checksum is made from our stored amount and KBank's secret). */
export const KBANK_NOTIFY_EXAMPLES: Record<string, Example<z.input<typeof kbankNotifySchema>>> = {
  qr_paid: {
    summary: 'A Thai QR order paid',
    value: {
      id: 'chrg_test_7a1b',
      object: 'charge',
      amount: '725.00',
      currency: 'THB',
      status: 'success',
      transaction_state: 'Authorized',
      order_id: 'order_test_3c4d',
      reference_order: 'pay_01JD3Q4V7M0000000000000000-1',
      checksum: '5e0c7d3f2b9a4e1c8d6f0a2b4c6e8f1a3b5d7f9e0c2a4b6d8f1e3c5a7b9d0f2e',
    },
  },
};

/** The form KBank's 3-D Secure page posts from the customer's browser to the return endpoint. */
export const KBANK_RETURN_EXAMPLES: Record<string, Example<z.input<typeof kbankThreeDsReturnSchema>>> = {
  passed: {
    summary: '3-D Secure passed',
    value: { objectId: 'chrg_test_7a1b', token: 'tokn_test_21733a1d6b5c4f0e9a8d', status: 'true' },
  },
};

export const GRANT_POINTS_EXAMPLES: Record<string, Example<z.input<typeof GrantPointsRequestSchema>>> = {
  welcome: { summary: 'A welcome bonus', value: { points: 500, reason: 'Welcome bonus' } },
  correction: {
    summary: 'A correction after a purchase in a store',
    value: { points: 120, reason: 'Store purchase 2026-11-30, receipt 8841' },
  },
};
