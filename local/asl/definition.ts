/**
 * Definition preparation: substitutions as CDK applies them, validation (once per distinct definition), and
 * the rewritten copy the library runs, with our time semantics (scaled waits and retries, task timers parked).
 */
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { TIMER_KEYS } from './paths.js';
import { MAX_TIMER_SECONDS } from './timing.js';
import type { JsonObject } from './values.js';

const validatedDefinitions = new Set<string>();

/** The definition with `${Key}` substituted, validated as written. */
export function loadDefinition(
  definition: string | object,
  substitutions: Record<string, string>,
): StateMachineDefinition {
  const substituted = substitute(definition, substitutions);
  // Validate the definition as written; the rewritten copy deliberately breaks a few rules (fractions).
  // The validator costs ~150 ms a call, so each distinct definition is validated once per process.
  const text = JSON.stringify(substituted);
  if (!validatedDefinitions.has(text)) {
    new StateMachine(substituted, { validationOptions: { checkArn: true, checkPaths: true } });
    validatedDefinitions.add(text);
  }
  return substituted;
}

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

export interface RuntimeDefinition {
  definition: StateMachineDefinition;
  /** Every Task state as written (nested Map and Parallel states included), by name, in definition order. */
  taskStates: [name: string, state: JsonObject][];
  /** The library's `waitTimeOverrides` (ms by Wait state name) that the scale needs beyond the rewrite. */
  waitOverrides: Record<string, number>;
}

/**
 * A copy the library can run with our time semantics: Task timeouts are removed (the runner enforces them,
 * scaled, because the library cannot scale them and defaults every task to 60 s), Wait seconds and Retry
 * intervals scaled.
 */
export function runtimeDefinition(
  definition: StateMachineDefinition,
  scale: { waitScale: number; timeoutScale: number },
): RuntimeDefinition {
  const taskStates: RuntimeDefinition['taskStates'] = [];
  const waitOverrides: Record<string, number> = {};
  // Not structuredClone: under jest it returns objects of another realm, which the runner treats as non-plain.
  const copy = JSON.parse(JSON.stringify(definition)) as JsonObject;
  if (typeof copy.TimeoutSeconds === 'number') {
    copy.TimeoutSeconds = Math.min(copy.TimeoutSeconds * scale.timeoutScale, MAX_TIMER_SECONDS);
  }
  rewriteStates(copy, {
    waitScale: scale.waitScale,
    onTask(name, state) {
      // Planned from the state as written: the rewrite below changes its timers.
      taskStates.push([name, JSON.parse(JSON.stringify(state)) as JsonObject]);
    },
    onWait(name, state) {
      const { waitScale } = scale;
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
  return { definition: copy as unknown as StateMachineDefinition, taskStates, waitOverrides };
}

interface RewriteHooks {
  waitScale: number;
  onTask(name: string, state: JsonObject): void;
  onWait(name: string, state: JsonObject): void;
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
