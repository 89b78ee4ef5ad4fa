/**
 * The runner: aws-local-stepfunctions runs the rewritten definition; every Task state is overridden to run
 * its planned integration here, under our (scaled) timeouts, with a fresh token for callback tasks.
 */
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { StateMachine } from 'aws-local-stepfunctions';
import { type AslRunner, type AslRunnerOptions, SfnApiError } from './api.js';
import { PendingTasks } from './callbacks.js';
import { loadDefinition, runtimeDefinition } from './definition.js';
import { classifyFailure, type ExecutionRecord, ExecutionRegistry } from './executions.js';
import { invoke } from './integrations.js';
import { secondsOf, takeTimerPaths } from './paths.js';
import { indexLambdas, planTasks, serviceOf } from './tasks.js';
import { scaledMs, statesTimeoutErrorFactory, withTimeout } from './timing.js';
import { createTokenIssuer, TOKEN_PLACEHOLDER } from './tokens.js';
import { replaceDeep, stringify, unwindError } from './values.js';

const DEFAULT_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:local';

export function createAslRunner(options: AslRunnerOptions): AslRunner {
  const waitScale = options.waitScale ?? 1;
  const timeoutScale = options.taskTimeoutScale ?? 1;
  if (!(waitScale >= 0)) throw new Error('waitScale must be >= 0');
  if (!(timeoutScale > 0))
    throw new Error('taskTimeoutScale must be > 0 (a zero timeout would fail every task)');

  const pendingTasks = new PendingTasks(createTokenIssuer());
  const executions = new ExecutionRegistry(
    options.stateMachineArn ?? DEFAULT_STATE_MACHINE_ARN,
    options.retainClosedHistories ?? 10_000,
    (record) => pendingTasks.closeAll(record),
  );
  const { region, account } = executions.arnParts;

  const definition = loadDefinition(options.definition, options.substitutions ?? {});
  const runtime = runtimeDefinition(definition, { waitScale, timeoutScale });
  const lambdas = indexLambdas(options.lambdas ?? {});
  const plans = planTasks(runtime.taskStates, {
    lambdas,
    integrations: new Map(
      Object.entries(options.integrations ?? {}).map(([key, run]) => [serviceOf(key), run] as const),
    ),
    options,
  });
  const machine = new StateMachine(runtime.definition, { validationOptions: { noValidate: true } });
  let stopped = false;

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
    const integrate = (effective: unknown) =>
      invoke(plan.integration, effective, {
        lambdas,
        options,
        stateName,
        region,
        account,
        deadlineMs: timeoutMs,
      });
    const call = (effective: unknown) =>
      options.meter
        ? options.meter.task(record, stateName, () => integrate(effective))
        : integrate(effective);

    if (!plan.waitForTaskToken) {
      return withTimeout(call(parameters), timeoutMs, timeoutError);
    }

    const token = pendingTasks.issueToken(record.name);
    const resolved = replaceDeep(parameters, TOKEN_PLACEHOLDER, token);
    const parked = pendingTasks.park(record, {
      token,
      stateName,
      resource: plan.resource,
      parameters: resolved,
      timeoutMs,
      heartbeatMs: scaledMs(
        secondsOf(plan.heartbeatSeconds, plan.heartbeatSecondsPath, timers.heartbeat, parameters),
        timeoutScale,
      ),
      timeoutError,
    });
    try {
      await call(resolved);
    } catch (error) {
      parked.fail(error as Error);
    }
    return parked.result;
  };

  const taskHandlerNames = [...plans.keys()];

  const startRun = (record: ExecutionRecord) => {
    const handlers = Object.fromEntries(
      taskHandlerNames.map((name) => [name, (input: unknown) => runTask(record, name, input)]),
    );
    const run = machine.run(record.input as never, {
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        waitTimeOverrides: runtime.waitOverrides,
      },
      context: executions.contextObject(record),
    });
    record.abort = run.abort;
    const drained = (async () => {
      for await (const event of run.eventLogs) {
        const state = 'state' in event ? event.state : undefined;
        const failure = 'Error' in event ? { error: event.Error, cause: stringify(event.Cause) } : {};
        executions.appendHistory(record, {
          type: event.type,
          timestamp: new Date(event.timestamp),
          ...(state ? { stateName: state.name, stateType: state.type } : {}),
          ...failure,
        });
        // What Standard bills: every state entered, and every retry of one (the library re-runs it in place).
        if ((event.type === 'StateEntered' || event.type === 'StateRetried') && state) {
          record.transitions += 1;
          options.meter?.transition(record, state.name);
        }
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
      executions.finish(record, result),
    );
  };

  const runner: AslRunner = {
    stateMachineArn: executions.stateMachineArn,

    startExecution(name, input = {}) {
      if (stopped) throw new SfnApiError('StateMachineDeleting', 'The runner is stopped');
      const { record, existing } = executions.open(name, input);
      if (!existing) startRun(record);
      return { executionArn: record.arn, startDate: record.startDate };
    },

    describeExecution: (nameOrArn) => executions.describe(executions.get(nameOrArn)),

    async waitForExecution(nameOrArn, timeoutMs) {
      const record = executions.get(nameOrArn);
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
      return executions.describe(record);
    },

    async stopExecution(nameOrArn, error, cause) {
      const record = executions.get(nameOrArn);
      if (record.status === 'RUNNING') {
        record.stopRequest = {
          ...(error !== undefined ? { error } : {}),
          ...(cause !== undefined ? { cause } : {}),
        };
        record.abort();
        pendingTasks.closeAll(record);
        await record.done;
      }
      return { stopDate: record.stopDate ?? new Date() };
    },

    listExecutions: (filter) => executions.list(filter),
    sendTaskSuccess: (token, output) => pendingTasks.succeed(token, output),
    sendTaskFailure: (token, error, cause) => pendingTasks.fail(token, error, cause),
    sendTaskHeartbeat: (token) => pendingTasks.heartbeat(token),
    pendingTasks: (executionName) => pendingTasks.list(executionName),

    async stop() {
      stopped = true;
      await Promise.all(
        executions
          .running()
          .map((record) => runner.stopExecution(record.name, 'States.Aborted', 'runner stopped')),
      );
    },
  };
  return runner;
}
