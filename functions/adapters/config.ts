/** Runtime configuration, read once from the environment through a zod schema that fails fast. */
import * as z from 'zod';
import { FeeScheduleSchema } from '../../schemas/settlement-fees.js';

const EnvSchema = z.object({
  TABLE_NAME: z.string().min(1),
  EVENT_BUS_NAME: z.string().min(1).default('payments'),
  STATE_MACHINE_ARN: z.string().min(1).optional(),
  /** The refund saga: set only on the function that starts refunds. */
  REFUND_STATE_MACHINE_ARN: z.string().min(1).optional(),
  KBANK_BASE_URL: z.url().default('https://dev-kpaymentgateway-services.kasikornbank.com'),
  /** AWS: the secret holding the KBank secret key (`skey_…`). */
  KBANK_SECRET_ARN: z.string().min(1).optional(),
  /** Local stack only: the key itself. */
  KBANK_SECRET_KEY: z.string().min(1).optional(),
  KBANK_TIMEOUT_MS: z.coerce.number().int().positive().default(8000),
  COST_SERVICE_URL: z.url().optional(),
  COST_SERVICE_API_KEY_SECRET_ARN: z.string().min(1).optional(),
  COST_SERVICE_API_KEY: z.string().min(1).optional(),
  COST_SERVICE_TIMEOUT_MS: z.coerce.number().int().positive().default(3000),
  /** Manual capture: how long an authorization waits for the merchant (default 6.5 days). */
  CAPTURE_WINDOW_SECONDS: z.coerce.number().int().positive().optional(),
  LATE_CHARGE_CHECK_SECONDS: z.coerce.number().int().positive().optional(),
  /** Thai QR / WeChat Pay: how long the customer has to pay (default 600 s). */
  QR_ACTION_WINDOW_SECONDS: z.coerce.number().int().positive().optional(),
  /** Alipay / 3-D Secure: how long the customer has to complete the redirect (default 900 s). */
  REDIRECT_ACTION_WINDOW_SECONDS: z.coerce.number().int().positive().optional(),
  /** The KBank callback endpoints put accepted callbacks on this SQS queue. */
  NOTIFICATION_QUEUE_URL: z.url().optional(),
  /** The settlements' fee table as JSON (schemas/settlements.ts FeeScheduleSchema); default in code. */
  SETTLEMENT_FEES: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not JSON' });
        return z.NEVER;
      }
    })
    .pipe(FeeScheduleSchema)
    .optional(),
  // Merchant webhooks (docs/api.md "Webhooks").
  /** `public` (https to public addresses only, the default) or `local` (loopback http too: the local stack). */
  WEBHOOK_ENDPOINT_POLICY: z.enum(['public', 'local']).default('public'),
  /** The Secrets Manager name prefix of the endpoints' signing secrets, e.g. `payments/prod/webhooks/`. */
  WEBHOOK_SECRET_PREFIX: z.string().min(1).optional(),
  /** The KMS key that encrypts those secrets (the stack's key). */
  WEBHOOK_SECRET_KMS_KEY_ID: z.string().min(1).optional(),
  WEBHOOK_DELIVERY_QUEUE_URL: z.url().optional(),
  WEBHOOK_DEAD_LETTER_QUEUE_URL: z.url().optional(),
  /** The retry schedule as a JSON array of seconds (default RETRY_SCHEDULE_SECONDS, 105.6 h). */
  WEBHOOK_RETRY_SCHEDULE_SECONDS: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not JSON' });
        return z.NEVER;
      }
    })
    .pipe(z.array(z.number().positive()).min(1).max(50))
    .optional(),
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
