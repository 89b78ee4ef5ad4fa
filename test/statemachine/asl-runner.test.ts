/** The in-process Step Functions runtime, on small inline definitions (the payment saga has its own tests). */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import {
  type AslRunner,
  type AslRunnerOptions,
  createAslRunner,
  type LocalLambdaHandler,
  startSfnEndpoint,
} from '../../local/asl-runner.js';
import { createLocalEventBus, type LocalEventBus } from '../../local/event-bus.js';
import { freshTable } from '../support/dynamodb.js';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:';
const WAIT = 5_000;

class KBankTimeoutError extends Error {
  override readonly name = 'KBankTimeoutError';
}

const runners: AslRunner[] = [];

afterEach(async () => {
  await Promise.all(runners.splice(0).map((runner) => runner.stop()));
});

function runnerFor(
  definition: object,
  options: Partial<AslRunnerOptions> & { lambdas?: Record<string, LocalLambdaHandler> } = {},
): { runner: AslRunner; bus: LocalEventBus } {
  const bus = options.eventBus ?? createLocalEventBus();
  const runner = createAslRunner({
    definition,
    substitutions: {},
    lambdas: {},
    waitScale: 0,
    ...options,
    eventBus: bus,
  });
  runners.push(runner);
  return { runner, bus };
}

function lambdaTask(functionKey: string, extra: object = {}) {
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: { FunctionName: `\${${functionKey}}`, 'Payload.$': '$' },
    ...extra,
  };
}

/** The first parked callback task of an execution (polled: tokens appear when the task state is entered). */
async function pendingToken(runner: AslRunner, executionName: string): Promise<string> {
  const deadline = Date.now() + WAIT;
  while (Date.now() < deadline) {
    const task = runner.pendingTasks(executionName)[0];
    if (task) return task.token;
    await new Promise((wake) => setTimeout(wake, 1));
  }
  throw new Error(`no pending task for ${executionName}`);
}

function deferred<T>() {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((onResolve) => {
    resolve = onResolve;
  });
  return { promise, resolve };
}

