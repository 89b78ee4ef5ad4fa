/**
 * Runtime configuration, read once from the environment through a zod schema that fails fast. Written with
 * zod/mini (the functional API, tree-shaken to what is used): every function reads it, and a function that
 * parses nothing else then bundles no classic zod (about 70 KB).
 */

import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { FeeScheduleSchema } from '../../schemas/settlement-fees.js';

// zod/mini loads no messages of its own; classic zod sets the same English ones when it is loaded.
z.config(en());

const nonEmpty = () => z.string().check(z.minLength(1));
const positiveInt = () => z.coerce.number().check(z.int(), z.positive());
/** A variable holding JSON, parsed, then checked by `schema`. */
const jsonOf = <T extends z.ZodMiniType>(schema: T) =>
  z.pipe(
    z.pipe(
      z.string(),
      z.transform((text: string, ctx) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          ctx.issues.push({ code: 'custom', message: 'not JSON', input: text });
          return z.NEVER;
        }
      }),
    ),
    schema,
  );

const EnvSchema = z.object({
  TABLE_NAME: nonEmpty(),
  EVENT_BUS_NAME: z._default(nonEmpty(), 'payments'),
  STATE_MACHINE_ARN: z.optional(nonEmpty()),
  /** The refund saga: set only on the function that starts refunds. */
  REFUND_STATE_MACHINE_ARN: z.optional(nonEmpty()),
  KBANK_BASE_URL: z._default(z.url(), 'https://dev-kpaymentgateway-services.kasikornbank.com'),
  /** AWS: the secret holding the KBank secret key (`skey_…`). */
  KBANK_SECRET_ARN: z.optional(nonEmpty()),
  /** Local stack only: the key itself. */
  KBANK_SECRET_KEY: z.optional(nonEmpty()),
  KBANK_TIMEOUT_MS: z._default(positiveInt(), 8000),
  COST_SERVICE_URL: z.optional(z.url()),
  COST_SERVICE_API_KEY_SECRET_ARN: z.optional(nonEmpty()),
  COST_SERVICE_API_KEY: z.optional(nonEmpty()),
  COST_SERVICE_TIMEOUT_MS: z._default(positiveInt(), 3000),
  /** Manual capture: how long an authorization waits for the merchant (default 6.5 days). */
  CAPTURE_WINDOW_SECONDS: z.optional(positiveInt()),
  LATE_CHARGE_CHECK_SECONDS: z.optional(positiveInt()),
  /** Thai QR / WeChat Pay: how long the customer has to pay (default 600 s). */
  QR_ACTION_WINDOW_SECONDS: z.optional(positiveInt()),
  /** Alipay / 3-D Secure: how long the customer has to complete the redirect (default 900 s). */
  REDIRECT_ACTION_WINDOW_SECONDS: z.optional(positiveInt()),
  /** The KBank callback endpoints put accepted callbacks on this SQS queue. */
  NOTIFICATION_QUEUE_URL: z.optional(z.url()),
  /** The settlements' fee table as JSON (schemas/settlements.ts FeeScheduleSchema); default in code. */
  SETTLEMENT_FEES: z.optional(jsonOf(FeeScheduleSchema)),
  // Merchant webhooks (docs/api.md "Webhooks").
  /** `public` (https to public addresses only, the default) or `local` (loopback http too: the local stack). */
  WEBHOOK_ENDPOINT_POLICY: z._default(z.enum(['public', 'local']), 'public'),
  /** The Secrets Manager name prefix of the endpoints' signing secrets, e.g. `payments/prod/webhooks/`. */
  WEBHOOK_SECRET_PREFIX: z.optional(nonEmpty()),
  /** The KMS key that encrypts those secrets (the stack's key). */
  WEBHOOK_SECRET_KMS_KEY_ID: z.optional(nonEmpty()),
  WEBHOOK_DELIVERY_QUEUE_URL: z.optional(z.url()),
  WEBHOOK_DEAD_LETTER_QUEUE_URL: z.optional(z.url()),
  /** The retry schedule as a JSON array of seconds (default RETRY_SCHEDULE_SECONDS, 105.6 h). */
  WEBHOOK_RETRY_SCHEDULE_SECONDS: z.optional(
    jsonOf(z.array(z.number().check(z.positive())).check(z.minLength(1), z.maxLength(50))),
  ),
});
export type Env = z.infer<typeof EnvSchema>;

let cached: Env | undefined;

/** The parsed environment; throws one clear error listing every bad variable. */
export function env(source: NodeJS.ProcessEnv = process.env): Env {
  if (source === process.env && cached) return cached;
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  if (source === process.env) cached = parsed.data;
  return parsed.data;
}

/** A variable this handler cannot run without. */
export function required<K extends keyof Env>(config: Env, name: K): NonNullable<Env[K]> {
  const value = config[name];
  if (value === undefined)
    throw new Error(`invalid configuration: ${String(name)} is required by this function`);
  return value as NonNullable<Env[K]>;
}
