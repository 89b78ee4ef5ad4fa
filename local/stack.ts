/**
 * The embedded local stack: DynamoDB Local, the ASL runner executing statemachines/payment.asl.json
 * with the real saga handlers, the KBank and cost-service simulators, a local event bus, a local Step
 * Functions endpoint, and the API server in front of the real API handlers. Only the edges differ from
 * AWS: the same handlers, the same ASL file and the same DynamoDB code run here.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { createCostClient } from '../functions/adapters/cost-client.js';
import { createDocumentClient, DynamoPaymentRepository } from '../functions/adapters/dynamo-repository.js';
import { createKbankClient } from '../functions/adapters/kbank-client.js';
import { StepFunctionsWorkflow } from '../functions/adapters/sfn-workflow.js';
import { ulidIds } from '../functions/core/ids.js';
import { type Clock, systemClock } from '../functions/core/ports.js';
import { hashApiKey } from '../functions/core/use-cases/authenticate.js';
import { authorizeCard } from '../functions/core/use-cases/authorize-card.js';
import { capture } from '../functions/core/use-cases/capture.js';
import type { CreatePaymentDeps } from '../functions/core/use-cases/create-payment.js';
import { failPayment } from '../functions/core/use-cases/fail-payment.js';
import { inquireAuthorization } from '../functions/core/use-cases/inquire-authorization.js';
import { DEFAULT_POLICY, type SagaDeps } from '../functions/core/use-cases/saga.js';
import { verifyCost } from '../functions/core/use-cases/verify-cost.js';
import { voidAuthorization } from '../functions/core/use-cases/void-authorization.js';
import { createAuthorizerHandler } from '../functions/handlers/api-authorizer.js';
import { createCreatePaymentHandler } from '../functions/handlers/api-create-payment.js';
import { createGetPaymentHandler } from '../functions/handlers/api-get-payment.js';
import { handler as healthHandler } from '../functions/handlers/api-health.js';
import { createListPaymentEventsHandler } from '../functions/handlers/api-list-payment-events.js';
import { type SagaStep, sagaTask } from '../functions/handlers/saga.js';
import { type ApiServer, type Route, startApiServer } from './api-server.js';
import { type AslRunner, createAslRunner, startSfnEndpoint } from './asl-runner.js';
import { type CostSimulator, startCostSimulator } from './cost-simulator.js';
import { createTable, localDynamoClientConfig, startDynamoDbLocal } from './dynamodb-local.js';
import { createLocalEventBus, type LocalEventBus } from './event-bus.js';
import { type KbankSimulator, startKbankSimulator } from './kbank-simulator.js';
import { lambdaContext } from './lambda-context.js';

const ASL_PATH = new URL('../statemachines/payment.asl.json', import.meta.url);
const OPENAPI_PATH = new URL('../docs/openapi.json', import.meta.url);
const LOCAL_ACCOUNT = '000000000000';
const LOCAL_REGION = 'us-east-1';
const STATE_MACHINE_ARN = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:payment-saga`;

/** The saga's Lambda tasks, by the names the CDK stack gives them. */
const SAGA_FUNCTIONS: Record<string, { substitution: string; step: SagaStep }> = {
  'saga-verify-cost': { substitution: 'VerifyCostFunctionArn', step: verifyCost },
  'saga-authorize-card': { substitution: 'AuthorizeCardFunctionArn', step: authorizeCard },
  'saga-inquire-authorization': {
    substitution: 'InquireAuthorizationFunctionArn',
    step: inquireAuthorization,
  },
  'saga-capture': { substitution: 'CaptureFunctionArn', step: capture },
  'saga-void': { substitution: 'VoidFunctionArn', step: voidAuthorization },
  'saga-fail-payment': { substitution: 'FailPaymentFunctionArn', step: failPayment },
};

export interface LocalStackOptions {
  /** 0 picks free ports (tests); the launcher uses fixed defaults. */
  apiPort?: number;
  kbankPort?: number;
  costPort?: number;
  sfnPort?: number;
  dynamodbPort?: number;
  /** Use an already running DynamoDB Local instead of starting one. */
  dynamodbEndpoint?: string;
  /** Keep DynamoDB's data in this folder between runs (default: in memory). */
  persistDir?: string;
  tableName?: string;
  /** Multiplier for Wait states and Retry intervals: 1 as in AWS, 0 so tests never sleep. */
  waitScale?: number;
  kbankTimeoutMs?: number;
  /** How long the simulator's timeout-after-success card holds its answer. */
  kbankHangMs?: number;
  costTimeoutMs?: number;
  clock?: Clock;
  /** Demo merchant's API key; random when absent. */
  apiKey?: string;
}

export interface LocalStack {
  apiUrl: string;
  kbankUrl: string;
  costUrl: string;
  sfnUrl: string;
  dynamodbEndpoint: string;
  tableName: string;
  merchant: { id: string; name: string; apiKey: string };
  kbankPublicKey: string;
  runner: AslRunner;
  bus: LocalEventBus;
  kbank: KbankSimulator;
  cost: CostSimulator;
  repo: DynamoPaymentRepository;
  dynamodb: DynamoDBClient;
  close(): Promise<void>;
}