describe('ASL runner: lambda:invoke', () => {
  it('passes the resolved Payload to the handler and returns {Payload, StatusCode: 200}', async () => {
    const events: unknown[] = [];
    const transitions: string[] = [];
    const { runner } = runnerFor(
      {
        StartAt: 'Greet',
        States: {
          Greet: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: {
              FunctionName: '${GreetFunctionArn}',
              Payload: {
                'name.$': '$.name',
                'execution.$': '$$.Execution.Name',
                'enteredAt.$': '$$.State.EnteredTime',
              },
            },
            ResultSelector: { 'greeting.$': '$.Payload.greeting', 'statusCode.$': '$.StatusCode' },
            ResultPath: '$.result',
            End: true,
          },
        },
      },
      {
        substitutions: { GreetFunctionArn: `${FUNCTION_ARN}greet` },
        lambdas: {
          [`${FUNCTION_ARN}greet`]: async (event: { name: string }) => {
            events.push(event);
            return { greeting: `hello ${event.name}` };
          },
        },
        onTransition: (execution, state) => transitions.push(`${execution}:${state}`),
      },
    );

    runner.startExecution('pay_1', { name: 'somchai' });
    const done = await runner.waitForExecution('pay_1', WAIT);

    expect(done.status).toBe('SUCCEEDED');
    expect(done.output).toEqual({ name: 'somchai', result: { greeting: 'hello somchai', statusCode: 200 } });
    expect(events).toEqual([{ name: 'somchai', execution: 'pay_1', enteredAt: expect.any(String) }]);
    expect(done.enteredStates).toEqual(['Greet']);
    expect(transitions).toEqual(['pay_1:Greet']);
    expect(done.stopDate?.getTime()).toBeGreaterThanOrEqual(done.startDate.getTime());
  });

  it('retries a named error on its schedule (scaled to zero), then catches it with an AWS-shaped Cause', async () => {
    let calls = 0;
    const started = Date.now();
    const { runner } = runnerFor(
      {
        StartAt: 'Authorize',
        States: {
          Authorize: lambdaTask('AuthorizeFunctionArn', {
            Retry: [
              { ErrorEquals: ['Lambda.ServiceException'], MaxAttempts: 6 },
              { ErrorEquals: ['KBankTimeoutError'], IntervalSeconds: 5, BackoffRate: 2, MaxAttempts: 2 },
            ],
            Catch: [{ ErrorEquals: ['KBankTimeoutError'], ResultPath: '$.failure', Next: 'Compensate' }],
            End: true,
          }),
          Compensate: { Type: 'Pass', Result: 'compensated', ResultPath: '$.outcome', End: true },
        },
      },
      {
        substitutions: { AuthorizeFunctionArn: 'authorize' },
        lambdas: {
          authorize: async () => {
            calls += 1;
            throw new KBankTimeoutError('KBank did not answer in 8000 ms');
          },
        },
      },
    );

    runner.startExecution('pay_retry', { amount: 72500 });
    const done = await runner.waitForExecution('pay_retry', WAIT);

    expect(calls).toBe(3);
    // Unscaled, the two pauses alone would take 15 s; the margin is for a loaded CI host.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.output).toEqual({
      amount: 72500,
      failure: {
        Error: 'KBankTimeoutError',
        Cause: JSON.stringify({
          errorType: 'KBankTimeoutError',
          errorMessage: 'KBank did not answer in 8000 ms',
        }),
      },
      outcome: 'compensated',
    });
    expect(done.history.filter((event) => event.type === 'StateRetried')).toHaveLength(2);
    expect(done.enteredStates).toEqual(['Authorize', 'Compensate']);
  });

  it('fails the execution with the error name and cause when nothing catches it', async () => {
    const { runner } = runnerFor(
      { StartAt: 'Verify', States: { Verify: lambdaTask('VerifyFunctionArn', { End: true }) } },
      {
        substitutions: { VerifyFunctionArn: `${FUNCTION_ARN}verify:$LATEST` },
        lambdas: {
          verify: async () => {
            throw new KBankTimeoutError('boom');
          },
        },
      },
    );

    runner.startExecution('pay_fail');
    const done = await runner.waitForExecution('pay_fail', WAIT);

    expect(done).toMatchObject({ status: 'FAILED', error: 'KBankTimeoutError' });
    expect(JSON.parse(done.cause ?? '')).toEqual({ errorType: 'KBankTimeoutError', errorMessage: 'boom' });
    expect(done.output).toBeUndefined();
  });

  it('supports the bare Lambda ARN resource, inside a Map iteration', async () => {
    const { runner } = runnerFor(
      {
        StartAt: 'EachLine',
        States: {
          EachLine: {
            Type: 'Map',
            ItemsPath: '$.lines',
            ItemProcessor: {
              StartAt: 'Price',
              States: { Price: { Type: 'Task', Resource: `${FUNCTION_ARN}price`, End: true } },
            },
            End: true,
          },
        },
      },
      {
        lambdas: { price: async (line: { qty: number; unit: number }) => line.qty * line.unit },
      },
    );

    runner.startExecution('pay_map', {
      lines: [
        { qty: 2, unit: 35000 },
        { qty: 1, unit: 2500 },
      ],
    });
    const done = await runner.waitForExecution('pay_map', WAIT);

    expect(done.status).toBe('SUCCEEDED');
    expect(done.output).toEqual([70000, 2500]);
  });

  it('refuses at creation a definition whose substitutions or Lambda handlers are missing', () => {
    const definition = { StartAt: 'A', States: { A: lambdaTask('AFunctionArn', { End: true }) } };

    expect(() => createAslRunner({ definition, substitutions: {}, lambdas: {} })).toThrow(/AFunctionArn/);
    expect(() => createAslRunner({ definition, substitutions: { AFunctionArn: 'a' }, lambdas: {} })).toThrow(
      /no local handler for Lambda a/,
    );
  });
});

