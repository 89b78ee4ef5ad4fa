/** Starts payment sagas on Step Functions: one Standard execution per payment, named by its id. */
import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { WorkflowStarter } from '../core/ports.js';

export class StepFunctionsWorkflow implements WorkflowStarter {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(paymentId: string, input: Record<string, unknown>): Promise<void> {
    try {
      await this.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: paymentId,
          input: JSON.stringify(input),
        }),
      );
    } catch (error) {
      // Same name, different input: the saga for this payment already runs (the name is the guarantee).
      if (error instanceof ExecutionAlreadyExists) return;
      throw error;
    }
  }
}