const KBANK_SECRET = 'skey_test_local';
const KBANK_PUBLIC = 'pkey_test_local';
const COST_API_KEY = 'cost_test_local';

export function randomApiKey(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(32);
  return `sk_test_${Array.from(bytes, (b) => alphabet.charAt(b % alphabet.length)).join('')}`;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closeOne of closers.reverse()) await closeOne().catch(() => undefined);
  };
  try {
    const clock = options.clock ?? systemClock;
    let dynamodbEndpoint = options.dynamodbEndpoint;
    if (!dynamodbEndpoint) {
      const ddb = await startDynamoDbLocal({
        port: options.dynamodbPort ?? 0,
        ...(options.persistDir ? { dbPath: options.persistDir } : {}),
      });
      closers.push(() => ddb.stop());
      dynamodbEndpoint = ddb.endpoint;
    }
    const dynamodb = new DynamoDBClient(localDynamoClientConfig(dynamodbEndpoint));
    closers.push(async () => dynamodb.destroy());
    const tableName = options.tableName ?? 'payments';
    await createTable(dynamodb, tableName);
    const repo = new DynamoPaymentRepository(createDocumentClient(dynamodb), tableName);

    const kbank = await startKbankSimulator({
      port: options.kbankPort ?? 0,
      secretKey: KBANK_SECRET,
      publicKey: KBANK_PUBLIC,
      ...(options.kbankHangMs === undefined ? {} : { hangMs: options.kbankHangMs }),
      now: () => clock.now(),
    });
    closers.push(() => kbank.close());
    const cost = await startCostSimulator({ port: options.costPort ?? 0, apiKey: COST_API_KEY });
    closers.push(() => cost.close());

    const sagaDeps: SagaDeps = {
      repo,
      kbank: createKbankClient({
        baseUrl: kbank.url,
        secretKey: KBANK_SECRET,
        timeoutMs: options.kbankTimeoutMs ?? 8000,
      }),
      cost: createCostClient({
        baseUrl: cost.url,
        apiKey: COST_API_KEY,
        timeoutMs: options.costTimeoutMs ?? 3000,
      }),
      clock,
      policy: DEFAULT_POLICY,
    };
    const functionArn = (name: string) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${name}`;
    const substitutions: Record<string, string> = { EventBusName: 'payments' };
    const lambdas: Record<string, (event: unknown) => Promise<unknown>> = {};
    for (const [name, { substitution, step }] of Object.entries(SAGA_FUNCTIONS)) {
      substitutions[substitution] = functionArn(name);
      const handler = sagaTask(step, () => sagaDeps);
      lambdas[functionArn(name)] = (event) => handler(event, lambdaContext(name));
    }

    const bus = createLocalEventBus();
    const runner = createAslRunner({
      definition: readFileSync(ASL_PATH, 'utf8'),
      substitutions,
      lambdas,
      eventBus: bus,
      dynamodb,
      waitScale: options.waitScale ?? 1,
      stateMachineArn: STATE_MACHINE_ARN,
    });
    closers.push(async () => runner.stop());
    const sfn = await startSfnEndpoint(runner, { port: options.sfnPort ?? 0 });
    closers.push(() => sfn.close());

    const sfnClient = new SFNClient({
      endpoint: sfn.url,
      region: LOCAL_REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    closers.push(async () => sfnClient.destroy());
    const apiDeps: CreatePaymentDeps = {
      repo,
      idempotency: repo,
      workflow: new StepFunctionsWorkflow(sfnClient, STATE_MACHINE_ARN),
      clock,
      ids: ulidIds,
    };

    const merchant = { id: 'merchant_demo', name: 'Demo Merchant', apiKey: options.apiKey ?? randomApiKey() };
    await repo.putApiKey(hashApiKey(merchant.apiKey), { id: merchant.id, name: merchant.name });

    const routes: Route[] = [
      { method: 'GET', path: '/v1/health', name: 'api-health', handler: healthHandler, authorized: false },
      {
        method: 'POST',
        path: '/v1/payments',
        name: 'api-create-payment',
        handler: createCreatePaymentHandler(() => apiDeps),
        authorized: true,
      },
      {
        method: 'GET',
        path: '/v1/payments/{id}',
        name: 'api-get-payment',
        handler: createGetPaymentHandler(() => repo),
        authorized: true,
      },
      {
        method: 'GET',
        path: '/v1/payments/{id}/events',
        name: 'api-list-payment-events',
        handler: createListPaymentEventsHandler(() => repo),
        authorized: true,
      },
    ];
    const api: ApiServer = await startApiServer({
      routes,
      authorizer: createAuthorizerHandler(() => repo),
      extras: {
        '/openapi.json': () => JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')),
        '/_local/events': () => bus.events(),
      },
      port: options.apiPort ?? 0,
    });
    closers.push(() => api.close());

    return {
      apiUrl: api.url,
      kbankUrl: kbank.url,
      costUrl: cost.url,
      sfnUrl: sfn.url,
      dynamodbEndpoint,
      tableName,
      merchant,
      kbankPublicKey: KBANK_PUBLIC,
      runner,
      bus,
      kbank,
      cost,
      repo,
      dynamodb,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
