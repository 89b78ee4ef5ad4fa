/** In-process Step Functions: aws-local-stepfunctions plus our Task integrations, task tokens and an SFN endpoint. */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import * as DynamoDb from '@aws-sdk/client-dynamodb';
import type { Context as LambdaContext } from 'aws-lambda';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import type { LocalEventBus, LocalEventEntry } from './event-bus.js';

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
  /** Closed executions keep their history; beyond this many, the oldest ones drop it (status and output stay). */
  retainClosedHistories?: number;
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

const DEFAULT_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:local';
/** $$.Task.Token resolves to this; each task entry swaps in a fresh token. */
const TOKEN_PLACEHOLDER = '__asl_runner_task_token__';
/** Largest setTimeout delay Node honours; the library's own task timer is parked here so ours decide. */
const MAX_TIMER_SECONDS = 2_147_483;
const MAX_HISTORY_EVENTS = 25_000;
const OPTIMIZED_DYNAMODB_ACTIONS = ['getItem', 'putItem', 'updateItem', 'deleteItem'] as const;

type Integration =
  | { kind: 'lambda:invoke' }
  | { kind: 'lambda-arn'; functionName: string }
  | { kind: 'events:putEvents' }
  | { kind: 'dynamodb'; action: string; errorPrefix: 'DynamoDB' | 'DynamoDb' }
  | { kind: 'custom'; run: LocalServiceIntegration };

interface TaskPlan {
  resource: string;
  integration: Integration;
  waitForTaskToken: boolean;
  timeoutSeconds?: number;
  timeoutSecondsPath?: string;
  heartbeatSeconds?: number;
  heartbeatSecondsPath?: string;
}

interface ExecutionRecord {
  name: string;
  arn: string;
  input: unknown;
  canonicalInput: string;
  status: ExecutionStatus;
  output?: unknown;
  error?: string;
  cause?: string;
  startDate: Date;
  stopDate?: Date;
  history: ExecutionHistoryEvent[];
  tokens: Set<string>;
  abort: () => void;
  stopRequest?: { error?: string; cause?: string };
  done: Promise<void>;
}

interface PendingEntry extends PendingTask {
  execution: ExecutionRecord;
  heartbeatMs?: number;
  heartbeatTimer?: NodeJS.Timeout;
  timeoutTimer?: NodeJS.Timeout;
  settle(outcome: { output: unknown } | { error: Error }): void;
}

type JsonObject = Record<string, unknown>;

const validatedDefinitions = new Set<string>();

