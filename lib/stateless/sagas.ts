/** The sagas: one Standard state machine per ASL file, its Lambda tasks substituted from the catalog. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type RemovalPolicy, type Stack, Validations } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { type FunctionName, type SagaName, sagaTasksOf } from '../../functions/catalog.js';
import { PROJECT_ROOT } from '../constructs/payment-function.js';

export interface SagaStateMachineProps {
  saga: SagaName;
  /** Construct ids of the machine and of its log group (kept as they are: both resources have fixed names). */
  id: string;
  logsId: string;
  /** Fixed, so the functions that start it know its ARN without depending on the resource. */
  stateMachineName: string;
  /** ASL file relative to the project root. */
  definitionPath: string;
  /** The catalog's functions; the machine invokes its saga's tasks and nothing else. */
  functions: Record<FunctionName, lambda.IFunction>;
  eventBus: events.IEventBus;
  logEncryptionKey: kms.IKey;
  logRemovalPolicy: RemovalPolicy;
  logRetention: logs.RetentionDays;
}

/**
 * A saga: the ASL file as it is (DefinitionBody.fromFile) with `${…FunctionArn}` of each of its catalog tasks
 * and `${EventBusName}` substituted. Its role may invoke those functions (unqualified ARNs: `$LATEST`) and put
 * events on the bus, nothing else but logs and X-Ray.
 */
export function sagaStateMachine(stack: Stack, props: SagaStateMachineProps): sfn.StateMachine {
  const definitionPath = path.resolve(PROJECT_ROOT, props.definitionPath);
  if (!existsSync(definitionPath)) {
    const what = props.saga === 'payment' ? 'saga' : `${props.saga} saga`;
    throw new Error(
      `StatelessStack: the ${what} definition ${path.relative(PROJECT_ROOT, definitionPath)} does not exist.`,
    );
  }
  const tasks = sagaTasksOf(props.saga).map((task) => ({
    key: task.substitution,
    fn: props.functions[task.name],
  }));
  const definitionSubstitutions: Record<string, string> = { EventBusName: props.eventBus.eventBusName };
  for (const { key, fn } of tasks) definitionSubstitutions[key] = fn.functionArn;

  const logGroup = new logs.LogGroup(stack, props.logsId, {
    // The /aws/vendedlogs/ prefix keeps CloudWatch Logs' resource policy from growing per log group.
    logGroupName: `/aws/vendedlogs/states/${props.stateMachineName}`,
    retention: props.logRetention,
    encryptionKey: props.logEncryptionKey,
    removalPolicy: props.logRemovalPolicy,
  });
  const stateMachine = new sfn.StateMachine(stack, props.id, {
    stateMachineName: props.stateMachineName,
    stateMachineType: sfn.StateMachineType.STANDARD,
    definitionBody: sfn.DefinitionBody.fromFile(definitionPath),
    definitionSubstitutions,
    // Execution data (inputs/outputs) carries payment details: states and errors only in the logs.
    logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    tracingEnabled: true,
  });
  stateMachine.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['lambda:InvokeFunction'],
      resources: tasks.map(({ fn }) => fn.functionArn),
    }),
  );
  props.eventBus.grantPutEventsTo(stateMachine);

  Validations.of(stateMachine).acknowledge(
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'CloudWatch Logs delivery (logs:CreateLogDelivery, …) and X-Ray actions used by Step Functions support no resource-level permissions.',
    },
    {
      id: 'PCI.DSS.321-IAMNoInlinePolicy',
      reason: `The role and its policy belong to this one state machine (invoke its ${tasks.length} task functions, put events on the bus, log delivery, X-Ray); a reusable managed policy would invite sharing.`,
    },
  );
  return stateMachine;
}
