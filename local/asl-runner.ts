/**
 * In-process Step Functions: aws-local-stepfunctions plus our Task integrations, task tokens and an SFN
 * endpoint. The entry point; the parts live in local/asl/ (definition, paths, timing, tasks, integrations,
 * executions, callbacks, tokens, runner, sfn-endpoint).
 */
export type {
  AslRunner,
  AslRunnerOptions,
  ExecutionDescription,
  ExecutionHistoryEvent,
  ExecutionStatus,
  ExecutionSummary,
  LocalLambdaHandler,
  LocalServiceIntegration,
  PendingTask,
  StartExecutionResult,
} from './asl/api.js';
export { SfnApiError } from './asl/api.js';
export { createAslRunner } from './asl/runner.js';
export { type SfnEndpoint, startSfnEndpoint } from './asl/sfn-endpoint.js';
