/**
 * Starts the local stack (`npm start`): prints its URLs and which demo merchant key it uses (the key itself
 * only in .local/stack.json, for the benchmark and scripts), and shuts down cleanly on Ctrl-C.
 *   npm start                    in-memory DynamoDB, fixed ports (API on 3000)
 *   npm start -- --persist       keep data in .local between runs and across a crash (DynamoDB, KBank, callbacks)
 *   npm start -- --port 4000     API on another port (KBank +1, cost +2, Step Functions +3, DynamoDB +4)
 *   npm start -- --sweep-interval 5000   the reconciliation sweep's period in ms (0: only on demand)
 *   npm start -- --count-usage   count what AWS would bill (GET /_local/counters, docs/local-stack-internals.md)
 *   npm start -- --settlement-close-interval 60000   the settlement close's period in ms (0: never)
 *   npm start -- --settlement-fees fees.json   the settlements' fee table (docs/api.md "Settlements")
 *   npm start -- --webhook-retry-scale 0.01   shrink the webhook retry schedule (1: as on AWS, 5 s … 30 h)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { keyPrefix } from '../functions/core/api-keys.js';
import { startLocalStack } from '../local/stack.js';
import { FeeScheduleSchema } from '../schemas/settlement-fees.js';

const { values } = parseArgs({
  options: {
    persist: { type: 'boolean', default: false },
    'data-dir': { type: 'string', default: '.local/dynamodb' },
    port: { type: 'string', default: process.env.PORT ?? '3000' },
    'api-key': { type: 'string' },
    'sweep-interval': { type: 'string', default: '5000' },
    'settlement-close-interval': { type: 'string', default: '60000' },
    'settlement-fees': { type: 'string' },
    'count-usage': { type: 'boolean', default: false },
    'webhook-retry-scale': { type: 'string', default: '1' },
  },
});

const port = Number(values.port);
const stateDir = resolve('.local');
mkdirSync(stateDir, { recursive: true });
const persistDir = values.persist ? resolve(values['data-dir']) : undefined;
if (persistDir) mkdirSync(persistDir, { recursive: true });

// A persisted table keeps the demo merchant's key: the next start reuses it rather than adding one more.
const stackFile = resolve(stateDir, 'stack.json');
const keptKey = (): string | undefined => {
  if (!persistDir || !existsSync(stackFile)) return undefined;
  const kept = JSON.parse(readFileSync(stackFile, 'utf8')) as { apiKey?: unknown };
  return typeof kept.apiKey === 'string' ? kept.apiKey : undefined;
};
const apiKey = values['api-key'] ?? keptKey();

const started = Date.now();
console.log('Starting the local stack …');
const stack = await startLocalStack({
  apiPort: port,
  kbankPort: port + 1,
  costPort: port + 2,
  sfnPort: port + 3,
  dynamodbPort: port + 4,
  ...(persistDir ? { persistDir } : {}),
  // .local records what runs (DynamoDB Local's pidfile), so a start after a crash finds what it left behind.
  stateDir,
  ...(apiKey ? { apiKey } : {}),
  // EventBridge Scheduler runs it every minute on AWS; locally more often, so a crash heals in seconds.
  sweepIntervalMs: Number(values['sweep-interval']),
  countUsage: values['count-usage'],
  // Hourly on AWS; a minute here closes a Bangkok day soon after its midnight.
  settlementCloseIntervalMs: Number(values['settlement-close-interval']),
  webhookRetryScale: Number(values['webhook-retry-scale']),
  ...(values['settlement-fees']
    ? {
        settlementFees: FeeScheduleSchema.parse(
          JSON.parse(readFileSync(resolve(values['settlement-fees']), 'utf8')),
        ),
      }
    : {}),
});
// The recovery pass runs behind the ready stack: report it when it is done.
void stack.recovered?.then(({ examined, restarted, errors }) =>
  console.log(
    `Recovered what the last run left open: ${examined} examined, ${restarted} sagas restarted, ${errors} errors.`,
  ),
);

const info = {
  apiUrl: stack.apiUrl,
  kbankUrl: stack.kbankUrl,
  costUrl: stack.costUrl,
  sfnUrl: stack.sfnUrl,
  dynamodbEndpoint: stack.dynamodbEndpoint,
  tableName: stack.tableName,
  merchantId: stack.merchant.id,
  apiKey: stack.merchant.apiKey,
  kbankPublicKey: stack.kbankPublicKey,
};
writeFileSync(stackFile, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });

console.log(`
Local stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s${persistDir ? ` (data kept in ${persistDir})` : ''}

  API              ${stack.apiUrl}   (base URL: paths start with /v1, e.g. ${stack.apiUrl}/v1/health; OpenAPI: ${stack.apiUrl}/openapi.json)
  KBank simulator  ${stack.kbankUrl}          (docs/kbank-simulator.md)
  Cost service     ${stack.costUrl}
  Step Functions   ${stack.sfnUrl}
  DynamoDB Local   ${stack.dynamodbEndpoint}   table "${stack.tableName}"
  Events           ${stack.apiUrl}/_local/events
  Sweep            every ${Number(values['sweep-interval']) / 1000} s     (npm run ops -- unresolved | sweep | reconcile)
  Settlements      closed every ${Number(values['settlement-close-interval']) / 1000} s   (GET /v1/settlements, docs/api.md)
  Webhooks         npm run webhook:listen -- --register   (POST /v1/webhook_endpoints, docs/api.md)

  Demo merchant    ${stack.merchant.id}
  API key          ${keyPrefix(stack.merchant.apiKey)}…   (the whole key: .local/stack.json; more keys: npm run merchant)
  KBank public key ${stack.kbankPublicKey}   (tokenize test cards: POST ${stack.kbankUrl}/card/v2/tokens)

Try it: docs/quickstart.md. Press Ctrl-C to stop.
`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the local stack …`);
  await stack.close();
  console.log('Stopped.');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
