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
import { listenerOf, type ProcessInfo, processInfo, terminate } from './processes.js';
import { readStateFile, removeStateFile, writeStateFile } from './state-file.js';

export interface DynamoDbLocalOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Persist the database in this folder; in-memory when absent. */
  dbPath?: string;
  /** Host used in the returned endpoint (DynamoDB Local itself listens on every interface). */
  host?: string;
  /**
   * Where to record Java's pid and port, so that a start after a crash finds and stops the server the
   * crashed run left behind. Default: `dynamodb-local.pid` in dbPath when persisting, none in memory.
   */
  pidFile?: string;
}

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  /** The Java process's id. */
  pid: number;
  stop(): Promise<void>;
}

/** What the pidfile holds. */
interface PidRecord {
  pid: number;
  port: number;
  dbPath?: string;
  startedAt: string;
}

export const PID_FILE_NAME = 'dynamodb-local.pid';

const READY_DEADLINE_MS = 30_000;
const POLL_INTERVAL_MS = 100;
const OUTPUT_TAIL_CHARS = 4_000;
const PID_MARKER = /__dynamodb_local_java_pid=(\d+)/;

/**
 * Runs Java (its arguments are "$@") under a tiny sh wrapper whose stdin is a pipe from us. Nobody writes
 * to it: when our process dies, even by SIGKILL where no exit hook runs, the kernel closes the pipe, the
 * watcher's `read` returns and it stops Java (SIGTERM, then SIGKILL after 5 s). The wrapper exits with
 * Java's status, so Java exiting early is seen as before; a SIGTERM to the wrapper is passed on to Java,
 * and the wrapper waits for Java to be gone before it exits. It prints Java's pid for the pidfile.
 */
const WRAPPER_SCRIPT = `trap 'kill -TERM "$p" 2>/dev/null' TERM INT HUP
"$@" </dev/null &
p=$!
echo "__dynamodb_local_java_pid=$p"
exec 3<&0 0</dev/null
{
  trap - TERM INT HUP
  read _ <&3
  kill -TERM "$p" 2>/dev/null
  n=0
  while kill -0 "$p" 2>/dev/null; do
    n=$((n + 1))
    [ "$n" -eq 50 ] && kill -KILL "$p" 2>/dev/null
    sleep 0.1
  done
} &
w=$!
exec 3<&-
while :; do wait "$p"; s=$?; kill -0 "$p" 2>/dev/null || break; done
kill "$w" 2>/dev/null
exit "$s"`;

