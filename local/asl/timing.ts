/** Time semantics the runner enforces itself: scaled timeouts that fail with the library's own States.Timeout. */
import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { deferred, namedError } from './values.js';

/** Largest setTimeout delay Node honours; the library's own task timer is parked here so ours decide. */
export const MAX_TIMER_SECONDS = 2_147_483;

let timeoutErrorFactory: Promise<() => Error> | undefined;

/**
 * The library only treats its own (unexported) StatesTimeoutError class as States.Timeout when deciding that
 * `States.TaskFailed` must not match it. Our scaled timeouts must behave the same, so we obtain that class once
 * by letting a one-state probe machine time out after 1 ms.
 */
export function statesTimeoutErrorFactory(): Promise<() => Error> {
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

export function withTimeout<T>(
  work: Promise<T>,
  timeoutMs: number | undefined,
  error: () => Error,
): Promise<T> {
  if (timeoutMs === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), timeoutMs);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

export function scaledMs(seconds: number | undefined, scale: number): number | undefined {
  if (seconds === undefined) return undefined;
  return Math.min(Math.max(0, Math.round(seconds * 1000 * scale)), MAX_TIMER_SECONDS * 1000);
}
