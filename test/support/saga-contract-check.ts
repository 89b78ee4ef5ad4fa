/**
 * Holds an ASL definition to the saga contract (functions/core/saga-contract.ts) and lists what breaks it:
 * Choice literals and step outcomes that do not match, Nexts to missing states, unreachable states, task
 * payloads their step's schema would refuse, Choice defaults that carry on, and Emit* states whose failure
 * leads anywhere but a hand-over to the sweep.
 */
import { z } from 'zod';
import type { TaskContract } from '../../functions/core/saga-contract.js';

type State = Record<string, any>;
export interface Definition {
  StartAt: string;
  States: Record<string, State>;
}

export interface Contract {
  tasks: Record<string, TaskContract<string, string>>;
  /** Each step's outcome union. */
  stepOutcomes: Record<string, readonly string[]>;
  /** Each step's input schema (a zod object). */
  inputs: Record<string, z.ZodType>;
  /** Choice variables on the execution's input, with the values they can hold. */
  inputChoices?: Record<string, readonly string[]>;
  /** Steps that publish their own events (EventNotPublished when the bus refuses them). */
  publishingSteps?: readonly string[];
}

const OUTCOME = '$.step.outcome';
const LAMBDA_RESOURCES = [
  'arn:aws:states:::lambda:invoke',
  'arn:aws:states:::lambda:invoke.waitForTaskToken',
];
const PUT_EVENTS = 'arn:aws:states:::events:putEvents';

/** The names a state can go to next: Next, Default, Choice branches, Catch targets. */
function successors(state: State): string[] {
  return [
    ...(state.Next ? [state.Next] : []),
    ...(state.Default ? [state.Default] : []),
    ...((state.Choices ?? []) as State[]).map((rule) => rule.Next),
    ...((state.Catch ?? []) as State[]).map((catcher) => catcher.Next),
  ];
}

/**
 * A Choice rule's variable and string literal (rules here are flat StringEquals or IsPresent tests, or an
 * outcome's StringEquals `And` one on the execution's input: `and` is that second test).
 */
function literal(
  rule: State,
): { variable: string; value: string; and?: { variable: string; value: string } } | null {
  if (Array.isArray(rule.And)) {
    const [first, second, ...rest] = (rule.And as State[]).map((test) => literal(test));
    if (!first || !second || rest.length > 0 || first.and || second.and) return null;
    return { ...first, and: { variable: second.variable, value: second.value } };
  }
  return typeof rule.StringEquals === 'string' ? { variable: rule.Variable, value: rule.StringEquals } : null;
}

const routesOnOutcome = (state: State | undefined) =>
  state?.Type === 'Choice' && (state.Choices as State[]).some((rule) => rule.Variable === OUTCOME);