describe('ASL runner: events:putEvents', () => {
  it('puts the entries on the bus and returns the AWS-shaped result', async () => {
    const { runner, bus } = runnerFor(
      {
        StartAt: 'Announce',
        States: {
          Announce: {
            Type: 'Task',
            Resource: 'arn:aws:states:::events:putEvents',
            Parameters: {
              Entries: [
                {
                  EventBusName: '${EventBusName}',
                  Source: 'kbank.payments',
                  DetailType: 'payment.authorized',
                  Detail: { 'payment.$': '$.payment', version: 1 },
                },
              ],
            },
            End: true,
          },
        },
      },
      { substitutions: { EventBusName: 'payments' } },
    );

    runner.startExecution('pay_event', { payment: { id: 'pay_event', amount: 72500 } });
    const done = await runner.waitForExecution('pay_event', WAIT);

    const [event, ...others] = bus.events({ paymentId: 'pay_event' });
    expect(others).toEqual([]);
    expect(event).toMatchObject({
      busName: 'payments',
      source: 'kbank.payments',
      detailType: 'payment.authorized',
      detail: { payment: { id: 'pay_event', amount: 72500 }, version: 1 },
    });
    expect(done.output).toEqual({ Entries: [{ EventId: event?.id }], FailedEntryCount: 0 });
  });

  it('fails the task with EventBridge.FailedEntry when an entry is rejected', async () => {
    const { runner, bus } = runnerFor({
      StartAt: 'Announce',
      States: {
        Announce: {
          Type: 'Task',
          Resource: 'arn:aws:states:::events:putEvents',
          Parameters: {
            Entries: [{ Source: 'kbank.payments', DetailType: 'payment.authorized', Detail: '[]' }],
          },
          Catch: [{ ErrorEquals: ['EventBridge.FailedEntry'], Next: 'Failed' }],
          End: true,
        },
        Failed: { Type: 'Fail', Error: 'PublishFailed' },
      },
    });

    runner.startExecution('pay_bad_event');
    const done = await runner.waitForExecution('pay_bad_event', WAIT);

    expect(done).toMatchObject({ status: 'FAILED', error: 'PublishFailed' });
    expect(bus.events()).toEqual([]);
  });
});

describe('ASL runner: DynamoDB integrations (DynamoDB Local)', () => {
  it('runs updateItem with the Parameters as given, and names a failed condition like AWS', async () => {
    const { client, tableName } = await freshTable('asl-update');
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { PK: { S: 'PAYMENT#pay_db' }, SK: { S: 'META' }, status: { S: 'pending' } },
      }),
    );
    const { runner } = runnerFor(
      {
        StartAt: 'MarkAuthorized',
        States: {
          MarkAuthorized: {
            Type: 'Task',
            Resource: 'arn:aws:states:::dynamodb:updateItem',
            Parameters: {
              TableName: '${TableName}',
              Key: { PK: { 'S.$': "States.Format('PAYMENT#{}', $.id)" }, SK: { S: 'META' } },
              UpdateExpression: 'SET #status = :authorized',
              ConditionExpression: 'attribute_exists(PK)',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':authorized': { S: 'authorized' } },
              ReturnValues: 'ALL_NEW',
            },
            ResultSelector: { 'status.$': '$.Attributes.status.S' },
            Catch: [{ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], Next: 'Missing' }],
            End: true,
          },
          Missing: { Type: 'Pass', End: true },
        },
      },
      { substitutions: { TableName: tableName }, dynamodb: client },
    );

    runner.startExecution('pay_db', { id: 'pay_db' });
    runner.startExecution('pay_absent', { id: 'pay_absent' });
    const [found, absent] = await Promise.all([
      runner.waitForExecution('pay_db', WAIT),
      runner.waitForExecution('pay_absent', WAIT),
    ]);

    expect(found.output).toEqual({ status: 'authorized' });
    const { Item } = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { PK: { S: 'PAYMENT#pay_db' }, SK: { S: 'META' } } }),
    );
    expect(Item?.status?.S).toBe('authorized');
    expect(absent.output).toMatchObject({ Error: 'DynamoDB.ConditionalCheckFailedException' });
    expect(absent.enteredStates).toEqual(['MarkAuthorized', 'Missing']);
  });
});