export function createAslRunner(options: AslRunnerOptions): AslRunner {
  const waitScale = options.waitScale ?? 1;
  const timeoutScale = options.taskTimeoutScale ?? 1;
  if (!(waitScale >= 0)) throw new Error('waitScale must be >= 0');
  if (!(timeoutScale > 0))
    throw new Error('taskTimeoutScale must be > 0 (a zero timeout would fail every task)');
  const stateMachineArn = options.stateMachineArn ?? DEFAULT_STATE_MACHINE_ARN;
  const arnParts = parseStateMachineArn(stateMachineArn);
  const executionArnPrefix = `arn:${arnParts.partition}:states:${arnParts.region}:${arnParts.account}:execution:${arnParts.name}:`;

  const definition = substitute(options.definition, options.substitutions ?? {});
  // Validate the definition as written; the rewritten copy below deliberately breaks a few rules (fractions).
  // The validator costs ~150 ms a call, so each distinct definition is validated once per process.
  const definitionText = JSON.stringify(definition);
  if (!validatedDefinitions.has(definitionText)) {
    new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
    validatedDefinitions.add(definitionText);
  }

  const lambdas = indexLambdas(options.lambdas ?? {});
  const integrations = new Map(
    Object.entries(options.integrations ?? {}).map(([key, run]) => [serviceOf(key), run] as const),
  );
  const plans = new Map<string, TaskPlan>();
  const waitOverrides: Record<string, number> = {};
  const runtimeDefinition = rewrite(definition, {
    waitScale,
    timeoutScale,
    onTask(name, state) {
      const plan = planTask(name, state, { lambdas, integrations, options });
      const existing = plans.get(name);
      if (existing && JSON.stringify(existing) !== JSON.stringify(plan)) {
        throw new Error(`two Task states are named ${name} with different definitions; rename one`);
      }
      plans.set(name, plan);
    },
    onWait(name, state) {
      if (waitScale === 1 || (state.Seconds !== undefined && waitScale !== 0)) return;
      if (waitScale === 0) {
        waitOverrides[name] = 0;
      } else if (typeof state.Timestamp === 'string') {
        const until = Date.parse(state.Timestamp);
        // A getter: the library reads it when the state runs, so "until" is measured from that moment.
        Object.defineProperty(waitOverrides, name, {
          enumerable: true,
          get: () => Math.max(0, until - Date.now()) * waitScale,
        });
      }
    },
  });
  const machine = new StateMachine(runtimeDefinition, { validationOptions: { noValidate: true } });

  const executions = new Map<string, ExecutionRecord>();
  const closedWithHistory: ExecutionRecord[] = [];
  const retainClosedHistories = options.retainClosedHistories ?? 10_000;
  const pending = new Map<string, PendingEntry>();
  const tokens = createTokenIssuer();
  let stopped = false;

  const nameOf = (nameOrArn: string): string => {
    if (!nameOrArn.startsWith('arn:')) return nameOrArn;
    if (!nameOrArn.startsWith(executionArnPrefix)) {
      throw new SfnApiError('ExecutionDoesNotExist', `Execution does not exist: '${nameOrArn}'`);
    }
    return nameOrArn.slice(executionArnPrefix.length);
  };

  const recordOf = (nameOrArn: string): ExecutionRecord => {
    const record = executions.get(nameOf(nameOrArn));
    if (!record) throw new SfnApiError('ExecutionDoesNotExist', `Execution does not exist: '${nameOrArn}'`);
    return record;
  };

  const describe = (record: ExecutionRecord): ExecutionDescription => ({
    executionArn: record.arn,
    stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: record.startDate,
    ...(record.stopDate ? { stopDate: record.stopDate } : {}),
    // Copies: callers must not be able to rewrite an execution's recorded data.
    input: structuredClone(record.input),
    ...(record.status === 'SUCCEEDED' ? { output: structuredClone(record.output) } : {}),
    ...(record.error !== undefined ? { error: record.error } : {}),
    ...(record.cause !== undefined ? { cause: record.cause } : {}),
    history: record.history.map((event) => ({ ...event })),
    enteredStates: record.history.flatMap((event) =>
      event.type === 'StateEntered' && event.stateName ? [event.stateName] : [],
    ),
  });

  const closeTokens = (record: ExecutionRecord) => {
    for (const token of record.tokens) {
      // Not retryable nor catchable: the execution is over, the parked state must just unwind.
      pending.get(token)?.settle({ error: unwindError('execution closed') });
    }
  };

  const finish = (record: ExecutionRecord, outcome: Partial<ExecutionRecord>) => {
    Object.assign(record, outcome, { stopDate: new Date() });
    closeTokens(record);
    closedWithHistory.push(record);
    if (closedWithHistory.length > retainClosedHistories) {
      const oldest = closedWithHistory.shift();
      if (oldest) oldest.history = [];
    }
  };

  const appendHistory = (record: ExecutionRecord, event: ExecutionHistoryEvent) => {
    if (record.history.length >= MAX_HISTORY_EVENTS) record.history.shift();
    record.history.push(event);
  };

  const runTask = async (
    record: ExecutionRecord,
    stateName: string,
    rawParameters: unknown,
  ): Promise<unknown> => {
    const { parameters, timers } = takeTimerPaths(rawParameters);
    // Yield to I/O between states: hundreds of executions must interleave, servers must stay responsive.
    await nextMacrotask();
    const timeoutError = await statesTimeoutErrorFactory();
    if (record.status !== 'RUNNING' || record.stopRequest) throw unwindError('execution closed');
    const plan = plans.get(stateName);
    if (!plan) throw unwindError(`no plan for Task state ${stateName}`);
    const timeoutMs = scaledMs(
      secondsOf(plan.timeoutSeconds, plan.timeoutSecondsPath, timers.timeout, parameters),
      timeoutScale,
    );
    const call = (effective: unknown) =>
      invoke(plan.integration, effective, { lambdas, options, stateName, arnParts, deadlineMs: timeoutMs });

    if (!plan.waitForTaskToken) {
      return withTimeout(call(parameters), timeoutMs, timeoutError);
    }

    const token = tokens.issue(record.name);
    const resolved = replaceDeep(parameters, TOKEN_PLACEHOLDER, token);
    const { promise, resolve, reject } = deferred<unknown>();
    // Settled early (a SendTaskFailure or the timeout while the integration is still in flight), it is
    // awaited only below: marked handled so that Node does not take it for an unhandled rejection and exit.
    promise.catch(() => undefined);
    const entry: PendingEntry = {
      token,
      executionName: record.name,
      stateName,
      resource: plan.resource,
      parameters: resolved,
      startDate: new Date(),
      execution: record,
      heartbeatMs: scaledMs(
        secondsOf(plan.heartbeatSeconds, plan.heartbeatSecondsPath, timers.heartbeat, parameters),
        timeoutScale,
      ),
      settle(outcome) {
        if (!pending.delete(token)) return;
        record.tokens.delete(token);
        clearTimeout(entry.timeoutTimer);
        clearTimeout(entry.heartbeatTimer);
        if ('error' in outcome) reject(outcome.error);
        else resolve(outcome.output);
      },
    };
    // Registered before the integration runs: a callback may arrive while it is still in flight.
    pending.set(token, entry);
    record.tokens.add(token);
    if (timeoutMs !== undefined) {
      entry.timeoutTimer = setTimeout(() => entry.settle({ error: timeoutError() }), timeoutMs);
    }
    armHeartbeat(entry);
    try {
      await call(resolved);
    } catch (error) {
      entry.settle({ error: error as Error });
    }
    return promise;
  };

  const armHeartbeat = (entry: PendingEntry) => {
    clearTimeout(entry.heartbeatTimer);
    if (entry.heartbeatMs === undefined) return;
    entry.heartbeatTimer = setTimeout(
      () =>
        entry.settle({
          error: namedError('States.HeartbeatTimeout', 'The task did not send a heartbeat in time'),
        }),
      entry.heartbeatMs,
    );
  };

  const taskHandlerNames = [...plans.keys()];

  const startRun = (record: ExecutionRecord) => {
    const handlers = Object.fromEntries(
      taskHandlerNames.map((name) => [name, (input: unknown) => runTask(record, name, input)]),
    );
    const run = machine.run(record.input as never, {
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        waitTimeOverrides: waitOverrides,
      },
      context: contextObject(record, stateMachineArn, arnParts.name),
    });
    record.abort = run.abort;
    const drained = (async () => {
      for await (const event of run.eventLogs) {
        const state = 'state' in event ? event.state : undefined;
        const failure = 'Error' in event ? { error: event.Error, cause: stringify(event.Cause) } : {};
        appendHistory(record, {
          type: event.type,
          timestamp: new Date(event.timestamp),
          ...(state ? { stateName: state.name, stateType: state.type } : {}),
          ...failure,
        });
        if (event.type === 'StateEntered' && state && options.onTransition) {
          try {
            options.onTransition(record.name, state.name);
          } catch (error) {
            console.error('asl-runner: onTransition threw', error);
          }
        }
      }
    })();
    const outcome = run.result.then(
      (output): Partial<ExecutionRecord> => ({ status: 'SUCCEEDED', output }),
      (error: unknown): Partial<ExecutionRecord> => classifyFailure(error, record),
    );
    record.done = Promise.all([outcome, drained.catch(() => undefined)]).then(([result]) =>
      finish(record, result),
    );
  };

  const runner: AslRunner = {
    stateMachineArn,

    startExecution(name, input = {}) {
      if (stopped) throw new SfnApiError('StateMachineDeleting', 'The runner is stopped');
      validateName(name);
      const canonicalInput = JSON.stringify(input);
      if (canonicalInput === undefined) throw new SfnApiError('InvalidExecutionInput', 'Input must be JSON');
      const existing = executions.get(name);
      if (existing) {
        if (existing.status === 'RUNNING' && existing.canonicalInput === canonicalInput) {
          return { executionArn: existing.arn, startDate: existing.startDate };
        }
        throw new SfnApiError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.arn}'`);
      }
      const record: ExecutionRecord = {
        name,
        arn: executionArnPrefix + name,
        input: JSON.parse(canonicalInput),
        canonicalInput,
        status: 'RUNNING',
        startDate: new Date(),
        history: [],
        tokens: new Set(),
        abort: () => undefined,
        done: Promise.resolve(),
      };
      executions.set(name, record);
      startRun(record);
      return { executionArn: record.arn, startDate: record.startDate };
    },

    describeExecution: (nameOrArn) => describe(recordOf(nameOrArn)),

    async waitForExecution(nameOrArn, timeoutMs) {
      const record = recordOf(nameOrArn);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`execution ${record.name} still ${record.status} after ${timeoutMs}ms`)),
          timeoutMs,
        );
      });
      try {
        await Promise.race([record.done, timedOut]);
      } finally {
        clearTimeout(timer);
      }
      return describe(record);
    },

    async stopExecution(nameOrArn, error, cause) {
      const record = recordOf(nameOrArn);
      if (record.status === 'RUNNING') {
        record.stopRequest = {
          ...(error !== undefined ? { error } : {}),
          ...(cause !== undefined ? { cause } : {}),
        };
        record.abort();
        closeTokens(record);
        await record.done;
      }
      return { stopDate: record.stopDate ?? new Date() };
    },

    listExecutions(filter) {
      return [...executions.values()]
        .filter((record) => !filter?.status || record.status === filter.status)
        .map((record) => ({
          executionArn: record.arn,
          name: record.name,
          status: record.status,
          startDate: record.startDate,
          ...(record.stopDate ? { stopDate: record.stopDate } : {}),
        }));
    },

    sendTaskSuccess(token, output) {
      const entry = pendingEntry(token);
      let parsed: unknown;
      try {
        parsed = JSON.parse(output);
      } catch {
        throw new SfnApiError('InvalidOutput', 'Invalid JSON output');
      }
      entry.settle({ output: parsed });
    },

    sendTaskFailure(token, error, cause) {
      const entry = pendingEntry(token);
      entry.settle({ error: namedError(error || 'States.TaskFailed', cause ?? '') });
    },

    sendTaskHeartbeat(token) {
      armHeartbeat(pendingEntry(token));
    },

    pendingTasks(executionName) {
      return [...pending.values()]
        .filter((entry) => executionName === undefined || entry.executionName === executionName)
        .map(({ token, executionName: name, stateName, resource, parameters, startDate }) => ({
          token,
          executionName: name,
          stateName,
          resource,
          parameters,
          startDate,
        }));
    },

    async stop() {
      stopped = true;
      const running = [...executions.values()].filter((record) => record.status === 'RUNNING');
      await Promise.all(
        running.map((record) => runner.stopExecution(record.name, 'States.Aborted', 'runner stopped')),
      );
    },
  };

  const pendingEntry = (token: string): PendingEntry => {
    const entry = pending.get(token);
    if (entry) return entry;
    // Ours but no longer waiting (answered, timed out, execution closed): what AWS answers for a spent token.
    if (tokens.isOurs(token))
      throw new SfnApiError('TaskTimedOut', 'Task Timed Out: the task is no longer waiting');
    throw new SfnApiError('InvalidToken', 'Invalid Token: not a task token of this state machine');
  };

  return runner;
}

