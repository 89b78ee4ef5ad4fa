/**
 * A child process for the crash tests: starts one local piece, prints one JSON line describing it, then
 * runs until the test SIGKILLs it.
 *   dynamodb '{"port":41000,"dbPath":"/tmp/x"}'                  DynamoDB Local (startDynamoDbLocal options)
 *   kbank '{"port":41001,"statePath":"/tmp/x/kbank.json"}'        the KBank simulator (its options)
 *   queue '{"statePath":"/tmp/x/q.json","messages":[{"id":"a","hang":true}]}'
 *                                                                 a local queue: sends the messages; consume
 *                                                                 succeeds, or never settles when `hang`
 */
import { startDynamoDbLocal } from '../../local/dynamodb-local.js';
import { startKbankSimulator } from '../../local/kbank-simulator.js';
import { createLocalQueue } from '../../local/queue.js';

const [kind, json = '{}'] = process.argv.slice(2);
const options = JSON.parse(json) as Record<string, unknown>;

if (kind === 'dynamodb') {
  const server = await startDynamoDbLocal(options);
  console.log(JSON.stringify({ endpoint: server.endpoint, port: server.port, pid: server.pid }));
} else if (kind === 'kbank') {
  const sim = await startKbankSimulator(options);
  console.log(JSON.stringify({ url: sim.url }));
} else if (kind === 'queue') {
  const messages = options.messages as { id: string; hang?: boolean }[];
  const quick = messages.filter((message) => !message.hang).length;
  let processed = 0;
  let allProcessed: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    allProcessed = resolve;
  });
  if (quick === 0) allProcessed();
  const queue = createLocalQueue<{ id: string; hang?: boolean }>({
    name: 'crash',
    statePath: String(options.statePath),
    consume: async (message) => {
      if (message.hang) await new Promise(() => undefined);
      processed += 1;
      if (processed === quick) allProcessed();
    },
  });
  for (const message of messages) await queue.send(message);
  await done;
  // The queue deletes a message (and saves its state) in the microtasks after its consume resolved:
  // report once they ran, or a SIGKILL right after the report may come first (seen under load).
  await new Promise((resolve) => setImmediate(resolve));
  console.log(JSON.stringify({ sent: messages.length, processed }));
} else {
  throw new Error(`unknown kind ${kind}`);
}
setInterval(() => undefined, 60_000);