describe('ASL runner: other resources', () => {
  it('maps aws-sdk:dynamodb actions and caller-provided integrations', async () => {
    const { client, tableName } = await freshTable('asl-sdk');
    const sent: unknown[] = [];
    const { runner } = runnerFor(
      {
        StartAt: 'Record',
        States: {
          Record: {
            Type: 'Task',
            Resource: 'arn:aws:states:::aws-sdk:dynamodb:transactWriteItems',
            Parameters: {
              TransactItems: [
                {
                  Put: {
                    TableName: '${TableName}',
                    Item: { PK: { 'S.$': '$.pk' }, SK: { S: 'META' } },
                    ConditionExpression: 'attribute_not_exists(PK)',
                  },
                },
              ],
            },
            ResultPath: null,
            Catch: [
              { ErrorEquals: ['DynamoDb.TransactionCanceledException'], ResultPath: null, Next: 'Notify' },
            ],
            Next: 'Notify',
          },
          Notify: {
            Type: 'Task',
            Resource: 'arn:aws:states:::sqs:sendMessage',
            Parameters: { QueueUrl: 'local-queue', 'MessageBody.$': '$.pk' },
            End: true,
          },
        },
      },
      {
        substitutions: { TableName: tableName },
        dynamodb: client,
        integrations: {
          'sqs:sendMessage': async (parameters) => {
            sent.push(parameters);
            return { MessageId: `m-${sent.length}` };
          },
        },
      },
    );

    runner.startExecution('pay_sdk_1', { pk: 'PAYMENT#same' });
    const first = await runner.waitForExecution('pay_sdk_1', WAIT);
    runner.startExecution('pay_sdk_2', { pk: 'PAYMENT#same' });
    const second = await runner.waitForExecution('pay_sdk_2', WAIT);

    expect(first.output).toEqual({ MessageId: 'm-1' });
    expect(first.history.some((event) => event.type === 'StateCaught')).toBe(false);
    expect(second.history.find((event) => event.type === 'StateFailed')?.error).toBe(
      'DynamoDb.TransactionCanceledException',
    );
    expect(sent).toEqual([
      { QueueUrl: 'local-queue', MessageBody: 'PAYMENT#same' },
      { QueueUrl: 'local-queue', MessageBody: 'PAYMENT#same' },
    ]);
  });
});

