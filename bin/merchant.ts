/**
 * Merchants and their API keys (`npm run merchant -- <command>`), against the running local stack
 * (.local/stack.json, or --stack FILE) or, with --table NAME --stage STAGE and AWS credentials in the
 * environment, a deployment (its table, and its usage plans `payments-<stage>-<plan>` in API Gateway). A
 * new key is printed once; nothing else ever prints one.
 *   create --name NAME [--id merchant_x] [--live] [--plan P]   a merchant and its first key (plans:
 *                                                   starter, standard (default), enterprise)
 *   plan --merchant ID --plan P                     moves the merchant to another plan
 *   list                                            every merchant
 *   list --merchant ID                              its keys: id, prefix, status, created, valid until
 *   create-key --merchant ID --scopes S1,S2 [--expires-in 30d]   a restricted key: only those scopes
 *                                                   (payments:read, refunds:write, …), until it expires
 *   rotate --merchant ID [--overlap 24h]            a new full key; the old full ones work for the overlap
 *                                                   (s, m, h or d; 0 ends them now; at most 7d)
 *   revoke --merchant ID --key KEY_ID               the key stops working (AWS: within the authorizer's
 *                                                   cache TTL, 60 s by default)
 * Add --json for machine-readable output. Exit codes: 0 done, 1 refused (nothing written), 2 usage.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ApiGatewayUsagePlans } from '../functions/adapters/api-gateway-usage-plans.js';
import { createDocumentClient, dynamoTable } from '../functions/adapters/dynamo-repository.js';
import { SCOPES } from '../functions/core/api-keys.js';
import { PaymentError, ValidationError } from '../functions/core/errors.js';
import { DEFAULT_PLAN, PLAN_NAMES } from '../functions/core/plans.js';
import { systemClock } from '../functions/core/ports.js';
import {
  changePlan,
  createMerchant,
  createRestrictedKey,
  type KeyView,
  listMerchantKeys,
  type MerchantKeyDeps,
  revokeKey,
  rotateKey,
} from '../functions/core/use-cases/operations/merchant-keys.js';
import { localDynamoClientConfig } from '../local/dynamodb-local.js';

const USAGE = `usage: npm run merchant -- create --name NAME [--id merchant_x] [--live] [--plan PLAN]
       npm run merchant -- plan --merchant ID --plan PLAN
       npm run merchant -- list [--merchant ID]
       npm run merchant -- create-key --merchant ID --scopes SCOPE,SCOPE [--expires-in 30d]
       npm run merchant -- rotate --merchant ID [--overlap 24h]
       npm run merchant -- revoke --merchant ID --key KEY_ID
options: --json, --stack FILE (default .local/stack.json), --table NAME --stage STAGE (a deployment)
plans: ${PLAN_NAMES.join(', ')} (default ${DEFAULT_PLAN})
scopes: ${SCOPES.join(', ')}`;

class UsageError extends Error {}

/** `90`, `90s`, `15m`, `24h`, `7d` → seconds (`option` names the flag in the error). */
function parseDuration(text: string, option = 'overlap'): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!match) throw new UsageError(`--${option} ${text}: expected a number with s, m, h or d (e.g. 24h)`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

function target(values: {
  stack?: string | undefined;
  table?: string | undefined;
  stage?: string | undefined;
}) {
  if (values.table) {
    if (!values.stage) throw new UsageError('--table needs --stage (whose usage plans hold the merchants)');
    return {
      where: `table ${values.table}`,
      table: values.table,
      client: new DynamoDBClient({}),
      usagePlans: new ApiGatewayUsagePlans(new APIGatewayClient({}), `payments-${values.stage}`),
    };
  }
  const file = resolve(values.stack ?? '.local/stack.json');
  if (!existsSync(file)) {
    throw new UsageError(`${file} is missing: start the local stack (npm start), or name a table (--table)`);
  }
  const info = JSON.parse(readFileSync(file, 'utf8')) as { dynamodbEndpoint: string; tableName: string };
  return {
    where: `local stack (table ${info.tableName})`,
    table: info.tableName,
    client: new DynamoDBClient(localDynamoClientConfig(info.dynamodbEndpoint)),
  };
}

const row = (key: KeyView) =>
  [
    key.keyId,
    `${key.prefix}…`,
    key.status.padEnd(8),
    key.createdAt,
    key.validUntil ?? key.revokedAt ?? '',
    key.scopes ? `scopes ${key.scopes.join(' ')}` : '',
  ]
    .join('  ')
    .trimEnd();

/** What the command prints to (the console; tests pass their own). */
export interface Output {
  log(line: string): void;
  error(line: string): void;
}

/** Runs one command; resolves with its exit code. Usage errors are 2 here too. */
export async function run(argv: string[], out: Output = console): Promise<number> {
  try {
    return await runCommand(argv, out);
  } catch (error) {
    if (!(error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
      throw error;
    }
    out.error((error as Error).message);
    if (!(error instanceof UsageError && error.message === USAGE)) out.error(USAGE);
    return 2;
  }
}

async function runCommand(argv: string[], out: Output): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      id: { type: 'string' },
      live: { type: 'boolean', default: false },
      merchant: { type: 'string' },
      key: { type: 'string' },
      overlap: { type: 'string', default: '24h' },
      json: { type: 'boolean', default: false },
      stack: { type: 'string' },
      table: { type: 'string' },
      stage: { type: 'string' },
      plan: { type: 'string' },
      scopes: { type: 'string' },
      'expires-in': { type: 'string' },
    },
  });
  const [command] = positionals;
  const need = (name: 'name' | 'merchant' | 'key' | 'plan' | 'scopes') => {
    const value = values[name];
    if (!value) throw new UsageError(`${command} needs --${name}`);
    return value;
  };
  if (!command || !['create', 'plan', 'create-key', 'list', 'rotate', 'revoke'].includes(command)) {
    throw new UsageError(USAGE);
  }
  const overlapSeconds = command === 'rotate' ? parseDuration(values.overlap) : 0;
  const expiresIn = values['expires-in'];
  const expiresInSeconds = expiresIn === undefined ? undefined : parseDuration(expiresIn, 'expires-in');

  const t = target(values);
  const deps: MerchantKeyDeps = {
    merchants: dynamoTable(createDocumentClient(t.client), t.table),
    clock: systemClock,
    ...('usagePlans' in t ? { usagePlans: t.usagePlans } : {}),
  };
  const print = (json: unknown, text: string) => out.log(values.json ? JSON.stringify(json, null, 2) : text);
  try {
    if (command === 'create') {
      const made = await createMerchant(deps, {
        name: need('name'),
        ...(values.id ? { id: values.id } : {}),
        ...(values.plan ? { plan: values.plan } : {}),
        mode: values.live ? 'live' : 'test',
      });
      print(
        { merchant: made.merchant, key: made.key, api_key: made.apiKey },
        `Merchant ${made.merchant.id} (${made.merchant.name}, plan ${made.merchant.plan}) in ${t.where}\n` +
          `  key ${made.key.keyId}: ${made.apiKey}\n` +
          '  Shown once: store it now (a secrets manager, not the code). Lost keys are rotated, not recovered.',
      );
    } else if (command === 'plan') {
      const moved = await changePlan(deps, { merchantId: need('merchant'), plan: need('plan') });
      print(moved, `${moved.id} (${moved.name}) is on plan ${moved.plan} in ${t.where}.`);
    } else if (command === 'create-key') {
      const made = await createRestrictedKey(deps, {
        merchantId: need('merchant'),
        scopes: need('scopes')
          .split(',')
          .map((scope) => scope.trim())
          .filter(Boolean),
        ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
        mode: values.live ? 'live' : 'test',
      });
      print(
        { key: made.key, api_key: made.apiKey },
        `Restricted key ${made.key.keyId} for ${made.key.merchantId}: ${made.apiKey}\n` +
          `  scopes ${made.key.scopes?.join(' ')}; ${made.key.validUntil ? `works until ${made.key.validUntil}` : 'no expiry'}\n` +
          '  Shown once: store it now.',
      );
    } else if (command === 'list' && !values.merchant) {
      const merchants = await deps.merchants.listMerchants();
      print(
        merchants,
        [
          `${merchants.length} merchants in ${t.where}`,
          ...merchants.map((m) => `  ${m.id}  ${(m.plan ?? DEFAULT_PLAN).padEnd(10)}  ${m.name}`),
        ].join('\n'),
      );
    } else if (command === 'list') {
      const { merchant, keys } = await listMerchantKeys(deps, need('merchant'));
      print(
        { merchant, keys },
        [`${merchant.id} (${merchant.name}): ${keys.length} keys`, ...keys.map((k) => `  ${row(k)}`)].join(
          '\n',
        ),
      );
    } else if (command === 'rotate') {
      const rotated = await rotateKey(deps, { merchantId: need('merchant'), overlapSeconds });
      print(
        { key: rotated.key, api_key: rotated.apiKey, expiring: rotated.expiring },
        [
          `New key ${rotated.key.keyId} for ${rotated.key.merchantId}: ${rotated.apiKey}`,
          '  Shown once: store it now.',
          ...rotated.expiring.map((k) => `  old ${k.keyId} (${k.prefix}…) works until ${k.validUntil}`),
        ].join('\n'),
      );
    } else {
      const revoked = await revokeKey(deps, { merchantId: need('merchant'), keyId: need('key') });
      print(
        revoked,
        `Revoked ${revoked.keyId} (${revoked.prefix}…) of ${revoked.merchantId} at ${revoked.revokedAt}.` +
          (values.table ? ' Cached authorizations end within the cache TTL (60 s by default).' : ''),
      );
    }
    return 0;
  } catch (error) {
    if (!(error instanceof PaymentError)) throw error;
    const details = error instanceof ValidationError ? error.details : [];
    if (values.json) out.error(JSON.stringify({ code: error.code, message: error.message, details }));
    else out.error([error.message, ...details.map((d) => `  ${d.field}: ${d.message}`)].join('\n'));
    return 1;
  } finally {
    t.client.destroy();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  process.exitCode = await run(process.argv.slice(2));
}