function classifyFailure(error: unknown, record: ExecutionRecord): Partial<ExecutionRecord> {
  if (error instanceof ExecutionAbortedError) return { status: 'ABORTED', ...record.stopRequest };
  if (error instanceof ExecutionTimeoutError) {
    return {
      status: 'TIMED_OUT',
      error: 'States.Timeout',
      cause: 'The execution exceeded its TimeoutSeconds',
    };
  }
  const cause = error instanceof ExecutionError ? error.cause : error;
  if (cause instanceof Error) return { status: 'FAILED', error: cause.name, cause: cause.message };
  return { status: 'FAILED', error: 'States.Runtime', cause: stringify(cause) };
}

// ---------------------------------------------------------------------------------------------------------
// Definition preparation

function substitute(
  definition: string | object,
  substitutions: Record<string, string>,
): StateMachineDefinition {
  let text = typeof definition === 'string' ? definition : JSON.stringify(definition);
  for (const [key, value] of Object.entries(substitutions)) text = text.replaceAll(`\${${key}}`, value);
  const missing = [...new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((match) => match[1]))];
  if (missing.length > 0) throw new Error(`the definition needs substitutions for: ${missing.join(', ')}`);
  const parsed = JSON.parse(text) as StateMachineDefinition & { QueryLanguage?: string };
  if (parsed.QueryLanguage === 'JSONata' || text.includes('"QueryLanguage":"JSONata"')) {
    throw new Error('JSONata is not supported by aws-local-stepfunctions: write the ASL in JSONPath');
  }
  return parsed;
}