describe('ASL runner: .waitForTaskToken', () => {
  it('stores a fresh token through dynamodb:updateItem and resumes on sendTaskSuccess', async () => {
    const { client, tableName } = await freshTable('asl-token');
    const { runner } = runnerFor(
      {
        StartAt: 'AwaitNotify',
        States: {
          AwaitNotify: {
            Type: 'Task',
            Resource: 'arn:aws:states:::dynamodb:updateItem.waitForTaskToken',
            Parameters: {
              TableName: '${TableName}',
              Key: { PK: { 'S.$': "States.Format('PAYMENT#{}', $$.Execution.Name)" }, SK: { S: 'META' } },
              UpdateExpression: 'SET taskToken = :token',
              ExpressionAttributeValues: { ':token': { 'S.$': '$$.Task.Token' } },
            },
            TimeoutSeconds: 900,
            ResultPath: '$.notify',
            End: true,
          },
        },
      },
      { substitutions: { TableName: tableName }, dynamodb: client },
    );

    runner.startExecution('pay_qr_1', { method: 'qr' });
    runner.startExecution('pay_qr_2', { method: 'qr' });
    const token = await pendingToken(runner, 'pay_qr_1');
    const otherToken = await pendingToken(runner, 'pay_qr_2');
    let stored: string | undefined;
    while (stored === undefined) {
      const { Item } = await client.send(
        new GetItemCommand({
          TableName: tableName,
          Key: { PK: { S: 'PAYMENT#pay_qr_1' }, SK: { S: 'META' } },
        }),
      );
      stored = Item?.taskToken?.S;
    }

    expect(stored).toBe(token);
    expect(otherToken).not.toBe(token);
    expect(runner.describeExecution('pay_qr_1').status).toBe('RUNNING');
    runner.sendTaskSuccess(token, JSON.stringify({ status: 'paid' }));
    const done = await runner.waitForExecution('pay_qr_1', WAIT);

    expect(done.output).toEqual({ method: 'qr', notify: { status: 'paid' } });
    expect(() => runner.sendTaskSuccess(token, '{}')).toThrow(
      expect.objectContaining({ name: 'TaskTimedOut' }),
    );
    expect(() => runner.sendTaskSuccess('made-up', '{}')).toThrow(
      expect.objectContaining({ name: 'InvalidToken' }),
    );
    expect(() => runner.sendTaskSuccess(otherToken, 'not json')).toThrow(
      expect.objectContaining({ name: 'InvalidOutput' }),
    );
    expect(runner.describeExecution('pay_qr_2').status).toBe('RUNNING');
  });

  it('routes sendTaskFailure into the Catch matching its error name', async () => {
    const received = deferred<string>();
    const { runner } = runnerFor(
      {
        StartAt: 'Await3ds',
        States: {
          Await3ds: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
            Parameters: {
              FunctionName: 'start-3ds',
              Payload: { 'token.$': '$$.Task.Token', 'id.$': '$.id' },
            },
            Catch: [{ ErrorEquals: ['PaymentDeclined'], ResultPath: '$.declined', Next: 'Declined' }],
            End: true,
          },
          Declined: { Type: 'Pass', End: true },
        },
      },
      {
        lambdas: {
          'start-3ds': async (event: { token: string }) => {
            received.resolve(event.token);
            return { ignored: true };
          },
        },
      },
    );

    runner.startExecution('pay_3ds', { id: 'pay_3ds' });
    const token = await received.promise;
    runner.sendTaskFailure(token, 'PaymentDeclined', 'insufficient funds');
    const done = await runner.waitForExecution('pay_3ds', WAIT);

    expect(done.output).toEqual({
      id: 'pay_3ds',
      declined: { Error: 'PaymentDeclined', Cause: 'insufficient funds' },
    });
    expect(runner.pendingTasks()).toEqual([]);
  });

  it('accepts a callback that arrives before the integration call has returned', async () => {
    let runner: AslRunner | undefined;
    ({ runner } = runnerFor(
      {
        StartAt: 'Fast',
        States: {
          Fast: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
            Parameters: { FunctionName: 'fast', Payload: { 'token.$': '$$.Task.Token' } },
            End: true,
          },
        },
      },
      {
        lambdas: {
          fast: async (event: { token: string }) => {
            runner?.sendTaskSuccess(event.token, '"done early"');
            return null;
          },
        },
      },
    ));

    runner.startExecution('pay_fast');
    const done = await runner.waitForExecution('pay_fast', WAIT);

    expect(done.output).toBe('done early');
  });

  it('takes a failure sent while the integration call is still in flight into its Catch, without an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    let runner: AslRunner | undefined;
    ({ runner } = runnerFor(
      {
        StartAt: 'AwaitCapture',
        States: {
          AwaitCapture: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
            Parameters: { FunctionName: 'slow-store', Payload: { 'token.$': '$$.Task.Token' } },
            Catch: [{ ErrorEquals: ['PaymentCanceled'], ResultPath: '$.canceled', Next: 'Canceled' }],
            End: true,
          },
          Canceled: { Type: 'Pass', End: true },
        },
      },
      {
        lambdas: {
          // The merchant's cancel fails the token as soon as it is stored, before the Lambda has returned.
          'slow-store': async (event: { token: string }) => {
            runner?.sendTaskFailure(event.token, 'PaymentCanceled', 'canceled by the merchant');
            await new Promise((resolve) => setTimeout(resolve, 50));
            return null;
          },
        },
      },
    ));
    try {
      runner.startExecution('pay_cancel_early', {});
      const done = await runner.waitForExecution('pay_cancel_early', WAIT);

      expect(done.output).toEqual({
        canceled: { Error: 'PaymentCanceled', Cause: 'canceled by the merchant' },
      });
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('times out into States.Timeout, which States.TaskFailed does not catch, and spends the token', async () => {
    const started = Date.now();
    const { runner } = runnerFor(
      {
        StartAt: 'AwaitNotify',
        States: {
          AwaitNotify: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
            Parameters: { FunctionName: 'noop', Payload: { 'token.$': '$$.Task.Token' } },
            TimeoutSeconds: 900,
            Catch: [
              { ErrorEquals: ['States.TaskFailed'], Next: 'WrongBranch' },
              { ErrorEquals: ['States.Timeout'], ResultPath: '$.timeout', Next: 'Inquire' },
            ],
            End: true,
          },
          WrongBranch: { Type: 'Fail', Error: 'WrongBranch' },
          Inquire: { Type: 'Pass', End: true },
        },
      },
      { lambdas: { noop: async () => null }, taskTimeoutScale: 0.00002 }, // 900 s → 18 ms
    );

    runner.startExecution('pay_timeout');
    const token = await pendingToken(runner, 'pay_timeout');
    const done = await runner.waitForExecution('pay_timeout', WAIT);

    expect(done.status).toBe('SUCCEEDED');
    expect(done.enteredStates).toEqual(['AwaitNotify', 'Inquire']);
    expect(done.output).toMatchObject({ timeout: { Error: 'States.Timeout' } });
    // Unscaled, the timeout alone would take 900 s.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(() => runner.sendTaskSuccess(token, '{}')).toThrow(
      expect.objectContaining({ name: 'TaskTimedOut' }),
    );
  });

  it('fails with States.HeartbeatTimeout once heartbeats stop, not while they come', async () => {
    const { runner } = runnerFor(
      {
        StartAt: 'AwaitWallet',
        States: {
          AwaitWallet: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
            Parameters: { FunctionName: 'noop', Payload: { 'token.$': '$$.Task.Token' } },
            TimeoutSeconds: 3600,
            HeartbeatSeconds: 60,
            Catch: [{ ErrorEquals: ['States.HeartbeatTimeout'], ResultPath: '$.error', Next: 'Lost' }],
            End: true,
          },
          Lost: { Type: 'Pass', End: true },
        },
      },
      { lambdas: { noop: async () => null }, taskTimeoutScale: 0.001 }, // heartbeat 60 ms, timeout 3.6 s
    );

    runner.startExecution('pay_wallet');
    const token = await pendingToken(runner, 'pay_wallet');
    const beatsUntil = Date.now() + 120;
    while (Date.now() < beatsUntil) {
      runner.sendTaskHeartbeat(token);
      await new Promise((wake) => setTimeout(wake, 5));
    }
    expect(runner.describeExecution('pay_wallet').status).toBe('RUNNING');
    const done = await runner.waitForExecution('pay_wallet', WAIT);

    expect(done.output).toMatchObject({ error: { Error: 'States.HeartbeatTimeout' } });
    expect(() => runner.sendTaskHeartbeat(token)).toThrow(expect.objectContaining({ name: 'TaskTimedOut' }));
  });
});

