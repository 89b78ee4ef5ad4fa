/**
 * Wires the core's ports to AWS adapters from the environment, once per Lambda container. The local
 * stack and tests build the same dependency objects directly instead (local/stack.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { ulidIds } from '../core/ids.js';
import { systemClock } from '../core/ports.js';
import type { CreatePaymentDeps } from '../core/use-cases/create-payment.js';
import { DEFAULT_POLICY, type SagaDeps } from '../core/use-cases/saga.js';
import { env, required } from './config.js';
import { createCostClient } from './cost-client.js';
import { createDocumentClient, DynamoPaymentRepository } from './dynamo-repository.js';
import { createKbankClient } from './kbank-client.js';
import { StepFunctionsWorkflow } from './sfn-workflow.js';

function once<T>(build: () => T): () => T {
  let value: T | undefined;
  let built = false;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value as T;
  };
}

const repository = once(
  () => new DynamoPaymentRepository(createDocumentClient(new DynamoDBClient({})), env().TABLE_NAME),
);

const secrets = once(() => new SecretsManagerClient({}));

async function secretValue(
  arn: string | undefined,
  inline: string | undefined,
  name: string,
): Promise<string> {
  if (inline) return inline;
  if (!arn) throw new Error(`invalid configuration: ${name} needs a secret ARN or a value`);
  const { SecretString } = await secrets().send(new GetSecretValueCommand({ SecretId: arn }));
  if (!SecretString) throw new Error(`secret for ${name} is empty`);
  return SecretString;
}

export const awsRepository = repository;

export const awsApiDeps = once(
  (): CreatePaymentDeps => ({
    repo: repository(),
    idempotency: repository(),
    workflow: new StepFunctionsWorkflow(new SFNClient({}), required(env(), 'STATE_MACHINE_ARN')),
    clock: systemClock,
    ids: ulidIds,
  }),
);

export const awsSagaDeps = once(async (): Promise<SagaDeps> => {
  const config = env();
  const [kbankKey, costKey] = await Promise.all([
    secretValue(config.KBANK_SECRET_ARN, config.KBANK_SECRET_KEY, 'KBANK_SECRET'),
    config.COST_SERVICE_API_KEY_SECRET_ARN || config.COST_SERVICE_API_KEY
      ? secretValue(
          config.COST_SERVICE_API_KEY_SECRET_ARN,
          config.COST_SERVICE_API_KEY,
          'COST_SERVICE_API_KEY',
        )
      : Promise.resolve(undefined),
  ]);
  return {
    repo: repository(),
    kbank: createKbankClient({
      baseUrl: config.KBANK_BASE_URL,
      secretKey: kbankKey,
      timeoutMs: config.KBANK_TIMEOUT_MS,
    }),
    cost: createCostClient({
      baseUrl: required(config, 'COST_SERVICE_URL'),
      timeoutMs: config.COST_SERVICE_TIMEOUT_MS,
      ...(costKey ? { apiKey: costKey } : {}),
    }),
    clock: systemClock,
    policy: DEFAULT_POLICY,
  };
});
