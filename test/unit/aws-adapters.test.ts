/** AWS adapters with SDK mocks: what they send, and how they read secrets (once, and only when needed). */

import { createServer } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { StepFunctionsWorkflow } from '../../functions/adapters/sfn-workflow.js';

const sfn = mockClient(SFNClient);
const secrets = mockClient(SecretsManagerClient);
afterEach(() => {
  sfn.reset();
  secrets.reset();
});

describe('StepFunctionsWorkflow', () => {
  const arn = 'arn:aws:states:ap-southeast-1:123456789012:stateMachine:payment-saga';

  it('starts one execution named by the payment id, with the input as JSON', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${arn}:pay_1`, startDate: new Date() });
    await new StepFunctionsWorkflow(new SFNClient({}), arn).start('pay_1', { paymentId: 'pay_1' });
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      stateMachineArn: arn,
      name: 'pay_1',
      input: '{"paymentId":"pay_1"}',
    });
  });

  it('treats an execution that already exists as started (the name is the guarantee)', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    await expect(
      new StepFunctionsWorkflow(new SFNClient({}), arn).start('pay_1', {}),
    ).resolves.toBeUndefined();
  });

  it('passes any other failure on, so the API answers 5xx and the client retries', async () => {
    sfn.on(StartExecutionCommand).rejects(new Error('throttled'));
    await expect(new StepFunctionsWorkflow(new SFNClient({}), arn).start('pay_1', {})).rejects.toThrow(
      'throttled',
    );
  });
});

describe('saga dependencies on AWS', () => {
  it('reads the KBank secret once, on first use, and retries a failed read', async () => {
    process.env.TABLE_NAME = 'payments';
    process.env.KBANK_SECRET_ARN = 'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:kbank';
    process.env.KBANK_BASE_URL = `http://127.0.0.1:${await closedPort()}`;
    secrets
      .on(GetSecretValueCommand)
      .rejectsOnce(new Error('throttled'))
      .resolves({ SecretString: 'skey_test_from_secrets_manager' });
    const { awsSagaDeps } = await import('../../functions/adapters/container.js');
    const deps = awsSagaDeps();
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(0);

    await expect(deps.kbank.inquireCharge({ chargeId: 'chrg_1' })).rejects.toThrow('throttled');
    // The closed port refuses the connection: the secret was read and the client built.
    await expect(deps.kbank.inquireCharge({ chargeId: 'chrg_1' })).rejects.toMatchObject({
      name: 'KbankUnavailable',
    });
    await expect(deps.kbank.inquireCharge({ chargeId: 'chrg_1' })).rejects.toMatchObject({
      name: 'KbankUnavailable',
    });
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });
});

/** A port nothing listens on: bind one, then close it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