const PARKED = {
  StartAt: 'Park',
  States: {
    Park: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: 'noop', Payload: { 'token.$': '$$.Task.Token' } },
      End: true,
    },
  },
};

describe('ASL runner: executions', () => {
  it('treats StartExecution like AWS: same name and input while running is the same execution', async () => {
    const { runner } = runnerFor(PARKED, { lambdas: { noop: async () => null } });

    const first = runner.startExecution('pay_dup', { amount: 100 });
    const again = runner.startExecution('pay_dup', { amount: 100 });

    expect(again).toEqual(first);
    expect(first.executionArn).toBe('arn:aws:states:us-east-1:123456789012:execution:local:pay_dup');
    expect(() => runner.startExecution('pay_dup', { amount: 200 })).toThrow(
      expect.objectContaining({ name: 'ExecutionAlreadyExists' }),
    );
    runner.sendTaskSuccess(await pendingToken(runner, 'pay_dup'), '{}');
    await runner.waitForExecution('pay_dup', WAIT);
    // Closed: the name stays taken even for the same input (AWS keeps it for 90 days).
    expect(() => runner.startExecution('pay_dup', { amount: 100 })).toThrow(
      expect.objectContaining({ name: 'ExecutionAlreadyExists' }),
    );
    expect(() => runner.startExecution('bad name', {})).toThrow(
      expect.objectContaining({ name: 'InvalidName' }),
    );
    expect(() => runner.describeExecution('unknown')).toThrow(
      expect.objectContaining({ name: 'ExecutionDoesNotExist' }),
    );
    expect(runner.listExecutions({ status: 'SUCCEEDED' }).map((execution) => execution.name)).toEqual([
      'pay_dup',
    ]);
  });

  it('stop() aborts running executions and spends their tokens', async () => {
    const { runner } = runnerFor(PARKED, { lambdas: { noop: async () => null } });
    runner.startExecution('pay_parked');
    const token = await pendingToken(runner, 'pay_parked');

    await runner.stop();

    expect(runner.describeExecution('pay_parked')).toMatchObject({
      status: 'ABORTED',
      error: 'States.Aborted',
    });
    expect(runner.pendingTasks()).toEqual([]);
    expect(() => runner.sendTaskSuccess(token, '{}')).toThrow(
      expect.objectContaining({ name: 'TaskTimedOut' }),
    );
  });

  it("scales the machine's own TimeoutSeconds and reports TIMED_OUT", async () => {
    const { runner } = runnerFor(
      { ...PARKED, TimeoutSeconds: 3600 },
      { lambdas: { noop: async () => null }, taskTimeoutScale: 0.00001 }, // 3600 s → 36 ms
    );

    runner.startExecution('pay_slow');
    const token = await pendingToken(runner, 'pay_slow');
    const done = await runner.waitForExecution('pay_slow', WAIT);

    expect(done).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    expect(() => runner.sendTaskSuccess(token, '{}')).toThrow(
      expect.objectContaining({ name: 'TaskTimedOut' }),
    );
  });

  it('runs 200 concurrent executions to completion without starving the event loop', async () => {
    const { runner, bus } = runnerFor(
      {
        StartAt: 'Verify',
        States: {
          Verify: lambdaTask('VerifyFunctionArn', {
            ResultSelector: { 'ok.$': '$.Payload.ok' },
            Next: 'Settle',
          }),
          Settle: { Type: 'Wait', Seconds: 3600, Next: 'Route' },
          Route: {
            Type: 'Choice',
            Choices: [{ Variable: '$.ok', BooleanEquals: true, Next: 'Announce' }],
            Default: 'Rejected',
          },
          Announce: {
            Type: 'Task',
            Resource: 'arn:aws:states:::events:putEvents',
            Parameters: {
              Entries: [
                {
                  Source: 'kbank.payments',
                  DetailType: 'payment.authorized',
                  Detail: { 'payment_id.$': '$$.Execution.Name' },
                },
              ],
            },
            End: true,
          },
          Rejected: { Type: 'Fail', Error: 'Rejected' },
        },
      },
      {
        substitutions: { VerifyFunctionArn: 'verify' },
        lambdas: {
          verify: async () => {
            await new Promise((wake) => setTimeout(wake, 1)); // a little I/O-like latency per call
            return { ok: true };
          },
        },
      },
    );
    const lag = monitorEventLoopDelay({ resolution: 5 });
    lag.enable();
    const started = Date.now();

    const names = Array.from({ length: 200 }, (_, i) => `pay_bulk_${i}`);
    for (const name of names) runner.startExecution(name, { name });
    const results = await Promise.all(names.map((name) => runner.waitForExecution(name, 20_000)));

    lag.disable();
    const elapsed = Date.now() - started;
    expect(results.every((result) => result.status === 'SUCCEEDED')).toBe(true);
    expect(new Set(bus.events().map((event) => event.detail.payment_id)).size).toBe(200);
    // Starving the loop (synchronous runs) shows as seconds of lag; a loaded host adds a few hundred ms.
    expect(lag.max / 1e6).toBeLessThan(1_500);
    expect(elapsed).toBeLessThan(30_000);
  });
});

