/**
 * Jest globalSetup: one DynamoDB Local for the whole run (workers find it through DYNAMODB_ENDPOINT), and
 * the run's log level (test-logs.ts). Both go through process.env before any worker, handler or child
 * process (the crash tests' local stacks) starts, so all of them inherit it.
 */
import { tsImport } from 'tsx/esm/api';
import type { DynamoDbLocal } from '../../local/dynamodb-local.js';

declare global {
  // Kept on globalThis: globalSetup and globalTeardown run in the same (parent) process.
  var __dynamoDbLocal: DynamoDbLocal | undefined;
}

export default async function globalSetup(): Promise<void> {
  const logs: typeof import('./test-logs.js') = await tsImport('./test-logs.ts', import.meta.url);
  logs.quietTestLogs(process.env);
  // An endpoint given by the caller (e.g. a CI service) is used as is and not managed by us.
  if (process.env.DYNAMODB_ENDPOINT) return;
  // Jest loads this file with Node's own loader (no moduleNameMapper), which cannot follow our `.js` → `.ts`
  // imports; tsx resolves them the way tsc does.
  const launcher: typeof import('../../local/dynamodb-local.js') = await tsImport(
    '../../local/dynamodb-local.ts',
    import.meta.url,
  );
  const started = Date.now();
  const dynamoDbLocal = await launcher.startDynamoDbLocal();
  globalThis.__dynamoDbLocal = dynamoDbLocal;
  process.env.DYNAMODB_ENDPOINT = dynamoDbLocal.endpoint;
  if (process.env.DEBUG_LOCAL_STACK) {
    console.log(`\nDynamoDB Local on ${dynamoDbLocal.endpoint} (${Date.now() - started} ms)`);
  }
}