interface RewriteHooks {
  waitScale: number;
  timeoutScale: number;
  onTask(name: string, state: JsonObject): void;
  onWait(name: string, state: JsonObject): void;
}

/**
 * A copy the library can run with our time semantics: Task timeouts are removed (runTask enforces them, scaled,
 * because the library cannot scale them and defaults every task to 60 s), Wait seconds and Retry intervals scaled.
 */
function rewrite(definition: StateMachineDefinition, hooks: RewriteHooks): StateMachineDefinition {
  const copy = JSON.parse(JSON.stringify(definition)) as JsonObject; // not structuredClone: under jest it returns objects of another realm, which the runner treats as non-plain
  if (typeof copy.TimeoutSeconds === 'number') {
    copy.TimeoutSeconds = Math.min(copy.TimeoutSeconds * hooks.timeoutScale, MAX_TIMER_SECONDS);
  }
  rewriteStates(copy, hooks);
  return copy as unknown as StateMachineDefinition;
}

function rewriteStates(machine: JsonObject, hooks: RewriteHooks): void {
  const states = (machine.States ?? {}) as Record<string, JsonObject>;
  for (const [name, state] of Object.entries(states)) {
    if (Array.isArray(state.Retry)) {
      for (const retrier of state.Retry as JsonObject[]) {
        retrier.IntervalSeconds = ((retrier.IntervalSeconds as number | undefined) ?? 1) * hooks.waitScale;
        if (typeof retrier.MaxDelaySeconds === 'number') retrier.MaxDelaySeconds *= hooks.waitScale;
      }
    }
    if (state.Type === 'Task') {
      hooks.onTask(name, state);
      // Without Parameters the task's input is the state input itself, so the paths can be read from it.
      const parameters = state.Parameters as JsonObject | undefined;
      if (parameters && typeof state.TimeoutSecondsPath === 'string') {
        parameters[`${TIMER_KEYS.timeout}.$`] = state.TimeoutSecondsPath;
      }
      if (parameters && typeof state.HeartbeatSecondsPath === 'string') {
        parameters[`${TIMER_KEYS.heartbeat}.$`] = state.HeartbeatSecondsPath;
      }
      for (const field of [
        'TimeoutSeconds',
        'TimeoutSecondsPath',
        'HeartbeatSeconds',
        'HeartbeatSecondsPath',
      ]) {
        delete state[field];
      }
      state.TimeoutSeconds = MAX_TIMER_SECONDS;
    } else if (state.Type === 'Wait') {
      hooks.onWait(name, state);
      if (typeof state.Seconds === 'number') state.Seconds *= hooks.waitScale;
    } else if (state.Type === 'Parallel') {
      for (const branch of (state.Branches ?? []) as JsonObject[]) rewriteStates(branch, hooks);
    } else if (state.Type === 'Map') {
      const processor = (state.ItemProcessor ?? state.Iterator) as JsonObject | undefined;
      if (processor) rewriteStates(processor, hooks);
    }
  }
}