describe('SFN endpoint with the real SFNClient', () => {
  it('starts, describes, resumes and stops executions, with AWS error classes', async () => {
    const { runner } = runnerFor(
      {
        StartAt: 'Park',
        States: {
          Park: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
            Parameters: { FunctionName: 'noop', Payload: { 'token.$': '$$.Task.Token' } },
            Catch: [{ ErrorEquals: ['PaymentDeclined'], ResultPath: '$.declined', Next: 'Declined' }],
            End: true,
          },
          Declined: { Type: 'Pass', End: true },
        },
      },
      {
        lambdas: { noop: async () => null },
        stateMachineArn: 'arn:aws:states:ap-southeast-1:123456789012:stateMachine:payment-saga',
      },
    );
    const endpoint = await startSfnEndpoint(runner);
    const sfn = new SFNClient({
      endpoint: endpoint.url,
      region: 'ap-southeast-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const stateMachineArn = runner.stateMachineArn;
      const start = (name: string, input: object) =>
        sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));

      const started = await start('pay_sdk', { amount: 1 });
      expect(started.executionArn).toBe(
        'arn:aws:states:ap-southeast-1:123456789012:execution:payment-saga:pay_sdk',
      );
      expect(started.startDate).toBeInstanceOf(Date);
      expect((await start('pay_sdk', { amount: 1 })).executionArn).toBe(started.executionArn);
      await expect(start('pay_sdk', { amount: 2 })).rejects.toBeInstanceOf(ExecutionAlreadyExists);

      const running = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
      expect(running).toMatchObject({
        status: 'RUNNING',
        name: 'pay_sdk',
        input: '{"amount":1}',
        stateMachineArn,
      });

      const token = await pendingToken(runner, 'pay_sdk');
      await sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }));
      await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"status":"paid"}' }));
      await runner.waitForExecution('pay_sdk', WAIT);
      const succeeded = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
      expect(succeeded).toMatchObject({ status: 'SUCCEEDED', output: '{"status":"paid"}' });
      expect(succeeded.stopDate).toBeInstanceOf(Date);

      await expect(
        sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })),
      ).rejects.toBeInstanceOf(TaskTimedOut);
      await expect(
        sfn.send(new SendTaskFailureCommand({ taskToken: 'not-a-token', error: 'X' })),
      ).rejects.toBeInstanceOf(InvalidToken);
      await expect(
        sfn.send(new DescribeExecutionCommand({ executionArn: `${started.executionArn}-nope` })),
      ).rejects.toBeInstanceOf(ExecutionDoesNotExist);

      const declined = await start('pay_sdk_declined', {});
      const declinedToken = await pendingToken(runner, 'pay_sdk_declined');
      await sfn.send(
        new SendTaskFailureCommand({
          taskToken: declinedToken,
          error: 'PaymentDeclined',
          cause: 'card declined',
        }),
      );
      expect((await runner.waitForExecution('pay_sdk_declined', WAIT)).output).toEqual({
        declined: { Error: 'PaymentDeclined', Cause: 'card declined' },
      });

      const toStop = await start('pay_sdk_stop', {});
      await sfn.send(
        new StopExecutionCommand({ executionArn: toStop.executionArn, error: 'Canceled', cause: 'by test' }),
      );
      const stopped = await sfn.send(new DescribeExecutionCommand({ executionArn: toStop.executionArn }));
      expect(stopped).toMatchObject({ status: 'ABORTED', error: 'Canceled', cause: 'by test' });
      expect(declined.executionArn).toContain(':pay_sdk_declined');
    } finally {
      sfn.destroy();
      await endpoint.close();
    }
  });
});
