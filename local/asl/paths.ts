/**
 * The reference paths the runner resolves itself (the library resolves every other path and intrinsic): a
 * Task's TimeoutSecondsPath and HeartbeatSecondsPath, carried through the Parameters under reserved keys.
 */
import { type JsonObject, unwindError } from './values.js';

/**
 * The library hands a task only its resolved Parameters, but TimeoutSecondsPath/HeartbeatSecondsPath select
 * from the state's input. The rewritten definition adds them to the Parameters under these keys so the
 * library resolves them against the right input; the task takes them out again before the call.
 */
export const TIMER_KEYS = {
  timeout: '__runnerTimeoutSeconds',
  heartbeat: '__runnerHeartbeatSeconds',
} as const;

export function takeTimerPaths(parameters: unknown): {
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

/** A timer's seconds: the fixed value, else what its path selected (resolved by the library, or read here). */
export function secondsOf(
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

/** ASL reference paths only: `$`, `.field`, `['field']`, `[index]`. */
export function readReferencePath(path: string, input: unknown): unknown {
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
