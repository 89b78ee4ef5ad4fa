/**
 * Callback tasks (`.waitForTaskToken`) parked on their token: registered before the integration runs, settled
 * by SendTaskSuccess/Failure, by their timeout or heartbeat timeout, or unwound when their execution closes.
 */
import { type PendingTask, SfnApiError } from './api.js';
import type { ExecutionRecord } from './executions.js';
import type { TokenIssuer } from './tokens.js';
import { deferred, namedError, unwindError } from './values.js';

interface PendingEntry extends PendingTask {
  execution: ExecutionRecord;
  heartbeatMs?: number;
  heartbeatTimer?: NodeJS.Timeout;
  timeoutTimer?: NodeJS.Timeout;
  settle(outcome: { output: unknown } | { error: Error }): void;
}

export interface ParkedTask {
  token: string;
  /** Settles with the callback's output, or rejects with its error, the timeout, or the execution's close. */
  result: Promise<unknown>;
  /** Fails the task at once (its integration call failed). */
  fail(error: Error): void;
}

export class PendingTasks {
  private readonly pending = new Map<string, PendingEntry>();

  constructor(private readonly tokens: TokenIssuer) {}

  /** Parks a task under a fresh token; `parameters` must already carry that token (see `token`). */
  park(
    record: ExecutionRecord,
    task: {
      token: string;
      stateName: string;
      resource: string;
      parameters: unknown;
      timeoutMs: number | undefined;
      heartbeatMs: number | undefined;
      timeoutError: () => Error;
    },
  ): ParkedTask {
    const { token } = task;
    const { promise, resolve, reject } = deferred<unknown>();
    // Settled early (a SendTaskFailure or the timeout while the integration is still in flight), it is
    // awaited only later: marked handled so that Node does not take it for an unhandled rejection and exit.
    promise.catch(() => undefined);
    const entry: PendingEntry = {
      token,
      executionName: record.name,
      stateName: task.stateName,
      resource: task.resource,
      parameters: task.parameters,
      startDate: new Date(),
      execution: record,
      ...(task.heartbeatMs === undefined ? {} : { heartbeatMs: task.heartbeatMs }),
      settle: (outcome) => {
        if (!this.pending.delete(token)) return;
        record.tokens.delete(token);
        clearTimeout(entry.timeoutTimer);
        clearTimeout(entry.heartbeatTimer);
        if ('error' in outcome) reject(outcome.error);
        else resolve(outcome.output);
      },
    };
    // Registered before the integration runs: a callback may arrive while it is still in flight.
    this.pending.set(token, entry);
    record.tokens.add(token);
    if (task.timeoutMs !== undefined) {
      entry.timeoutTimer = setTimeout(() => entry.settle({ error: task.timeoutError() }), task.timeoutMs);
    }
    this.armHeartbeat(entry);
    return { token, result: promise, fail: (error) => entry.settle({ error }) };
  }

  issueToken(executionName: string): string {
    return this.tokens.issue(executionName);
  }

  /** The execution is over: its parked tasks unwind (not retryable, not catchable). */
  closeAll(record: ExecutionRecord): void {
    for (const token of record.tokens) {
      this.pending.get(token)?.settle({ error: unwindError('execution closed') });
    }
  }

  succeed(token: string, output: string): void {
    const entry = this.entry(token);
    let parsed: unknown;
    try {
      parsed = JSON.parse(output);
    } catch {
      throw new SfnApiError('InvalidOutput', 'Invalid JSON output');
    }
    entry.settle({ output: parsed });
  }

  fail(token: string, error?: string, cause?: string): void {
    this.entry(token).settle({ error: namedError(error || 'States.TaskFailed', cause ?? '') });
  }

  heartbeat(token: string): void {
    this.armHeartbeat(this.entry(token));
  }

  list(executionName?: string): PendingTask[] {
    return [...this.pending.values()]
      .filter((entry) => executionName === undefined || entry.executionName === executionName)
      .map(({ token, executionName: name, stateName, resource, parameters, startDate }) => ({
        token,
        executionName: name,
        stateName,
        resource,
        parameters,
        startDate,
      }));
  }

  private entry(token: string): PendingEntry {
    const entry = this.pending.get(token);
    if (entry) return entry;
    // Ours but no longer waiting (answered, timed out, execution closed): what AWS answers for a spent token.
    if (this.tokens.isOurs(token))
      throw new SfnApiError('TaskTimedOut', 'Task Timed Out: the task is no longer waiting');
    throw new SfnApiError('InvalidToken', 'Invalid Token: not a task token of this state machine');
  }

  private armHeartbeat(entry: PendingEntry): void {
    clearTimeout(entry.heartbeatTimer);
    if (entry.heartbeatMs === undefined) return;
    entry.heartbeatTimer = setTimeout(
      () =>
        entry.settle({
          error: namedError('States.HeartbeatTimeout', 'The task did not send a heartbeat in time'),
        }),
      entry.heartbeatMs,
    );
  }
}
