/**
 * A child process for the crash tests: starts one local piece (DynamoDB Local or the KBank simulator),
 * prints one JSON line describing it, then runs until it is killed.
 *   node --import tsx test/support/crash-child.ts dynamodb '{"port":41000,"dbPath":"/tmp/x"}'
 *   node --import tsx test/support/crash-child.ts kbank '{"port":41001,"statePath":"/tmp/x/kbank.json"}'
 */
import { startDynamoDbLocal } from '../../local/dynamodb-local.js';

const [kind, json = '{}'] = process.argv.slice(2);
const options = JSON.parse(json) as Record<string, unknown>;

if (kind === 'dynamodb') {
  const server = await startDynamoDbLocal(options);
  console.log(JSON.stringify({ endpoint: server.endpoint, port: server.port, pid: server.pid }));
} else {
  throw new Error(`unknown kind ${kind}`);
}
// Stay alive until killed: the tests SIGKILL this process.
setInterval(() => undefined, 60_000);
