/** Monitoring: alarms on the sagas' failed runs, the sweep's and the KBank reconciliation's log lines, the API and every function. */
import { Duration, type Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { FUNCTION_NAMES, type FunctionName } from '../../functions/catalog.js';
import { toPascalCase } from './functions.js';

export interface AlarmsProps {
  topic: sns.ITopic;
  api: apigw.RestApi;
  stateMachine: sfn.StateMachine;
  refundStateMachine: sfn.StateMachine;
  functions: Record<FunctionName, lambda.IFunction>;
  logGroups: Record<FunctionName, logs.ILogGroup>;
}

/** Every alarm notifies the topic when it fires and when it clears (runbook: docs/deployment.md). */
export function alarms(stack: Stack, props: AlarmsProps): void {
  const action = new cwActions.SnsAction(props.topic);
  const alarm = (id: string, description: string, metric: cloudwatch.IMetric, threshold: number) => {
    const created = new cloudwatch.Alarm(stack, id, {
      alarmDescription: `${description} (runbook: docs/deployment.md)`,
      metric,
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    created.addAlarmAction(action);
    created.addOkAction(action);
  };
  /** One metric point per line with this message in a function's log group. */
  const logLines = (id: string, name: FunctionName, message: string, metricName: string) =>
    new logs.MetricFilter(stack, id, {
      logGroup: props.logGroups[name],
      filterPattern: logs.FilterPattern.stringValue('$.message', '=', message),
      metricNamespace: 'Payments',
      metricName,
      metricValue: '1',
      defaultValue: 0,
    });
  const fiveMinutes = Duration.minutes(5);

  const sagas = [
    {
      id: 'Saga',
      machine: props.stateMachine,
      what: 'A payment saga',
      failed: 'a payment may be left in a non-terminal state',
    },
    {
      id: 'RefundSaga',
      machine: props.refundStateMachine,
      what: 'A refund saga',
      failed: 'a refund may be unknown, its amount held (RefundOutcomeUnknown)',
    },
  ];
  for (const { id, machine, what, failed } of sagas) {
    const sum = { period: fiveMinutes, statistic: 'Sum' };
    alarm(`${id}ExecutionsFailedAlarm`, `${what} execution failed: ${failed}`, machine.metricFailed(sum), 1);
    alarm(`${id}ExecutionsTimedOutAlarm`, `${what} execution timed out`, machine.metricTimedOut(sum), 1);
  }
  // The sweep logs one `reconciliation unresolved` line per payment or refund it gives up to an operator.
  const unresolved = logLines(
    'ReconciliationUnresolvedFilter',
    'ops-sweep',
    'reconciliation unresolved',
    'ReconciliationUnresolved',
  );
  alarm(
    'ReconciliationUnresolvedAlarm',
    'The reconciliation sweep gave a payment or refund up to an operator (npm run ops -- unresolved)',
    unresolved.metric({ period: fiveMinutes, statistic: 'Sum' }),
    1,
  );
  const exceptions = logLines(
    'KbankReconciliationExceptionFilter',
    'ops-reconcile-kbank',
    'reconciliation exception',
    'KbankReconciliationExceptions',
  );
  alarm(
    'KbankReconciliationExceptionAlarm',
    'The daily KBank reconciliation found an orphan, a mismatch or missing money (runbook: KBank reconciliation)',
    exceptions.metric({ period: Duration.hours(1), statistic: 'Sum' }),
    1,
  );
  alarm(
    'Api5xxRateAlarm',
    '1% or more of API requests answered 5xx over 5 minutes',
    // The average of 5XXError (0 or 1 per request) is the 5xx rate.
    props.api.metricServerError({ period: fiveMinutes, statistic: 'Average' }),
    0.01,
  );
  for (const name of FUNCTION_NAMES) {
    alarm(
      `${toPascalCase(name)}ErrorsAlarm`,
      `Lambda ${name} threw (unhandled error or timeout)`,
      props.functions[name].metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
      1,
    );
  }
}
