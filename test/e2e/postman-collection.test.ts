/**
 * The Postman collection's walkthrough, run by Postman's own runner (newman) against a local stack as a
 * developer would run it after importing the collection and its environment: every request's tests must
 * pass, with ids chained from one request to the next.
 */
import { readFileSync } from 'node:fs';
import newman, { type NewmanRunSummary } from 'newman';
import { COLLECTION_PATH, ENVIRONMENT_PATH, WALKTHROUGH } from '../../clients/postman/generate.js';
import type { LocalStack } from '../../local/stack.js';
import { startTestStack } from '../support/stack.js';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

function runWalkthrough(): Promise<NewmanRunSummary> {
  return new Promise((resolve, reject) => {
    newman.run(
      {
        collection: JSON.parse(readFileSync(COLLECTION_PATH, 'utf8')),
        environment: JSON.parse(readFileSync(ENVIRONMENT_PATH, 'utf8')),
        folder: WALKTHROUGH,
        envVar: [
          { key: 'baseUrl', value: stack.apiUrl },
          { key: 'kbankUrl', value: stack.kbankUrl },
          { key: 'kbankPublicKey', value: stack.kbankPublicKey },
          { key: 'bearerToken', value: stack.merchant.apiKey },
        ],
        timeoutRequest: 10_000,
        reporters: [],
      },
      (error, summary) => (error ? reject(error) : resolve(summary)),
    );
  });
}

it('runs the walkthrough with every test passing: card authorized, amount changed, captured, refunded; QR canceled', async () => {
  const summary = await runWalkthrough();
  const failures = summary.run.failures.map(
    (failure) => `${failure.source?.name ?? '?'}: ${failure.error.message}`,
  );
  expect(failures).toEqual([]);
  const stats = summary.run.stats;
  expect(stats.requests.failed).toBe(0);
  expect(stats.assertions.failed).toBe(0);
  // Every step ran (the polls may add requests), and each checked something.
  const names = new Set(summary.run.executions.map((execution) => execution.item.name));
  expect(names.size).toBe(19);
  expect(stats.assertions.total).toBeGreaterThanOrEqual(25);

  // What the collection did is what the system holds.
  const created = (name: string): string => {
    const execution = summary.run.executions.find((e) => e.item.name === name);
    return JSON.parse(String(execution?.response?.stream)).id;
  };
  const paymentId = created('Create a card payment, captured later');
  expect(await stack.repo.get(paymentId)).toMatchObject({
    status: 'succeeded',
    amountCaptured: 70000,
    amountRefunded: 35000,
  });
  const qrId = created('Create a Thai QR payment');
  expect((await stack.repo.get(qrId))?.status).toBe('canceled');
}, 120_000);
