/**
 * DynamoDB Local never outlives its launcher: real Java, a real launcher in a child process, real SIGKILL,
 * and a restart on the same port and data folder.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, describe, expect, it, jest } from '@jest/globals';
import {
  localDynamoClientConfig,
  PID_FILE_NAME,
  PortInUseError,
  startDynamoDbLocal,
} from '../../local/dynamodb-local.js';
import { processInfo } from '../../local/processes.js';
import { readStateFile, writeStateFile } from '../../local/state-file.js';
import {
  freePort,
  goneWithin,
  killCrashChildren,
  type StartedChild,
  sigkill,
  startCrashChild,
} from '../support/processes.js';

jest.setTimeout(180_000);

const folders: string[] = [];
const strays: ChildProcess[] = [];

function tempFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'ddb-crash-'));
  folders.push(folder);
  return folder;
}

afterEach(() => {
  jest.restoreAllMocks();
});

afterAll(async () => {
  await killCrashChildren();
  // A failed assertion must not leave Java running on the shared machine.
  for (const stray of strays) if (stray.pid && processInfo(stray.pid)) process.kill(stray.pid, 'SIGKILL');
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function client(endpoint: string): DynamoDBClient {
  return new DynamoDBClient(localDynamoClientConfig(endpoint));
}

async function putMarker(endpoint: string, value: string): Promise<void> {
  const dynamodb = client(endpoint);
  await dynamodb.send(
    new CreateTableCommand({
      TableName: 'crash',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'PK', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'PK', KeyType: 'HASH' }],
    }),
  );
  await dynamodb.send(
    new PutItemCommand({ TableName: 'crash', Item: { PK: { S: 'marker' }, v: { S: value } } }),
  );
  dynamodb.destroy();
}

async function readMarker(endpoint: string): Promise<string | undefined> {
  const dynamodb = client(endpoint);
  const { Item } = await dynamodb.send(
    new GetItemCommand({ TableName: 'crash', Key: { PK: { S: 'marker' } } }),
  );
  dynamodb.destroy();
  return Item?.v?.S;
}

/** Java started the way launchers before the wrapper did: detached, so it survives whoever started it. */
async function startOrphanJava(port: number, dbPath?: string): Promise<ChildProcess> {
  const emulator = join(
    dirname(
      createRequire(join(process.cwd(), 'package.json')).resolve('amplify-dynamodb-simulator/package.json'),
    ),
    'emulator',
  );
  if (dbPath) mkdirSync(dbPath, { recursive: true });
  const java = spawn(
    'java',
    [
      `-Djava.library.path=${join(emulator, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(emulator, 'DynamoDBLocal.jar'),
      ...(dbPath ? ['-dbPath', dbPath] : ['-inMemory']),
      '-port',
      String(port),
      '-sharedDb',
      '-disableTelemetry',
    ],
    { cwd: emulator, detached: true, stdio: 'ignore' },
  );
  java.unref();
  strays.push(java);
  const probe = new DynamoDBClient({
    ...localDynamoClientConfig(`http://127.0.0.1:${port}`),
    maxAttempts: 1,
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await probe.send(new ListTablesCommand({}));
      probe.destroy();
      return java;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((wake) => setTimeout(wake, 200));
    }
  }
}

describe('DynamoDB Local after a crash', () => {
  it('dies with a SIGKILLed launcher; a restart on the same port and data folder finds the data', async () => {
    const dbPath = join(tempFolder(), 'dynamodb');
    const port = await freePort();
    const started: StartedChild<{ endpoint: string; pid: number }> = await startCrashChild('dynamodb', {
      port,
      dbPath,
    });
    const javaPid = started.info.pid;
    expect(processInfo(javaPid)?.command).toContain('DynamoDBLocal.jar');
    expect(readStateFile(join(dbPath, PID_FILE_NAME))).toMatchObject({ pid: javaPid, port, dbPath });
    await putMarker(started.info.endpoint, 'before the crash');

    await sigkill(started.child);

    expect(await goneWithin(javaPid, 15_000)).toBe(true);
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const again = await startDynamoDbLocal({ port, dbPath });
    try {
      expect(again.port).toBe(port);
      expect(await readMarker(again.endpoint)).toBe('before the crash');
      // Nothing was left behind to stop.
      expect(warn).not.toHaveBeenCalled();
      expect(readStateFile(join(dbPath, PID_FILE_NAME))).toMatchObject({ pid: again.pid, port });
    } finally {
      await again.stop();
    }
    expect(processInfo(again.pid)).toBeUndefined();
    expect(existsSync(join(dbPath, PID_FILE_NAME))).toBe(false);
  });

  it('stops a server a crashed run recorded in its pidfile, and says so', async () => {
    const folder = tempFolder();
    const pidFile = join(folder, PID_FILE_NAME);
    const stalePort = await freePort();
    const stale = await startOrphanJava(stalePort);
    writeStateFile(pidFile, { pid: stale.pid, port: stalePort, startedAt: new Date().toISOString() });
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);

    const server = await startDynamoDbLocal({ port: stalePort, pidFile });
    try {
      expect(processInfo(stale.pid ?? 0)).toBeUndefined();
      expect(warn).toHaveBeenCalledWith(expect.stringContaining(`pid ${stale.pid}, port ${stalePort}`));
      expect(readStateFile(pidFile)).toMatchObject({ pid: server.pid, port: stalePort });
    } finally {
      await server.stop();
    }
  });

  it('stops a server an older launcher left on the same data folder, keeping its data', async () => {
    const dbPath = join(tempFolder(), 'dynamodb');
    const port = await freePort();
    const stale = await startOrphanJava(port, dbPath);
    await putMarker(`http://127.0.0.1:${port}`, 'written by the stale server');
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);

    const server = await startDynamoDbLocal({ port, dbPath });
    try {
      expect(processInfo(stale.pid ?? 0)).toBeUndefined();
      expect(warn).toHaveBeenCalledWith(expect.stringContaining(`pid ${stale.pid}, same data folder`));
      expect(await readMarker(server.endpoint)).toBe('written by the stale server');
    } finally {
      await server.stop();
    }
  });

  it('names the other program holding the port instead of stopping it', async () => {
    const port = await freePort();
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(port, resolve));
    try {
      const failure = await startDynamoDbLocal({ port }).catch((error: unknown) => error);

      expect(failure).toBeInstanceOf(PortInUseError);
      expect((failure as PortInUseError).holder?.pid).toBe(process.pid);
      expect((failure as Error).message).toContain(`port ${port} is already in use by another program`);
      expect((failure as Error).message).toContain(`pid ${process.pid}`);
      expect((failure as Error).message).toContain('--port');
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});