interface PlanContext {
  lambdas: LambdaIndex;
  integrations: Map<string, LocalServiceIntegration>;
  options: AslRunnerOptions;
}

function planTask(name: string, state: JsonObject, context: PlanContext): TaskPlan {
  const resource = String(state.Resource);
  const numberOrUndefined = (value: unknown) => (typeof value === 'number' ? value : undefined);
  const stringOrUndefined = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const base = {
    resource,
    timeoutSeconds: numberOrUndefined(state.TimeoutSeconds),
    timeoutSecondsPath: stringOrUndefined(state.TimeoutSecondsPath),
    heartbeatSeconds: numberOrUndefined(state.HeartbeatSeconds),
    heartbeatSecondsPath: stringOrUndefined(state.HeartbeatSecondsPath),
  };
  const lambdaArn = /^arn:aws[a-z-]*:lambda:[^:]*:[^:]*:function:(.+)$/.exec(resource);
  if (lambdaArn) {
    if (!context.lambdas.find(resource))
      throw new Error(`Task ${name}: no local handler for Lambda ${resource}`);
    return { ...base, integration: { kind: 'lambda-arn', functionName: resource }, waitForTaskToken: false };
  }
  let service = serviceOf(resource);
  const waitForTaskToken = service.endsWith('.waitForTaskToken');
  if (waitForTaskToken) service = service.slice(0, -'.waitForTaskToken'.length);
  if (service.endsWith('.sync') || service.endsWith('.sync:2')) {
    throw new Error(`Task ${name}: the .sync pattern (${resource}) is not supported by the local runner`);
  }
  const plan = (integration: Integration): TaskPlan => ({ ...base, integration, waitForTaskToken });
  const custom = context.integrations.get(service);
  if (custom) return plan({ kind: 'custom', run: custom });
  if (service === 'lambda:invoke') {
    const parameters = state.Parameters as JsonObject | undefined;
    const functionName = parameters?.FunctionName;
    if (typeof functionName === 'string' && !context.lambdas.find(functionName)) {
      throw new Error(`Task ${name}: no local handler for Lambda ${functionName}`);
    }
    return plan({ kind: 'lambda:invoke' });
  }
  if (service === 'events:putEvents') {
    if (!context.options.eventBus)
      throw new Error(`Task ${name} uses events:putEvents but no eventBus was given`);
    return plan({ kind: 'events:putEvents' });
  }
  const optimized = /^dynamodb:(\w+)$/.exec(service)?.[1];
  const sdk = /^aws-sdk:dynamodb:(\w+)$/.exec(service)?.[1];
  if (optimized || sdk) {
    if (!context.options.dynamodb)
      throw new Error(`Task ${name} uses ${service} but no dynamodb client was given`);
    const action = (optimized ?? sdk) as string;
    if (optimized && !(OPTIMIZED_DYNAMODB_ACTIONS as readonly string[]).includes(action)) {
      throw new Error(`Task ${name}: ${resource} is not a Step Functions DynamoDB integration`);
    }
    if (!commandFor(action)) throw new Error(`Task ${name}: unknown DynamoDB action ${action}`);
    return plan({ kind: 'dynamodb', action, errorPrefix: optimized ? 'DynamoDB' : 'DynamoDb' });
  }
  throw new Error(
    `Task ${name}: resource ${resource} is not supported locally (pass it in options.integrations to map it)`,
  );
}

