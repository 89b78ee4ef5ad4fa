/**
 * What the KBank callback endpoints put on the notification queue once a callback is accepted: a notify
 * whose checksum matched our stored amount, or a 3-D Secure browser return (never trusted: the processor
 * re-inquires KBank before acting on either). Small on purpose: the processor reads everything else from
 * our table and from KBank.
 * @example {"source":"notify","paymentId":"pay_01JD3Q4V7M0000000000000000","attemptNo":1,"chargeId":"chrg_test_1","state":"Authorized","receivedAt":"2026-11-22T04:00:00.000Z"}
 */
import * as z from 'zod';

export const NotifyCallbackSchema = z.object({
  source: z.literal('notify'),
  paymentId: z.string().min(1),
  /** From the notify's reference_order (`<paymentId>-<attemptNo>`). */
  attemptNo: z.int().positive(),
  chargeId: z.string().min(1),
  /** KBank's transaction_state in the notify (verified by its checksum, still re-inquired). */
  state: z.string().min(1),
  receivedAt: z.iso.datetime(),
});

export const BrowserReturnCallbackSchema = z.object({
  source: z.literal('browser_return'),
  /** The form's `objectId`: a KBank charge id, claimed by a browser. */
  chargeId: z.string().min(1),
  /** The form's `status` ("true" | "false"), recorded only. */
  status: z.string(),
  receivedAt: z.iso.datetime(),
});

export const KbankCallbackSchema = z.discriminatedUnion('source', [
  NotifyCallbackSchema,
  BrowserReturnCallbackSchema,
]);
export type KbankCallback = z.infer<typeof KbankCallbackSchema>;
