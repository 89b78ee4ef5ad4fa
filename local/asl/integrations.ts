/**
 * The integrations a planned Task runs: in-process Lambda handlers (with AWS's result and error shapes),
 * `events:putEvents` on the local bus, and DynamoDB through the real SDK client.
 */
import { randomUUID } from 'node:crypto';
import type * as DynamoDb from '@aws-sdk/client-dynamodb';
import type { Context as LambdaContext } from 'aws-lambda';
import type { LocalEventBus, LocalEventEntry } from '../event-bus.js';
import type { AslRunnerOptions } from './api.js';
import { dynamoDbCommandFor, functionNameOf, type Integration, type LambdaIndex } from './tasks.js';
import { type JsonObject, jsonCopy, namedError } from './values.js';

export interface InvokeContext {
  lambdas: LambdaIndex;
  options: AslRunnerOptions;
  stateName: string;
  /** For the Lambda context's ARN. */
  region: string;
  account: string;
  deadlineMs: number | undefined;
}

export async function invoke(
  integration: Integration,
  parameters: unknown,
  context: InvokeContext,
): Promise<unknown> {
  switch (integration.kind) {
    case 'lambda-arn':
      return invokeLambda(integration.functionName, parameters, context);
    case 'lambda:invoke': {
      const { FunctionName, Payload, InvocationType } = (parameters ?? {}) as JsonObject;
      if (typeof FunctionName !== 'string') {
        throw namedError('Lambda.InvalidParameterValueException', 'FunctionName is required');
      }
      if (InvocationType === 'Event') {
        invokeLambda(FunctionName, Payload, context).catch((error) =>
          console.error(`asl-runner: async invocation of ${FunctionName} failed`, error),
        );
        return { Payload: '', StatusCode: 202 };
      }
      const result = await invokeLambda(FunctionName, Payload, context);
      return { ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 };
    }
    case 'events:putEvents':
      return putEvents(parameters, context.options.eventBus as LocalEventBus);
    case 'dynamodb':
      return callDynamoDb(integration, parameters, context.options.dynamodb as DynamoDb.DynamoDBClient);
    case 'custom':
      return integration.run(parameters);
  }
}

async function invokeLambda(
  functionName: string,
  payload: unknown,
  context: InvokeContext,
): Promise<unknown> {
  const handler = context.lambdas.find(functionName);
  if (!handler) {
    throw namedError('Lambda.ResourceNotFoundException', `Function not found: ${functionName}`);
  }
  const name = functionNameOf(functionName);
  const deadline = Date.now() + (context.deadlineMs ?? 900_000);
  const lambdaContext: LambdaContext = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${context.region}:${context.account}:function:${name}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  let result: unknown;
  try {
    // A copy, as the wire would make: the handler must not be able to mutate the execution's data.
    result = await handler(jsonCopy(payload ?? {}), lambdaContext);
  } catch (error) {
    const errorType = error instanceof Error ? error.name : 'Error';
    const errorMessage = error instanceof Error ? error.message : String(error);
    // Same shape as AWS: Error = errorType (what Retry/Catch match), Cause = the JSON the runtime reports.
    throw namedError(errorType, JSON.stringify({ errorType, errorMessage }));
  }
  return jsonCopy(result ?? null);
}

function putEvents(parameters: unknown, bus: LocalEventBus): unknown {
  const entries = ((parameters as JsonObject | undefined)?.Entries ?? []) as LocalEventEntry[];
  let result: ReturnType<LocalEventBus['putEvents']>;
  try {
    result = bus.putEvents(entries);
  } catch (error) {
    throw namedError(`EventBridge.${(error as Error).name}`, (error as Error).message);
  }
  // The optimized integration fails the task when any entry failed, with this error name.
  if (result.FailedEntryCount > 0) throw namedError('EventBridge.FailedEntry', JSON.stringify(result));
  return result;
}

const RETAINED_DYNAMODB_ERROR_NAMES = new Set([
  'ConditionalCheckFailedException',
  'ProvisionedThroughputExceededException',
  'ResourceNotFoundException',
  'ItemCollectionSizeLimitExceededException',
  'TransactionConflictException',
  'TransactionCanceledException',
  'RequestLimitExceeded',
  'InternalServerError',
]);

async function callDynamoDb(
  integration: Extract<Integration, { kind: 'dynamodb' }>,
  parameters: unknown,
  client: DynamoDb.DynamoDBClient,
): Promise<unknown> {
  const Command = dynamoDbCommandFor(integration.action) as new (
    input: unknown,
  ) => Parameters<typeof client.send>[0];
  try {
    const { $metadata: _metadata, ...response } = (await client.send(
      new Command(parameters),
    )) as unknown as JsonObject;
    return jsonCopy(response);
  } catch (error) {
    const name = (error as Error).name;
    // Optimized integrations report validation and other SDK errors under one name, as AWS does.
    const reported =
      integration.errorPrefix === 'DynamoDb' || RETAINED_DYNAMODB_ERROR_NAMES.has(name)
        ? name
        : 'AmazonDynamoDBException';
    throw namedError(
      `${integration.errorPrefix}.${reported}`,
      `${(error as Error).message} (Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ${name})`,
    );
  }
}
