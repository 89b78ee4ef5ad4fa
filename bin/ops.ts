/**
 * Operator commands (`npm run ops -- <command>`), against the local stack (.local/stack.json) or, with
 * TABLE_NAME / STATE_MACHINE_ARN / REFUND_STATE_MACHINE_ARN and AWS credentials in the environment, a
 * deployment:
 *   unresolved          payments and refunds the sweep gave up to an operator (runbook: "Unresolved")
 *   sweep [--all]       one reconciliation pass now; --all: every open item, whatever its deadline
 *   reconcile [--date YYYY-MM-DD]
 *                       the KBank reconciliation of one Bangkok business day (default: yesterday); a
 *                       deployment also needs KBANK_SECRET_KEY (or run the scheduled function instead)
 *   runs --date YYYY-MM-DD
 *                       the stored reconciliation runs of a day, with their exceptions
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { createDocumentClient, dynamoTable } from '../functions/adapters/dynamo-repository.js';
import { createKbankClient } from '../functions/adapters/kbank-client.js';
import { StepFunctionsWorkflow } from '../functions/adapters/sfn-workflow.js';
import { type Kbank, systemClock } from '../functions/core/ports.js';
import type { ReconciliationRun } from '../functions/core/repository.js';
import { DEFAULT_CAPTURE_WINDOW_SECONDS } from '../functions/core/time-windows.js';
import { reconcileKbank } from '../functions/core/use-cases/operations/reconcile-kbank.js';
import { sweep } from '../functions/core/use-cases/operations/sweep.js';
import { yesterdayInBangkok } from '../functions/handlers/ops-reconcile-kbank.js';
import { localDynamoClientConfig } from '../local/dynamodb-local.js';
import { KBANK_SECRET as LOCAL_KBANK_SECRET } from '../local/stack.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    all: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    date: { type: 'string' },
  },
});

interface Target {
  tableName: string;
  dynamodb: DynamoDBClient;
  sfn: SFNClient;
  stateMachineArn: string;
  refundStateMachineArn: string;
  kbankUrl: string;
  kbankSecret: string | undefined;
  where: string;
}

/** The local stack when it runs (its stack.json), else the deployment the environment names. */
function target(): Target {
  const local = resolve('.local/stack.json');
  if (!process.env.TABLE_NAME && existsSync(local)) {
    const info = JSON.parse(readFileSync(local, 'utf8')) as {
      dynamodbEndpoint: string;
      tableName: string;
      sfnUrl: string;
      kbankUrl: string;
    };
    const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    return {
      tableName: info.tableName,
      dynamodb: new DynamoDBClient(localDynamoClientConfig(info.dynamodbEndpoint)),
      sfn: new SFNClient({ endpoint: info.sfnUrl, region: 'us-east-1', credentials }),
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:payment-saga',
      refundStateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:refund-saga',
      kbankUrl: info.kbankUrl,
      kbankSecret: LOCAL_KBANK_SECRET,
      where: `local stack (${info.dynamodbEndpoint}, table ${info.tableName})`,
    };
  }
  const need = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set (and no local stack: .local/stack.json is missing)`);
    return value;
  };
  return {
    tableName: need('TABLE_NAME'),
    dynamodb: new DynamoDBClient({}),
    sfn: new SFNClient({}),
    stateMachineArn: process.env.STATE_MACHINE_ARN ?? '',
    refundStateMachineArn: process.env.REFUND_STATE_MACHINE_ARN ?? '',
    kbankUrl: process.env.KBANK_BASE_URL ?? 'https://dev-kpaymentgateway-services.kasikornbank.com',
    kbankSecret: process.env.KBANK_SECRET_KEY,
    where: `table ${need('TABLE_NAME')}`,
  };
}

async function main(): Promise<number> {
  const command = positionals[0];
  const t = target();
  const repo = dynamoTable(createDocumentClient(t.dynamodb), t.tableName);
  try {
    if (command === 'unresolved') {
      const items = await repo.listUnresolved(1000);
      const rows = await Promise.all(
        items.map(async (item) => {
          if (item.kind === 'refund' && item.refundId) {
            const refund = await repo.getRefund(item.paymentId, item.refundId);
            return { ...item, status: refund?.status, reason: refund?.reconciliation?.reason };
          }
          const payment = await repo.get(item.paymentId);
          return { ...item, status: payment?.status, reason: payment?.reconciliation?.reason };
        }),
      );
      if (values.json) console.log(JSON.stringify(rows, null, 2));
      else {
        console.log(`${rows.length} unresolved in ${t.where}`);
        for (const row of rows) {
          const id = row.refundId ? `${row.paymentId} / ${row.refundId}` : row.paymentId;
          console.log(`  ${row.at}  ${row.kind.padEnd(7)} ${id}  ${row.status ?? '?'}  ${row.reason ?? ''}`);
        }
      }
      return 0;
    }
    if (command === 'sweep') {
      if (!t.stateMachineArn || !t.refundStateMachineArn) {
        throw new Error('STATE_MACHINE_ARN and REFUND_STATE_MACHINE_ARN must be set to sweep a deployment');
      }
      const report = await sweep(
        {
          repo,
          // Only late-charge checks ask KBank; without its key they fail and stay due for the scheduled sweep.
          kbank: t.kbankSecret
            ? createKbankClient({ baseUrl: t.kbankUrl, secretKey: t.kbankSecret, timeoutMs: 8000 })
            : kbankUnavailable(),
          payments: new StepFunctionsWorkflow(t.sfn, t.stateMachineArn),
          refunds: new StepFunctionsWorkflow(t.sfn, t.refundStateMachineArn),
          clock: systemClock,
          captureWindowSeconds: Number(process.env.CAPTURE_WINDOW_SECONDS ?? DEFAULT_CAPTURE_WINDOW_SECONDS),
          onUnresolved: (item, reason) => console.error(`unresolved: ${item.paymentId} ${reason}`),
        },
        { limit: 10_000, ...(values.all ? { dueBefore: '9999-12-31' } : {}) },
      );
      console.log(values.json ? JSON.stringify(report) : `sweep of ${t.where}: ${JSON.stringify(report)}`);
      return report.errors > 0 ? 1 : 0;
    }
    if (command === 'reconcile') {
      if (!t.kbankSecret) throw new Error('KBANK_SECRET_KEY is not set');
      const date = values.date ?? yesterdayInBangkok(new Date());
      const run = await reconcileKbank(
        {
          repo,
          kbank: createKbankClient({ baseUrl: t.kbankUrl, secretKey: t.kbankSecret, timeoutMs: 8000 }),
          clock: systemClock,
          // From a workstation the run is stored and printed; the bus is the scheduled function's.
          events: { publish: async () => undefined },
        },
        date,
      );
      printRun(run);
      return run.exceptions.length > 0 ? 1 : 0;
    }
    if (command === 'runs') {
      if (!values.date) throw new Error('--date YYYY-MM-DD is required');
      for (const run of await repo.listRuns(values.date)) printRun(run);
      return 0;
    }
    console.error(
      'usage: npm run ops -- unresolved [--json] | sweep [--all] | reconcile [--date D] | runs --date D',
    );
    return 2;
  } finally {
    t.dynamodb.destroy();
    t.sfn.destroy();
  }
}

function printRun(run: ReconciliationRun): void {
  if (values.json) {
    console.log(JSON.stringify(run, null, 2));
    return;
  }
  console.log(`${run.date}  ${run.id}  ${run.finishedAt}  ${JSON.stringify(run.counts)}`);
  for (const e of run.exceptions) {
    console.log(
      `  ${e.kind.padEnd(15)} ${e.action.padEnd(15)} ${e.charge_id ?? '-'}  ${e.payment_id ?? '-'}  ${e.detail}`,
    );
  }
}

process.exitCode = await main();

/** A KBank that cannot be asked (no secret key here): every call fails, so nothing is decided without it. */
function kbankUnavailable(): Kbank {
  return new Proxy({} as Kbank, {
    get: () => async () => {
      throw new Error('KBANK_SECRET_KEY is not set: KBank cannot be asked from here');
    },
  });
}