/** `arn:aws:states:::lambda:invoke.waitForTaskToken` → `lambda:invoke.waitForTaskToken`; bare keys unchanged. */
function serviceOf(resource: string): string {
  return /^arn:aws[a-z-]*:states:[^:]*:[^:]*:(.+)$/.exec(resource)?.[1] ?? resource;
}

// ---------------------------------------------------------------------------------------------------------
// Integrations

interface InvokeContext {
  lambdas: LambdaIndex;
  options: AslRunnerOptions;
  stateName: string;
  arnParts: StateMachineArnParts;
  deadlineMs: number | undefined;
}

async function invoke(
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
    invokedFunctionArn: `arn:aws:lambda:${context.arnParts.region}:${context.arnParts.account}:function:${name}`,
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
  const Command = commandFor(integration.action) as new (input: unknown) => Parameters<typeof client.send>[0];
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

function commandFor(action: string): unknown {
  const className = `${action.charAt(0).toUpperCase()}${action.slice(1)}Command`;
  return (DynamoDb as unknown as Record<string, unknown>)[className];
}

interface LambdaIndex {
  find(functionNameOrArn: string): LocalLambdaHandler | undefined;
}

function indexLambdas(lambdas: Record<string, LocalLambdaHandler>): LambdaIndex {
  const exact = new Map(Object.entries(lambdas));
  const byName = new Map<string, LocalLambdaHandler>();
  for (const [key, handler] of exact) {
    const name = functionNameOf(key);
    const other = byName.get(name);
    if (other && other !== handler)
      throw new Error(`two different local handlers for Lambda function ${name}`);
    byName.set(name, handler);
  }
  return { find: (key) => exact.get(key) ?? byName.get(functionNameOf(key)) };
}

/** Accepts a name, `name:qualifier`, a full or partial ARN; returns the bare function name. */
function functionNameOf(nameOrArn: string): string {
  const match = /(?:^|:)function:([^:]+)/.exec(nameOrArn);
  if (match?.[1]) return match[1];
  return nameOrArn.split(':')[0] ?? nameOrArn;
}

// ---------------------------------------------------------------------------------------------------------
// Time, tokens, errors

let timeoutErrorFactory: Promise<() => Error> | undefined;

/**
 * The library only treats its own (unexported) StatesTimeoutError class as States.Timeout when deciding that
 * `States.TaskFailed` must not match it. Our scaled timeouts must behave the same, so we obtain that class once
 * by letting a one-state probe machine time out after 1 ms.
 */
function statesTimeoutErrorFactory(): Promise<() => Error> {
  timeoutErrorFactory ??= (async () => {
    // 1 ms: a fraction the validator would refuse, hence noValidate.
    const probe = new StateMachine(
      {
        StartAt: 'Probe',
        States: {
          Probe: {
            Type: 'Task',
            Resource: 'arn:aws:lambda:us-east-1:123456789012:function:probe',
            TimeoutSeconds: 0.001,
            End: true,
          },
        },
      } as StateMachineDefinition,
      { validationOptions: { noValidate: true } },
    );
    const never = deferred<null>();
    try {
      await probe.run({}, { overrides: { taskResourceLocalHandlers: { Probe: () => never.promise } } })
        .result;
    } catch (error) {
      const cause = error instanceof ExecutionError ? error.cause : undefined;
      if (cause instanceof Error && cause.name === 'States.Timeout') {
        const TimeoutErrorClass = cause.constructor as new () => Error;
        return () => new TimeoutErrorClass();
      }
    } finally {
      never.resolve(null);
    }
    return () => namedError('States.Timeout', 'States.Timeout');
  })();
  return timeoutErrorFactory;
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number | undefined, error: () => Error): Promise<T> {
  if (timeoutMs === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), timeoutMs);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/**
 * The library hands a task only its resolved Parameters, but TimeoutSecondsPath/HeartbeatSecondsPath select
 * from the state's input. rewriteStates adds them to the Parameters under these keys so the library resolves
 * them against the right input; runTask takes them out again before the call.
 */
const TIMER_KEYS = { timeout: '__runnerTimeoutSeconds', heartbeat: '__runnerHeartbeatSeconds' } as const;

function takeTimerPaths(parameters: unknown): {
  parameters: unknown;
  timers: { timeout?: unknown; heartbeat?: unknown };
} {
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters))
    return { parameters, timers: {} };
  const {
    [TIMER_KEYS.timeout]: timeout,
    [TIMER_KEYS.heartbeat]: heartbeat,
    ...rest
  } = parameters as JsonObject;
  return { parameters: rest, timers: { timeout, heartbeat } };
}

