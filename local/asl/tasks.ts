/**
 * Task routing: every Task state's Resource is planned once, at creation, into the integration that runs it
 * (an in-process Lambda handler, the event bus, DynamoDB, or a caller-provided integration), so a resource
 * we do not model fails the runner's creation, not a payment halfway through.
 */
import * as DynamoDb from '@aws-sdk/client-dynamodb';
import type { AslRunnerOptions, LocalLambdaHandler, LocalServiceIntegration } from './api.js';
import type { JsonObject } from './values.js';

const OPTIMIZED_DYNAMODB_ACTIONS = ['getItem', 'putItem', 'updateItem', 'deleteItem'] as const;

export type Integration =
  | { kind: 'lambda:invoke' }
  | { kind: 'lambda-arn'; functionName: string }
  | { kind: 'events:putEvents' }
  | { kind: 'dynamodb'; action: string; errorPrefix: 'DynamoDB' | 'DynamoDb' }
  | { kind: 'custom'; run: LocalServiceIntegration };

export interface TaskPlan {
  resource: string;
  integration: Integration;
  waitForTaskToken: boolean;
  timeoutSeconds?: number;
  timeoutSecondsPath?: string;
  heartbeatSeconds?: number;
  heartbeatSecondsPath?: string;
}

export interface LambdaIndex {
  find(functionNameOrArn: string): LocalLambdaHandler | undefined;
}

export interface PlanContext {
  lambdas: LambdaIndex;
  integrations: Map<string, LocalServiceIntegration>;
  options: AslRunnerOptions;
}

/** One plan per Task state name: the library keys its task overrides by name, so two names must not differ. */
export function planTasks(taskStates: [string, JsonObject][], context: PlanContext): Map<string, TaskPlan> {
  const plans = new Map<string, TaskPlan>();
  for (const [name, state] of taskStates) {
    const plan = planTask(name, state, context);
    const existing = plans.get(name);
    if (existing && JSON.stringify(existing) !== JSON.stringify(plan)) {
      throw new Error(`two Task states are named ${name} with different definitions; rename one`);
    }
    plans.set(name, plan);
  }
  return plans;
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
    if (!dynamoDbCommandFor(action)) throw new Error(`Task ${name}: unknown DynamoDB action ${action}`);
    return plan({ kind: 'dynamodb', action, errorPrefix: optimized ? 'DynamoDB' : 'DynamoDb' });
  }
  throw new Error(
    `Task ${name}: resource ${resource} is not supported locally (pass it in options.integrations to map it)`,
  );
}

/** `arn:aws:states:::lambda:invoke.waitForTaskToken` → `lambda:invoke.waitForTaskToken`; bare keys unchanged. */
export function serviceOf(resource: string): string {
  return /^arn:aws[a-z-]*:states:[^:]*:[^:]*:(.+)$/.exec(resource)?.[1] ?? resource;
}

/** The SDK command class for a DynamoDB action (`updateItem` → UpdateItemCommand), if there is one. */
export function dynamoDbCommandFor(action: string): unknown {
  const className = `${action.charAt(0).toUpperCase()}${action.slice(1)}Command`;
  return (DynamoDb as unknown as Record<string, unknown>)[className];
}

export function indexLambdas(lambdas: Record<string, LocalLambdaHandler>): LambdaIndex {
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
export function functionNameOf(nameOrArn: string): string {
  const match = /(?:^|:)function:([^:]+)/.exec(nameOrArn);
  if (match?.[1]) return match[1];
  return nameOrArn.split(':')[0] ?? nameOrArn;
}
