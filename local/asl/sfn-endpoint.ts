/**
 * The Step Functions JSON 1.0 endpoint: the subset of the API the app uses, so the unmodified SFNClient can
 * target one runner or several (one per state machine).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AslRunner, SfnApiError } from './api.js';
import type { JsonObject } from './values.js';

export interface SfnEndpoint {
  url: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Serves the subset of the Step Functions API the app uses, so the unmodified SFNClient can target the
 * runner, or several runners (one per state machine): StartExecution goes by `stateMachineArn`, execution
 * calls by the state machine name inside the execution ARN, task tokens to the runner that issued them.
 */
export async function startSfnEndpoint(
  runnerOrRunners: AslRunner | readonly AslRunner[],
  options: { port?: number; host?: string } = {},
): Promise<SfnEndpoint> {
  const runners: readonly AslRunner[] = Array.isArray(runnerOrRunners)
    ? runnerOrRunners
    : [runnerOrRunners as AslRunner];
  if (runners.length === 0) throw new Error('startSfnEndpoint needs at least one runner');
  const host = options.host ?? '127.0.0.1';
  const server = createServer((request, response) => {
    handleSfnRequest(runners, request, response).catch((error) => {
      console.error('sfn endpoint: unexpected failure', error);
      if (!response.headersSent)
        reply(response, 500, { __type: 'InternalFailure', message: 'internal error' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handleSfnRequest(
  runners: readonly AslRunner[],
  request: IncomingMessage,
  response: ServerResponse,
) {
  const target = String(request.headers['x-amz-target'] ?? '');
  const operation = target.startsWith('AWSStepFunctions.') ? target.slice('AWSStepFunctions.'.length) : '';
  let body: JsonObject;
  try {
    body = await readJsonBody(request);
  } catch (error) {
    return reply(response, 400, { __type: 'SerializationException', message: (error as Error).message });
  }
  try {
    return reply(response, 200, await dispatch(runners, request.method === 'POST' ? operation : '', body));
  } catch (error) {
    if (error instanceof SfnApiError)
      return reply(response, 400, { __type: error.name, message: error.message });
    throw error;
  }
}

async function dispatch(
  runners: readonly AslRunner[],
  operation: string,
  body: JsonObject,
): Promise<JsonObject> {
  const text = (field: string): string | undefined =>
    typeof body[field] === 'string' ? body[field] : undefined;
  // The runner whose executions the ARN names; the first one answers (ExecutionDoesNotExist) otherwise.
  const executionOwner = (executionArn: string): AslRunner =>
    runners.find((candidate) =>
      executionArn.startsWith(`${candidate.stateMachineArn.replace(':stateMachine:', ':execution:')}:`),
    ) ?? (runners[0] as AslRunner);
  // Tokens are signed per runner: one that is not ours (InvalidToken) may be the next runner's.
  const tokenCall = (call: (candidate: AslRunner) => void): void => {
    for (const [index, candidate] of runners.entries()) {
      try {
        call(candidate);
        return;
      } catch (error) {
        const last = index === runners.length - 1;
        if (last || !(error instanceof SfnApiError && error.name === 'InvalidToken')) throw error;
      }
    }
  };
  const required = (field: string): string => {
    const value = text(field);
    if (value === undefined) throw new SfnApiError('ValidationException', `${field} is required`);
    return value;
  };
  const epochSeconds = (date: Date) => date.getTime() / 1000;
  switch (operation) {
    case 'StartExecution': {
      const runner = runners.find((candidate) => candidate.stateMachineArn === required('stateMachineArn'));
      if (!runner) {
        throw new SfnApiError(
          'StateMachineDoesNotExist',
          `State Machine Does Not Exist: '${text('stateMachineArn')}'`,
        );
      }
      let input: unknown;
      try {
        input = JSON.parse(text('input') ?? '{}');
      } catch {
        throw new SfnApiError('InvalidExecutionInput', 'Invalid State Machine Execution Input: not JSON');
      }
      const started = runner.startExecution(text('name') ?? randomUUID(), input);
      return { executionArn: started.executionArn, startDate: epochSeconds(started.startDate) };
    }
    case 'DescribeExecution': {
      const executionArn = arnOnly(required('executionArn'));
      const description = executionOwner(executionArn).describeExecution(executionArn);
      return {
        executionArn: description.executionArn,
        stateMachineArn: description.stateMachineArn,
        name: description.name,
        status: description.status,
        startDate: epochSeconds(description.startDate),
        ...(description.stopDate ? { stopDate: epochSeconds(description.stopDate) } : {}),
        input: JSON.stringify(description.input),
        inputDetails: { included: true },
        ...(description.status === 'SUCCEEDED'
          ? { output: JSON.stringify(description.output), outputDetails: { included: true } }
          : {}),
        ...(description.error !== undefined ? { error: description.error } : {}),
        ...(description.cause !== undefined ? { cause: description.cause } : {}),
      };
    }
    case 'StopExecution': {
      const executionArn = arnOnly(required('executionArn'));
      const { stopDate } = await executionOwner(executionArn).stopExecution(
        executionArn,
        text('error'),
        text('cause'),
      );
      return { stopDate: epochSeconds(stopDate) };
    }
    case 'SendTaskSuccess':
      tokenCall((runner) => runner.sendTaskSuccess(required('taskToken'), required('output')));
      return {};
    case 'SendTaskFailure':
      tokenCall((runner) => runner.sendTaskFailure(required('taskToken'), text('error'), text('cause')));
      return {};
    case 'SendTaskHeartbeat':
      tokenCall((runner) => runner.sendTaskHeartbeat(required('taskToken')));
      return {};
    default:
      throw new SfnApiError(
        'UnknownOperationException',
        `Operation not supported locally: ${operation || '(none)'}`,
      );
  }
}

/** The API takes ARNs only; a bare name would be an InvalidArn at AWS. */
function arnOnly(executionArn: string): string {
  if (!executionArn.startsWith('arn:')) throw new SfnApiError('InvalidArn', `Invalid Arn: '${executionArn}'`);
  return executionArn;
}

async function readJsonBody(request: IncomingMessage): Promise<JsonObject> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('body must be an object');
  return parsed as JsonObject;
}

function reply(response: ServerResponse, status: number, body: JsonObject): void {
  const payload = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': randomUUID(),
    ...(status >= 400 && typeof body.__type === 'string' ? { 'x-amzn-errortype': body.__type } : {}),
  });
  response.end(payload);
}