function secondsOf(
  seconds: number | undefined,
  path: string | undefined,
  selected: unknown,
  input: unknown,
): number | undefined {
  if (seconds !== undefined) return seconds;
  if (path === undefined) return undefined;
  const value = selected ?? readReferencePath(path, input);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw unwindError(
      `${path} must select a positive integer, got ${JSON.stringify(value)}`,
      'States.Runtime',
    );
  }
  return value;
}

function scaledMs(seconds: number | undefined, scale: number): number | undefined {
  if (seconds === undefined) return undefined;
  return Math.min(Math.max(0, Math.round(seconds * 1000 * scale)), MAX_TIMER_SECONDS * 1000);
}

/** ASL reference paths only: `$`, `.field`, `['field']`, `[index]`. */
function readReferencePath(path: string, input: unknown): unknown {
  if (!path.startsWith('$')) throw unwindError(`not a reference path: ${path}`, 'States.Runtime');
  let value: unknown = input;
  const segment = /\.([^.[\]]+)|\['([^']*)'\]|\[(\d+)\]/y;
  segment.lastIndex = 1;
  while (segment.lastIndex < path.length) {
    const match = segment.exec(path);
    if (!match) throw unwindError(`unsupported reference path: ${path}`, 'States.Runtime');
    const key = match[1] ?? match[2] ?? Number(match[3]);
    value =
      value !== null && typeof value === 'object'
        ? (value as Record<string | number, unknown>)[key]
        : undefined;
  }
  return value;
}

