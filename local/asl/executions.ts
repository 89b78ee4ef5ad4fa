/**
 * The execution registry: executions by name with AWS's StartExecution semantics, their history (bounded,
 * and dropped for the oldest closed ones), descriptions as DescribeExecution gives them, and how a run ended.
 */
import { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError } from 'aws-local-stepfunctions';
import {
  type ExecutionDescription,
  type ExecutionHistoryEvent,
  type ExecutionStatus,
  type ExecutionSummary,
  SfnApiError,
} from './api.js';
import { TOKEN_PLACEHOLDER } from './tokens.js';
import { type JsonObject, stringify } from './values.js';

const MAX_HISTORY_EVENTS = 25_000;

export interface ExecutionRecord {
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
  /** Billed state transitions (states entered plus retries); kept when the history is dropped. */
  transitions: number;
  tokens: Set<string>;
  abort: () => void;
  stopRequest?: { error?: string; cause?: string };
  done: Promise<void>;
}

export interface StateMachineArnParts {
  partition: string;
  region: string;
  account: string;
  name: string;
}

export function parseStateMachineArn(arn: string): StateMachineArnParts {
  const match = /^arn:(aws[a-z-]*):states:([^:]+):(\d{12}):stateMachine:([^:]+)$/.exec(arn);
  if (!match) throw new Error(`not a state machine ARN: ${arn}`);
  const [, partition = 'aws', region = 'us-east-1', account = '123456789012', name = 'local'] = match;
  return { partition, region, account, name };
}

export class ExecutionRegistry {
  readonly arnParts: StateMachineArnParts;
  private readonly executionArnPrefix: string;
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly closedWithHistory: ExecutionRecord[] = [];

  constructor(
    readonly stateMachineArn: string,
    private readonly retainClosedHistories: number,
    /** Called as an execution closes, before it is marked closed: its parked tasks must unwind. */
    private readonly onClose: (record: ExecutionRecord) => void,
  ) {
    this.arnParts = parseStateMachineArn(stateMachineArn);
    const { partition, region, account, name } = this.arnParts;
    this.executionArnPrefix = `arn:${partition}:states:${region}:${account}:execution:${name}:`;
  }

  /**
   * A new execution record, or the running one of that name with the same input (AWS: StartExecution is
   * idempotent then); any other reuse of a name is ExecutionAlreadyExists.
   */
  open(name: string, input: unknown): { record: ExecutionRecord; existing: boolean } {
    validateName(name);
    const canonicalInput = JSON.stringify(input);
    if (canonicalInput === undefined) throw new SfnApiError('InvalidExecutionInput', 'Input must be JSON');
    const existing = this.executions.get(name);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.canonicalInput === canonicalInput) {
        return { record: existing, existing: true };
      }
      throw new SfnApiError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.arn}'`);
    }
    const record: ExecutionRecord = {
      name,
      arn: this.executionArnPrefix + name,
      input: JSON.parse(canonicalInput),
      canonicalInput,
      status: 'RUNNING',
      startDate: new Date(),
      history: [],
      transitions: 0,
      tokens: new Set(),
      abort: () => undefined,
      done: Promise.resolve(),
    };
    this.executions.set(name, record);
    return { record, existing: false };
  }

  /** By name or execution ARN; ExecutionDoesNotExist otherwise. */
  get(nameOrArn: string): ExecutionRecord {
    const record = this.executions.get(this.nameOf(nameOrArn));
    if (!record) throw new SfnApiError('ExecutionDoesNotExist', `Execution does not exist: '${nameOrArn}'`);
    return record;
  }

  running(): ExecutionRecord[] {
    return [...this.executions.values()].filter((record) => record.status === 'RUNNING');
  }

  list(filter?: { status?: ExecutionStatus }): ExecutionSummary[] {
    return [...this.executions.values()]
      .filter((record) => !filter?.status || record.status === filter.status)
      .map((record) => ({
        executionArn: record.arn,
        name: record.name,
        status: record.status,
        startDate: record.startDate,
        ...(record.stopDate ? { stopDate: record.stopDate } : {}),
      }));
  }

  describe(record: ExecutionRecord): ExecutionDescription {
    return {
      executionArn: record.arn,
      stateMachineArn: this.stateMachineArn,
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
      transitions: record.transitions,
    };
  }

  appendHistory(record: ExecutionRecord, event: ExecutionHistoryEvent): void {
    if (record.history.length >= MAX_HISTORY_EVENTS) record.history.shift();
    record.history.push(event);
  }

  finish(record: ExecutionRecord, outcome: Partial<ExecutionRecord>): void {
    Object.assign(record, outcome, { stopDate: new Date() });
    this.onClose(record);
    this.closedWithHistory.push(record);
    if (this.closedWithHistory.length > this.retainClosedHistories) {
      const oldest = this.closedWithHistory.shift();
      if (oldest) oldest.history = [];
    }
  }

  /** The context object an execution starts with ($$): the task token is a placeholder, swapped per task. */
  contextObject(record: ExecutionRecord): JsonObject {
    const state = {};
    // Read while the state's Parameters are resolved, i.e. at state entry: close enough to AWS's EnteredTime.
    Object.defineProperty(state, 'EnteredTime', { enumerable: true, get: () => new Date().toISOString() });
    return {
      Execution: {
        Id: record.arn,
        Name: record.name,
        RoleArn: `arn:aws:iam::${this.arnParts.account}:role/local-state-machine`,
        RedriveCount: 0,
      },
      StateMachine: { Id: this.stateMachineArn, Name: this.arnParts.name },
      State: state,
      Task: { Token: TOKEN_PLACEHOLDER },
    };
  }

  private nameOf(nameOrArn: string): string {
    if (!nameOrArn.startsWith('arn:')) return nameOrArn;
    if (!nameOrArn.startsWith(this.executionArnPrefix)) {
      throw new SfnApiError('ExecutionDoesNotExist', `Execution does not exist: '${nameOrArn}'`);
    }
    return nameOrArn.slice(this.executionArnPrefix.length);
  }
}

/** How a run ended, from what the library's run rejected with (a requested stop is ABORTED). */
export function classifyFailure(error: unknown, record: ExecutionRecord): Partial<ExecutionRecord> {
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
