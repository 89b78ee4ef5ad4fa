/** Launches AWS's DynamoDB Local (the jar shipped in amplify-dynamodb-simulator) and creates the single table. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { KEY_ATTRIBUTES, TABLE_DESIGN } from '../functions/adapters/table-design.js';

export interface DynamoDbLocalOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Persist the database in this folder; in-memory when absent. */
  dbPath?: string;
  /** Host used in the returned endpoint (DynamoDB Local itself listens on every interface). */
  host?: string;
}

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

const READY_DEADLINE_MS = 30_000;
const POLL_INTERVAL_MS = 100;
const OUTPUT_TAIL_CHARS = 4_000;

/** Client settings for DynamoDB Local: any static credentials work because the server runs with -sharedDb. */
export function localDynamoClientConfig(endpoint: string): DynamoDBClientConfig & {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
} {
  return { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
}

/** Starts DynamoDB Local and resolves once it answers ListTables. */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const host = options.host ?? '127.0.0.1';
  // A port picked by us can be taken by someone else before Java binds it: retry only in that case.
  const attempts = options.port ? 1 : 3;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = options.port || (await freePort(host));
    try {
      // Otherwise whoever already listens there would answer our readiness probe in Java's place.
      await assertPortFree(port);
      return await launch(host, port, options.dbPath);
    } catch (error) {
      lastError = error;
      if (!(error instanceof PortInUseError)) throw error;
    }
  }
  throw lastError;
}

class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

function emulatorDirectory(): string {
  // Resolved from the package, not from cwd, so the launcher works from any folder (jest, tsx, bin/).
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
}

async function launch(host: string, port: number, dbPath: string | undefined): Promise<DynamoDbLocal> {
  const emulator = emulatorDirectory();
  const storage = dbPath ? ['-dbPath', resolve(dbPath)] : ['-inMemory'];
  if (dbPath) mkdirSync(resolve(dbPath), { recursive: true });
  const args = [
    `-Djava.library.path=${join(emulator, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(emulator, 'DynamoDBLocal.jar'),
    ...storage,
    '-port',
    String(port),
    '-sharedDb',
    '-disableTelemetry',
  ];
  // detached: its own process group, so stop() can kill Java and anything it forks in one signal.
  const child = spawn('java', args, { cwd: emulator, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<string>((resolveExit) => {
    child.once('error', (error) => resolveExit(`could not start java: ${error.message}`));
    child.once('exit', (code, signal) => resolveExit(`exited with ${signal ?? `code ${code}`}`));
  });
  // The process must never outlive us, but must not keep our event loop alive either.
  child.unref();
  (child.stdout as { unref?: () => void } | null)?.unref?.();
  (child.stderr as { unref?: () => void } | null)?.unref?.();
  trackForExit(child);

  const endpoint = `http://${host}:${port}`;
  const client = new DynamoDBClient({
    ...localDynamoClientConfig(endpoint),
    maxAttempts: 1,
    requestHandler: { requestTimeout: 1_000, connectionTimeout: 1_000, throwOnRequestTimeout: true },
  });
  try {
    const failure = await Promise.race([waitUntilAnswering(client), exited]);
    if (failure !== undefined) {
      const tail = output.trim() || '(no output)';
      if (/Address already in use|BindException/i.test(output)) {
        throw new PortInUseError(`DynamoDB Local could not bind port ${port}: ${tail}`);
      }
      const hint = failure.includes('ENOENT') ? ' (is Java 17+ installed and on PATH?)' : '';
      throw new Error(`DynamoDB Local ${failure}${hint}. Output tail:\n${tail}`);
    }
  } catch (error) {
    await killGroup(child);
    throw error;
  } finally {
    client.destroy();
  }

  return {
    endpoint,
    port,
    stop: () => killGroup(child),
  };
}

/** Resolves undefined once ListTables answers; a string describing why it never did. */
async function waitUntilAnswering(client: DynamoDBClient): Promise<string | undefined> {
  const deadline = Date.now() + READY_DEADLINE_MS;
  while (Date.now() < deadline) {
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      return undefined;
    } catch {
      await new Promise((wake) => setTimeout(wake, POLL_INTERVAL_MS));
    }
  }
  return `did not answer within ${READY_DEADLINE_MS / 1000}s`;
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolveFree, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(`port ${port} is already in use`) : error),
    );
    // Java binds every interface, so that is what must be free.
    server.listen(port, () => server.close(() => resolveFree()));
  });
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function trackForExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const each of running) signalGroup(each, 'SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      for (const each of running) signalGroup(each, 'SIGKILL');
      // Only restore the default "die on signal" if nobody else handles it: we must not change the app's behaviour.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

async function killGroup(child: ChildProcess): Promise<void> {
  running.delete(child);
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolveGone) => child.once('exit', () => resolveGone()));
  // Unref'd while running; a pending stop() must keep us alive until Java is really gone.
  child.ref();
  signalGroup(child, 'SIGTERM');
  const escalate = setTimeout(() => signalGroup(child, 'SIGKILL'), 3_000);
  escalate.unref();
  await gone;
  clearTimeout(escalate);
}

/**
 * Creates the single table from TABLE_DESIGN (on-demand, every GSI projecting ALL) and enables TTL.
 * Idempotent: an existing table is left as is and only waited for.
 */
export async function createTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const keySchema = (partitionKey: string, sortKey: string) => [
    { AttributeName: partitionKey, KeyType: 'HASH' as const },
    { AttributeName: sortKey, KeyType: 'RANGE' as const },
  ];
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: KEY_ATTRIBUTES.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
        KeySchema: keySchema(TABLE_DESIGN.partitionKey, TABLE_DESIGN.sortKey),
        GlobalSecondaryIndexes: TABLE_DESIGN.globalSecondaryIndexes.map((index) => ({
          IndexName: index.indexName,
          KeySchema: keySchema(index.partitionKey, index.sortKey),
          Projection: { ProjectionType: 'ALL' },
        })),
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') throw error;
  }
  await waitUntilActive(client, tableName);
  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  if (status !== 'ENABLED' && status !== 'ENABLING') {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TABLE_DESIGN.ttlAttribute, Enabled: true },
      }),
    );
  }
}

async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + READY_DEADLINE_MS;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every(
      (index) => index.IndexStatus === 'ACTIVE',
    );
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() > deadline)
      throw new Error(`table ${tableName} is not ACTIVE after ${READY_DEADLINE_MS / 1000}s`);
    await new Promise((wake) => setTimeout(wake, POLL_INTERVAL_MS));
  }
}