interface TokenIssuer {
  issue(executionName: string): string;
  isOurs(token: string): boolean;
}

/** Tokens are signed, so a spent token (TaskTimedOut) is told from a made-up one (InvalidToken) with no bookkeeping. */
function createTokenIssuer(): TokenIssuer {
  const key = randomBytes(32);
  let counter = 0;
  const sign = (payload: string) => createHmac('sha256', key).update(payload).digest('base64url');
  return {
    issue(executionName) {
      counter += 1;
      const payload = Buffer.from(JSON.stringify({ e: executionName, n: counter, r: randomUUID() })).toString(
        'base64url',
      );
      return `${payload}.${sign(payload)}`;
    },
    isOurs(token) {
      const [payload, signature, ...rest] = token.split('.');
      return (
        rest.length === 0 && payload !== undefined && signature !== undefined && sign(payload) === signature
      );
    },
  };
}

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** The library honours isRetryable/isCatchable: an unwinding state must not be retried or caught into the saga. */
function unwindError(message: string, name = 'States.Runtime'): Error {
  return Object.assign(namedError(name, message), { isRetryable: false, isCatchable: false });
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers

interface StateMachineArnParts {
  partition: string;
  region: string;
  account: string;
  name: string;
}

function parseStateMachineArn(arn: string): StateMachineArnParts {
  const match = /^arn:(aws[a-z-]*):states:([^:]+):(\d{12}):stateMachine:([^:]+)$/.exec(arn);
  if (!match) throw new Error(`not a state machine ARN: ${arn}`);
  const [, partition = 'aws', region = 'us-east-1', account = '123456789012', name = 'local'] = match;
  return { partition, region, account, name };
}

function contextObject(
  record: ExecutionRecord,
  stateMachineArn: string,
  stateMachineName: string,
): JsonObject {
  const state = {};
  // Read while the state's Parameters are resolved, i.e. at state entry: close enough to AWS's EnteredTime.
  Object.defineProperty(state, 'EnteredTime', { enumerable: true, get: () => new Date().toISOString() });
  return {
    Execution: {
      Id: record.arn,
      Name: record.name,
      RoleArn: `arn:aws:iam::${stateMachineArn.split(':')[4]}:role/local-state-machine`,
      RedriveCount: 0,
    },
    StateMachine: { Id: stateMachineArn, Name: stateMachineName },
    State: state,
    Task: { Token: TOKEN_PLACEHOLDER },
  };
}

/** AWS: 1–80 characters, none of whitespace, brackets, wildcards, `"#%\^|~`$&,;:/` or control characters. */
function validateName(name: string): void {
  const control = [...name].some((char) => {
    const code = char.charCodeAt(0);
    return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
  });
  if (name.length < 1 || name.length > 80 || control || /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/.test(name)) {
    throw new SfnApiError('InvalidName', `Invalid Name: '${name}'`);
  }
}

function replaceDeep(value: unknown, search: string, replacement: string): unknown {
  if (typeof value === 'string') return value.replaceAll(search, replacement);
  if (Array.isArray(value)) return value.map((item) => replaceDeep(item, search, replacement));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, replaceDeep(v, search, replacement)]),
    );
  }
  return value;
}

/** Promise.withResolvers, which the ES2023 lib typings we compile against do not declare. */
function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(error: Error): void } {
  let resolve: (value: T) => void = () => undefined;
  let reject: (error: Error) => void = () => undefined;
  const promise = new Promise<T>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  return { promise, resolve, reject };
}

function jsonCopy<T>(value: T): T {
  const text = JSON.stringify(value);
  return (text === undefined ? null : JSON.parse(text)) as T;
}

function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Error) return value.message;
  return JSON.stringify(value) ?? '';
}

// ---------------------------------------------------------------------------------------------------------
// The Step Functions JSON 1.0 endpoint

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