export function contractProblems(definition: Definition, contract: Contract): string[] {
  const problems: string[] = [];
  const states = definition.States;
  const isFail = (name: string) => states[name]?.Type === 'Fail';
  const handOvers = new Set(
    Object.entries(contract.tasks)
      .filter(([, task]) => task.role === 'hand_over')
      .map(([name]) => name),
  );

  // Every transition names a state; every state is reachable from StartAt.
  if (!states[definition.StartAt]) problems.push(`StartAt names a missing state ${definition.StartAt}`);
  for (const [name, state] of Object.entries(states)) {
    for (const next of successors(state)) {
      if (!states[next]) problems.push(`${name} goes to a missing state ${next}`);
    }
  }
  const reached = new Set<string>();
  const queue = [definition.StartAt];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    const state = states[name];
    if (reached.has(name) || !state) continue;
    reached.add(name);
    queue.push(...successors(state));
  }
  for (const name of Object.keys(states)) {
    if (!reached.has(name)) problems.push(`${name} is unreachable from ${definition.StartAt}`);
  }

  // Every Lambda task is in the contract, invokes the function it says, and sends what its step parses.
  const lambdaTasks = Object.entries(states).filter(([, state]) => LAMBDA_RESOURCES.includes(state.Resource));
  for (const [name, state] of lambdaTasks) {
    const task = contract.tasks[name];
    if (!task) {
      problems.push(`${name} invokes a Lambda but is not in the saga contract`);
      continue;
    }
    if (state.Parameters?.FunctionName !== `\${${task.functionArn}}`) {
      problems.push(`${name} invokes ${state.Parameters?.FunctionName}, not \${${task.functionArn}}`);
    }
    problems.push(...payloadProblems(name, state.Parameters?.Payload ?? {}, contract.inputs[task.step]));
  }
  for (const name of Object.keys(contract.tasks)) {
    if (!states[name]) problems.push(`the contract's Task state ${name} is not in the definition`);
  }

  // Each step's outcomes are carried by its states (callback tasks carry their callback's instead).
  for (const [step, outcomes] of Object.entries(contract.stepOutcomes)) {
    const carriers = Object.values(contract.tasks).filter((task) => task.step === step);
    if (carriers.length > 0 && carriers.every((task) => task.resultFrom === 'callback')) continue;
    const carried = new Set(carriers.flatMap((task) => task.outcomes));
    for (const outcome of outcomes) {
      if (!carried.has(outcome))
        problems.push(`no Task state of step ${step} carries its outcome ${outcome}`);
    }
  }

  // Outcomes and the Choices that route on them: both ways, from every task that leads there.
  const feeders = new Map<string, string[]>();
  for (const [name, task] of Object.entries(contract.tasks)) {
    const state = states[name];
    if (!state) continue;
    const next = states[state.Next];
    if (routesOnOutcome(next)) {
      feeders.set(state.Next, [...(feeders.get(state.Next) ?? []), name]);
      if (state.ResultPath !== '$.step') {
        problems.push(
          `${name} leads to ${state.Next}, which routes on $.step.outcome, but stores its result elsewhere`,
        );
      }
    } else if (task.outcomes.length !== 1) {
      problems.push(
        `${name} has outcomes ${task.outcomes.join(', ')} but ${state.Next} does not route on them`,
      );
    }
  }
  for (const [name, state] of Object.entries(states)) {
    if (!routesOnOutcome(state)) continue;
    const from = feeders.get(name) ?? [];
    if (from.length === 0) problems.push(`${name} routes on an outcome no Task state hands it`);
    const literals = (state.Choices as State[]).map(literal);
    const routed = new Set(literals.flatMap((rule) => (rule?.variable === OUTCOME ? [rule.value] : [])));
    const possible = new Set(from.flatMap((task) => contract.tasks[task]?.outcomes ?? []));
    for (const value of routed) {
      if (!possible.has(value))
        problems.push(`${name} routes on ${value}, an outcome of none of ${from.join(', ')}`);
    }
    for (const task of from) {
      for (const outcome of contract.tasks[task]?.outcomes ?? []) {
        if (!routed.has(outcome)) problems.push(`${name} has no branch for ${task}'s outcome ${outcome}`);
      }
    }
    if (literals.some((rule) => rule === null || rule.variable !== OUTCOME)) {
      problems.push(`${name} mixes other tests with its outcome branches`);
    }
    // An outcome split on the execution's input: one branch for every value that input can hold.
    for (const value of routed) {
      const split = literals.filter((rule) => rule?.value === value && rule.and);
      if (split.length === 0) continue;
      const variable = split[0]?.and?.variable ?? '';
      const domain = contract.inputChoices?.[variable];
      const values = new Set(split.map((rule) => (rule?.and?.variable === variable ? rule.and.value : '')));
      if (!domain || split.length !== literals.filter((rule) => rule?.value === value).length) {
        problems.push(`${name} splits ${value} on ${variable}, which the contract does not declare`);
        continue;
      }
      for (const held of domain) {
        if (!values.has(held)) problems.push(`${name} has no branch for ${value} with ${variable} = ${held}`);
      }
      for (const held of values) {
        if (!domain.includes(held))
          problems.push(`${name} splits ${value} on ${variable} = ${held}, not a value it holds`);
      }
    }
    if (!handOvers.has(state.Default) && !isFail(state.Default)) {
      problems.push(`${name}'s Default (${state.Default}) carries on with an outcome it does not know`);
    }
  }

  // Choices on the execution's input: every value it can hold, and no default that carries on.
  for (const [name, state] of Object.entries(states)) {
    if (state.Type !== 'Choice' || routesOnOutcome(state)) continue;
    const rules = (state.Choices as State[]).map(literal);
    if (rules.every((rule) => rule === null)) continue; // presence tests: the Default is their other half
    const variable = rules[0]?.variable ?? '';
    const domain = contract.inputChoices?.[variable];
    if (!domain) {
      problems.push(`${name} routes on ${variable}, which the contract does not declare`);
      continue;
    }
    const values = new Set(rules.flatMap((rule) => (rule ? [rule.value] : [])));
    for (const value of values) {
      if (!domain.includes(value))
        problems.push(`${name} routes on ${variable} = ${value}, not a value it holds`);
    }
    for (const value of domain) {
      if (!values.has(value)) problems.push(`${name} has no branch for ${variable} = ${value}`);
    }
    if (!isFail(state.Default))
      problems.push(`${name}'s Default (${state.Default}) carries on with an unknown value`);
  }

  // Publishing: retried, and a failure only ever hands over to the sweep (never a compensation).
  for (const [name, state] of Object.entries(states)) {
    if (state.Resource !== PUT_EVENTS) continue;
    if (!((state.Retry ?? []) as State[]).length) problems.push(`${name} publishes without retrying`);
    const catchers = (state.Catch ?? []) as State[];
    if (catchers.length === 0) problems.push(`${name} does not catch a failure to publish`);
    for (const catcher of catchers) {
      if (!handOvers.has(catcher.Next)) {
        problems.push(
          `${name} catches a failure to publish into ${catcher.Next}, not a hand-over to the sweep`,
        );
      }
    }
  }
  // A step that publishes its own events: a failure to publish is handed over, never compensated.
  for (const [name, task] of Object.entries(contract.tasks)) {
    const state = states[name];
    if (!state || !contract.publishingSteps?.includes(task.step)) continue;
    const catchers = (state.Catch ?? []) as State[];
    const first = catchers.find((catcher) => (catcher.ErrorEquals as string[]).includes('EventNotPublished'));
    if (!first || catchers[0] !== first) {
      problems.push(`${name} does not catch EventNotPublished first`);
    } else if (!handOvers.has(first.Next)) {
      problems.push(`${name} catches EventNotPublished into ${first.Next}, not a hand-over to the sweep`);
    }
  }
  for (const name of handOvers) {
    const state = states[name];
    if (!state) continue;
    for (const next of successors(state)) {
      if (!isFail(next)) problems.push(`${name} hands over but then goes on to ${next}, not a Fail state`);
    }
  }
  return problems;
}

function payloadProblems(
  name: string,
  payload: Record<string, unknown>,
  schema: z.ZodType | undefined,
): string[] {
  if (!(schema instanceof z.ZodObject)) return [`${name}'s step has no object input schema`];
  const shape = schema.shape as Record<string, z.ZodType>;
  const problems: string[] = [];
  const sent = new Map(
    Object.entries(payload).map(([key, value]) => [key.replace(/\.\$$/, ''), { key, value }]),
  );
  for (const [field, { key, value }] of sent) {
    const fieldSchema = shape[field];
    if (!fieldSchema) {
      problems.push(`${name} sends ${field}, which its step's input does not have`);
    } else if (!key.endsWith('.$') && !fieldSchema.safeParse(value).success) {
      problems.push(`${name} sends ${field} = ${JSON.stringify(value)}, which its step's input refuses`);
    }
  }
  for (const [field, fieldSchema] of Object.entries(shape)) {
    if (!sent.has(field) && !fieldSchema.safeParse(undefined).success) {
      problems.push(`${name} does not send ${field}, which its step requires`);
    }
  }
  return problems;
}
