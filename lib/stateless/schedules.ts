/** The schedules: EventBridge Scheduler invokes each scheduled function of the catalog, through one role that may do only that. */
import { type CfnElement, Duration, type Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import { type FunctionName, functionsOf, type ScheduledFunction } from '../../functions/catalog.js';
import { toPascalCase } from './functions.js';

export interface SchedulesProps {
  functions: Record<FunctionName, lambda.IFunction>;
  /** Replaces the catalog's rate of every rate schedule (the reconciliation sweep's). */
  rate?: Duration;
}

export function schedules(stack: Stack, props: SchedulesProps): void {
  const scheduled = functionsOf('schedule');
  const role = new iam.Role(stack, 'ReconciliationSweepSchedulerRole', {
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
    description: `EventBridge Scheduler: invoke ${scheduled.map(({ name }) => name).join(', ')}, nothing else`,
  });
  for (const { name, description, schedule, retryAttempts } of scheduled) {
    const fn = props.functions[name];
    new scheduler.Schedule(stack, `${toPascalCase(name)}Schedule`, {
      description: `Runs ${name}: ${description} (docs/runbook.md)`,
      schedule: expressionOf(schedule, props.rate),
      target: new schedulerTargets.LambdaInvoke(fn, { retryAttempts, role }),
    });
    const logicalId = stack.getLogicalId(fn.node.defaultChild as CfnElement);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
      reason: `LambdaInvoke grants lambda:InvokeFunction on ${name} and its qualified ARNs (\`:*\`, versions and aliases of this one function); the schedule invokes $LATEST.`,
    });
  }
  Validations.of(role).acknowledge({
    id: 'PCI.DSS.321-IAMNoInlinePolicy',
    reason: 'The role belongs to the schedules and may only invoke their functions.',
  });
}

function expressionOf(schedule: ScheduledFunction['schedule'], rate: Duration | undefined) {
  if ('rateMinutes' in schedule) {
    return scheduler.ScheduleExpression.rate(rate ?? Duration.minutes(schedule.rateMinutes));
  }
  const { minute, hour, timeZone } = schedule.cron;
  return scheduler.ScheduleExpression.cron({ minute, hour, timeZone: TimeZone.of(timeZone) });
}
