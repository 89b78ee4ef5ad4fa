/** Step Functions: starts payment sagas (one Standard execution per payment, named by its id) and resumes them. */
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type SFNClient,
  StartExecutionCommand,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import type { SagaRunStatus, SagaRuns, TaskNotifier } from '../core/ports.js';

export class StepFunctionsWorkflow implements SagaRuns {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(name: string, input: Record<string, unknown>): Promise<void> {
    try {
      await this.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name,
          input: JSON.stringify(input),
        }),
      );
    } catch (error) {
      // Same name, different input: the saga for this payment already runs (the name is the guarantee).
      if (error instanceof ExecutionAlreadyExists) return;
      throw error;
    }
  }

  async status(name: string): Promise<SagaRunStatus> {
    const executionArn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    try {
      const { status } = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return status === 'RUNNING' || status === 'PENDING_REDRIVE' ? 'running' : 'ended';
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return 'not_found';
      throw error;
    }
  }
}

/** Resumes parked saga tasks with SendTaskSuccess / SendTaskFailure. */
export class StepFunctionsTasks implements TaskNotifier {
  constructor(private readonly sfn: SFNClient) {}

  async succeed(token: string, output: unknown): Promise<boolean> {
    return this.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }));
  }

  async fail(token: string, error: string, cause: string): Promise<boolean> {
    return this.send(new SendTaskFailureCommand({ taskToken: token, error, cause }));
  }

  private async send(command: SendTaskSuccessCommand | SendTaskFailureCommand): Promise<boolean> {
    try {
      await this.sfn.send(command as SendTaskSuccessCommand);
      return true;
    } catch (error) {
      // The wait is over (timed out, or already resumed): not an error for the caller.
      if (error instanceof TaskTimedOut || error instanceof InvalidToken) return false;
      throw error;
    }
  }
}
