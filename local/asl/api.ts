/** The ASL runner's public shapes: options, executions, pending tasks, the runner and its API error. */

import type * as DynamoDb from '@aws-sdk/client-dynamodb';
import type { Context as LambdaContext } from 'aws-lambda';
import type { LocalEventBus } from '../event-bus.js';

/** A Lambda handler run in-process. Method syntax makes it bivariant, so typed handlers can be registered as is. */
export type LocalLambdaHandler = {
  bivarianceHack(event: unknown, context: LambdaContext): Promise<unknown>;
}['bivarianceHack'];

/** A Task resource we do not model ourselves (e.g. `sqs:sendMessage`): resolved Parameters in, task result out. */
export type LocalServiceIntegration = (parameters: unknown) => Promise<unknown>;

export interface AslRunnerOptions {
  /** ASL JSON (JSONPath), before substitution. */
  definition: string | object;
  /** Replaces `${Key}` in the definition text, as CDK's definitionSubstitutions does. */
  substitutions?: Record<string, string>;
  /** By function name or ARN, as FunctionName / Resource read after substitution. */
  lambdas?: Record<string, LocalLambdaHandler>;
  eventBus?: LocalEventBus;
  /** For the `dynamodb:*` optimized integrations and `aws-sdk:dynamodb:*`. */
  dynamodb?: DynamoDb.DynamoDBClient;
  /** Extra resources, keyed like `sqs:sendMessage` or the full `arn:aws:states:::sqs:sendMessage`. */
  integrations?: Record<string, LocalServiceIntegration>;
  /** Multiplies Wait durations and Retry intervals: 1 = real time, 0 = never sleep. */
  waitScale?: number;
  /** Multiplies Task TimeoutSeconds/HeartbeatSeconds and the machine's TimeoutSeconds. Must be > 0. */
  taskTimeoutScale?: number;
  stateMachineArn?: string;
  onTransition?: (executionName: string, stateName: string) => void;
  /** Counts what the executions do (local/counters.ts): their transitions, and each Task's work as one unit. */
  meter?: AslMeter;
  /** Closed executions keep their history; beyond this many, the oldest ones drop it (status and output stay). */
  retainClosedHistories?: number;
}

/** The execution a transition or a Task belongs to. */
export interface MeteredExecution {
  name: string;
  input: unknown;
}

export interface AslMeter {
  /** One state transition as Step Functions Standard bills it: a state entered (any type), or a retry of it. */
  transition(execution: MeteredExecution, stateName: string): void;
  /** Runs one Task state's integration (its Lambda, DynamoDB or PutEvents call); resolves with its result. */
  task<T>(execution: MeteredExecution, stateName: string, run: () => Promise<T>): Promise<T>;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionHistoryEvent {
  /** The aws-local-stepfunctions event type: StateEntered, StateExited, StateFailed, StateRetried, StateCaught… */
  type: string;
  timestamp: Date;
  stateName?: string;
  stateType?: string;
  error?: string;
  cause?: string;
}

export interface ExecutionSummary {
  executionArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
}

export interface ExecutionDescription extends ExecutionSummary {
  stateMachineArn: string;
  input: unknown;
  output?: unknown;
  error?: string;
  cause?: string;
  history: ExecutionHistoryEvent[];
  /** Names of the states entered, in order (nested Map/Parallel states included). */
  enteredStates: string[];
  /** State transitions so far as Step Functions Standard bills them: states entered plus retries. */
  transitions: number;
}

export interface StartExecutionResult {
  executionArn: string;
  startDate: Date;
}

export interface PendingTask {
  token: string;
  executionName: string;
  stateName: string;
  resource: string;
  /** The resolved Parameters, token substituted. */
  parameters: unknown;
  startDate: Date;
}

export interface AslRunner {
  readonly stateMachineArn: string;
  /** AWS semantics: same name + same input while running returns it; otherwise ExecutionAlreadyExists. */
  startExecution(name: string, input?: unknown): StartExecutionResult;
  /** By name or execution ARN. */
  describeExecution(nameOrArn: string): ExecutionDescription;
  waitForExecution(nameOrArn: string, timeoutMs: number): Promise<ExecutionDescription>;
  stopExecution(nameOrArn: string, error?: string, cause?: string): Promise<{ stopDate: Date }>;
  listExecutions(filter?: { status?: ExecutionStatus }): ExecutionSummary[];
  /** `output` is JSON text, as in the SendTaskSuccess API. */
  sendTaskSuccess(token: string, output: string): void;
  sendTaskFailure(token: string, error?: string, cause?: string): void;
  sendTaskHeartbeat(token: string): void;
  /** Callback tasks waiting for a token, oldest first. */
  pendingTasks(executionName?: string): PendingTask[];
  /** Aborts every running execution and waits until they are closed. */
  stop(): Promise<void>;
}

/** An error of the Step Functions API; `name` is the AWS error code the SDK maps to its exception class. */
export class SfnApiError extends Error {
  constructor(code: string, message: string) {
    super(message);
    this.name = code;
  }
}
