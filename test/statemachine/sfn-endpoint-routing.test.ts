/**
 * The local Step Functions endpoint serving two state machines (payment and refund sagas) through the
 * unmodified SFNClient: StartExecution by state machine ARN, executions by their ARN, task tokens to the
 * runner that issued them.
 */
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  InvalidToken,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn';
import {
  type AslRunner,
  createAslRunner,
  type SfnEndpoint,
  startSfnEndpoint,
} from '../../local/asl-runner.js';

const ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:';

function parkingRunner(name: string): AslRunner {
  return createAslRunner({
    definition: {
      StartAt: 'Park',
      States: {
        Park: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: { FunctionName: 'noop', Payload: { 'token.$': '$$.Task.Token' } },
          End: true,
        },
      },
    },
    lambdas: { noop: async () => null },
    stateMachineArn: `${ARN}${name}`,
  });
}

async function pendingToken(runner: AslRunner, executionName: string): Promise<string> {
  for (let i = 0; i < 5000; i++) {
    const task = runner.pendingTasks(executionName)[0];
    if (task) return task.token;
    await new Promise((wake) => setImmediate(wake));
  }
  throw new Error(`no pending task for ${executionName}`);
}

let payments: AslRunner;
let refunds: AslRunner;
let endpoint: SfnEndpoint;
let sfn: SFNClient;

beforeAll(async () => {
  payments = parkingRunner('payment-saga');
  refunds = parkingRunner('refund-saga');
  endpoint = await startSfnEndpoint([payments, refunds]);
  sfn = new SFNClient({
    endpoint: endpoint.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});
afterAll(async () => {
  sfn?.destroy();
  await endpoint?.close();
  await Promise.all([payments?.stop(), refunds?.stop()]);
});

describe('SFN endpoint with several state machines', () => {
  it('starts, describes and resumes each execution on the runner of its state machine', async () => {
    const paymentRun = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: payments.stateMachineArn,
        name: 'same-name',
        input: '{"a":1}',
      }),
    );
    const refundRun = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: refunds.stateMachineArn,
        name: 'same-name',
        input: '{"b":2}',
      }),
    );
    expect(paymentRun.executionArn).toBe(
      'arn:aws:states:us-east-1:123456789012:execution:payment-saga:same-name',
    );
    expect(refundRun.executionArn).toBe(
      'arn:aws:states:us-east-1:123456789012:execution:refund-saga:same-name',
    );

    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: refundRun.executionArn }));
    expect(described).toMatchObject({
      status: 'RUNNING',
      input: '{"b":2}',
      stateMachineArn: refunds.stateMachineArn,
    });

    // The refund runner's token goes to the refund runner, even though the payment runner is asked first.
    const refundToken = await pendingToken(refunds, 'same-name');
    await sfn.send(new SendTaskSuccessCommand({ taskToken: refundToken, output: '{"refunded":true}' }));
    expect((await refunds.waitForExecution('same-name', 5000)).output).toEqual({ refunded: true });
    expect(payments.describeExecution('same-name').status).toBe('RUNNING');

    const paymentToken = await pendingToken(payments, 'same-name');
    await sfn.send(new SendTaskSuccessCommand({ taskToken: paymentToken, output: '{"paid":true}' }));
    expect((await payments.waitForExecution('same-name', 5000)).output).toEqual({ paid: true });
  });

  it('answers like AWS for unknown state machines, executions and tokens', async () => {
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: `${ARN}nope`, name: 'x', input: '{}' })),
    ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    await expect(
      sfn.send(
        new DescribeExecutionCommand({
          executionArn: 'arn:aws:states:us-east-1:123456789012:execution:nope:x',
        }),
      ),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(
      sfn.send(new SendTaskSuccessCommand({ taskToken: 'not-a-token', output: '{}' })),
    ).rejects.toBeInstanceOf(InvalidToken);
  });
});