/** Client settings for DynamoDB Local: any static credentials work because the server runs with -sharedDb. */
export function localDynamoClientConfig(endpoint: string): DynamoDBClientConfig & {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
} {
  return { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
}

/**
 * Starts DynamoDB Local and resolves once it answers ListTables. A server left running by a crashed
 * earlier run (named in the pidfile, or serving the same dbPath) is stopped first, with a warning; any
 * other holder of the port is a PortInUseError that says who it is.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const host = options.host ?? '127.0.0.1';
  const dbPath = options.dbPath === undefined ? undefined : resolve(options.dbPath);
  const pidFile =
    options.pidFile !== undefined
      ? resolve(options.pidFile)
      : dbPath === undefined
        ? undefined
        : join(dbPath, PID_FILE_NAME);
  if (pidFile) await stopRecordedServer(pidFile);
  // A port picked by us can be taken by someone else before Java binds it: retry only in that case.
  const attempts = options.port ? 1 : 3;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = options.port || (await freePort(host));
    try {
      // Otherwise whoever already listens there would answer our readiness probe in Java's place.
      await assertPortFree(port, dbPath);
      const server = await launch(host, port, dbPath);
      if (pidFile) recordServer(pidFile, server, dbPath);
      return pidFile
        ? { ...server, stop: () => server.stop().finally(() => forgetServer(pidFile, server.pid)) }
        : server;
    } catch (error) {
      lastError = error;
      if (!(error instanceof PortInUseError)) throw error;
    }
  }
  throw lastError;
}

/** The port is held by another process; `holder` says which when it can be seen. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    message: string,
    readonly port: number,
    readonly holder?: ProcessInfo,
  ) {
    super(message);
  }
}

function emulatorDirectory(): string {
  // Resolved from the package, not from cwd, so the launcher works from any folder (jest, tsx, bin/).
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
}

function isDynamoDbLocal(info: ProcessInfo): boolean {
  return info.args.some((arg) => arg.endsWith('DynamoDBLocal.jar'));
}

/** The -dbPath a DynamoDB Local command line serves, if any. */
function servedDbPath(info: ProcessInfo): string | undefined {
  const index = info.args.indexOf('-dbPath');
  const value = index >= 0 ? info.args[index + 1] : undefined;
  return value === undefined ? undefined : resolve(value);
}

/** Stops the server an earlier run recorded, if it is still running: that run crashed without stopping it. */
async function stopRecordedServer(pidFile: string): Promise<void> {
  let record: PidRecord | undefined;
  try {
    record = readStateFile(pidFile) as PidRecord | undefined;
  } catch {
    console.warn(`DynamoDB Local: ignoring unreadable pidfile ${pidFile}`);
  }
  const info = typeof record?.pid === 'number' ? processInfo(record.pid) : undefined;
  // Pids are reused: only a live DynamoDB Local under that pid is the recorded server.
  if (record && info && isDynamoDbLocal(info)) {
    console.warn(
      `DynamoDB Local: stopping a server left running by an earlier run that did not shut down ` +
        `(pid ${record.pid}, port ${record.port}, recorded in ${pidFile})`,
    );
    await terminate(record.pid);
  }
  removeStateFile(pidFile);
}

function recordServer(pidFile: string, server: DynamoDbLocal, dbPath: string | undefined): void {
  const record: PidRecord = {
    pid: server.pid,
    port: server.port,
    ...(dbPath ? { dbPath } : {}),
    startedAt: new Date().toISOString(),
  };
  writeStateFile(pidFile, record);
  pidFilesToForget.set(pidFile, server.pid);
}

/** Removes the pidfile if it still names `pid` (a later start may have replaced it). */
function forgetServer(pidFile: string, pid: number): void {
  pidFilesToForget.delete(pidFile);
  try {
    if ((readStateFile(pidFile) as PidRecord | undefined)?.pid === pid) removeStateFile(pidFile);
  } catch {
    // Unreadable: the next start ignores it anyway.
  }
}

async function launch(host: string, port: number, dbPath: string | undefined): Promise<DynamoDbLocal> {
  const emulator = emulatorDirectory();
  const storage = dbPath ? ['-dbPath', dbPath] : ['-inMemory'];
  if (dbPath) mkdirSync(dbPath, { recursive: true });
  const javaArgs = [
    `-Djava.library.path=${join(emulator, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(emulator, 'DynamoDBLocal.jar'),
    ...storage,
    '-port',
    String(port),
    '-sharedDb',
    '-disableTelemetry',
  ];
  // detached: its own process group, so stop() can signal the wrapper and Java at once.
  const child = spawn('sh', ['-c', WRAPPER_SCRIPT, 'dynamodb-local', 'java', ...javaArgs], {
    cwd: emulator,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  let resolvePid: (pid: number) => void = () => undefined;
  const javaPid = new Promise<number>((resolveJavaPid) => {
    resolvePid = resolveJavaPid;
  });
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
    const marker = PID_MARKER.exec(output);
    if (marker) resolvePid(Number(marker[1]));
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  // Never written to: it only has to stay open while we live (see WRAPPER_SCRIPT).
  child.stdin?.on('error', () => undefined);
  const exited = new Promise<string>((resolveExit) => {
    child.once('error', (error) => resolveExit(`could not start java: ${error.message}`));
    child.once('exit', (code, signal) => resolveExit(`exited with ${signal ?? `code ${code}`}`));
  });
  // The process must never outlive us, but must not keep our event loop alive either.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as { unref?: () => void } | null)?.unref?.();
  }
  trackForExit(child);

  const endpoint = `http://${host}:${port}`;
  const client = new DynamoDBClient({
    ...localDynamoClientConfig(endpoint),
    maxAttempts: 1,
    requestHandler: { requestTimeout: 1_000, connectionTimeout: 1_000, throwOnRequestTimeout: true },
  });
  let pid: number;
  try {
    const failure = await Promise.race([waitUntilAnswering(client), exited]);
    if (failure !== undefined) {
      const tail = output.replace(PID_MARKER, '').trim() || '(no output)';
      if (/Address already in use|BindException/i.test(output)) {
        throw new PortInUseError(`DynamoDB Local could not bind port ${port}: ${tail}`, port);
      }
      const hint = /not found|ENOENT/.test(`${failure} ${tail}`)
        ? ' (is Java 17+ installed and on PATH?)'
        : '';
      throw new Error(`DynamoDB Local ${failure}${hint}. Output tail:\n${tail}`);
    }
    // Printed before Java starts, so long before Java answers; the race only guards against a lost line.
    const unknownPid = new Promise<number>((resolveUnknown) => setTimeout(() => resolveUnknown(-1), 1_000));
    pid = await Promise.race([javaPid, unknownPid]);
    if (pid < 0) throw new Error('DynamoDB Local: the wrapper did not report the Java process id');
  } catch (error) {
    await killGroup(child);
    throw error;
  } finally {
    client.destroy();
  }

  return {
    endpoint,
    port,
    pid,
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

/**
 * Throws PortInUseError naming the holder, unless the holder is a DynamoDB Local serving our own dbPath:
 * that one was left by a crashed run (launchers older than the pidfile included), so it is stopped.
 */
async function assertPortFree(port: number, dbPath: string | undefined): Promise<void> {
  // A server just stopped (a crashed run's, from its pidfile) can hold its port a moment after it is gone.
  if (await portFreeWithin(port, PORT_RELEASE_MS)) return;
  const holder = listenerOf(port);
  const info = typeof holder === 'object' ? holder : undefined;
  if (info && dbPath !== undefined && isDynamoDbLocal(info) && servedDbPath(info) === dbPath) {
    console.warn(
      `DynamoDB Local: stopping a server left running on port ${port} by an earlier run that did not ` +
        `shut down (pid ${info.pid}, same data folder ${dbPath})`,
    );
    await terminate(info.pid);
    if (await portFreeWithin(port, PORT_RELEASE_MS)) return;
  }
  throw new PortInUseError(portInUseMessage(port, holder), port, info);
}

function portInUseMessage(port: number, holder: ProcessInfo | 'unknown' | undefined): string {
  const find = `find it with \`ss -ltnp 'sport = :${port}'\``;
  const elsewhere = 'or use other ports (e.g. `npm start -- --port 4000`)';
  if (holder === undefined || holder === 'unknown') {
    return `port ${port} is already in use by a process we cannot see; ${find} and stop it, ${elsewhere}`;
  }
  const command = holder.command.length > 200 ? `${holder.command.slice(0, 200)}…` : holder.command;
  const what = isDynamoDbLocal(holder)
    ? 'a DynamoDB Local that this launcher did not record (another run, or an older launcher that crashed)'
    : 'another program';
  return (
    `port ${port} is already in use by ${what}: pid ${holder.pid} (${command}). ` +
    `Stop it (\`kill ${holder.pid}\`) if it is yours and not needed, ${elsewhere}`
  );
}

/** How long a port may take to be released by a process that just ended. */
const PORT_RELEASE_MS = 2_000;

async function portFreeWithin(port: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await portFree(port)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((wake) => setTimeout(wake, 100));
  }
}

async function portFree(port: number): Promise<boolean> {
  return new Promise<boolean>((resolveFree, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EADDRINUSE' ? resolveFree(false) : reject(error),
    );
    // Java binds every interface, so that is what must be free.
    server.listen(port, () => server.close(() => resolveFree(true)));
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
/** Pidfiles of the servers this process runs, removed when it exits normally (a crash leaves them). */
const pidFilesToForget = new Map<string, number>();
let exitHookInstalled = false;

function trackForExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const each of running) signalGroup(each, 'SIGKILL');
    for (const [pidFile, pid] of pidFilesToForget) forgetServer(pidFile, pid);
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
  // The wrapper passes SIGTERM on to Java and exits only once Java is gone.
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
