/** How long a payment waits by default: for the customer's QR or redirect, and for the merchant's capture. */

/** Thai QR / WeChat Pay: KBank's other QR product gives 10 minutes [ours]. */
export const DEFAULT_QR_WINDOW_SECONDS = 600;
/** Alipay and 3-D Secure pages. */
export const DEFAULT_REDIRECT_WINDOW_SECONDS = 900;

/**
 * How long a manual-capture authorization waits for the merchant before the saga voids it: KBank card
 * authorizations are held about 7 days; we stop half a day earlier so the void lands in time.
 */
export const DEFAULT_CAPTURE_WINDOW_SECONDS = 7 * 24 * 3600 - 12 * 3600;
