/** AWS adapters with SDK mocks: what they send, and how they read secrets (once, and only when needed). */

import { createServer } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { StepFunctionsWorkflow } from '../../functions/adapters/sfn-workflow.js';
import { SqsNotificationQueue } from '../../functions/adapters/sqs-queue.js';
import { type KbankCallback, KbankCallbackSchema } from '../../schemas/callbacks.js';

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

describe('SqsNotificationQueue', () => {
  const queueUrl = 'https://sqs.ap-southeast-1.amazonaws.com/123456789012/payments-notifications';
  const sqs = mockClient(SQSClient);
  afterEach(() => sqs.reset());
  const callback: KbankCallback = {
    source: 'notify',
    paymentId: 'pay_01JD3Q4V7M0000000000000000',
    attemptNo: 1,
    chargeId: 'chrg_test_1',
    state: 'Authorized',
    receivedAt: '2026-11-22T04:00:00.000Z',
  };

  it('sends one message to the queue with the callback as its JSON body, and nothing else', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    await new SqsNotificationQueue(new SQSClient({}), queueUrl).send(callback);
    const calls = sqs.commandCalls(SendMessageCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({ QueueUrl: queueUrl, MessageBody: JSON.stringify(callback) });
    expect(KbankCallbackSchema.parse(JSON.parse(calls[0]?.args[0].input.MessageBody ?? ''))).toEqual(
      callback,
    );
  });

  it('passes a failed send on, so the endpoint answers 5xx and KBank sends the notify again', async () => {
    sqs.on(SendMessageCommand).rejects(new Error('throttled'));
    await expect(new SqsNotificationQueue(new SQSClient({}), queueUrl).send(callback)).rejects.toThrow(
      'throttled',
    );
  });
});
