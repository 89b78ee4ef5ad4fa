/** Jest globalTeardown: stops the DynamoDB Local that globalSetup started (if it started one). */
export default async function globalTeardown(): Promise<void> {
  const dynamoDbLocal = globalThis.__dynamoDbLocal;
  globalThis.__dynamoDbLocal = undefined;
  await dynamoDbLocal?.stop();
}
