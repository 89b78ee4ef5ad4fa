/** Test helpers for real child processes: start one, wait for its JSON line, wait for a pid to be gone. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { processInfo } from '../../local/processes.js';

export const CRASH_CHILD = join(process.cwd(), 'test/support/crash-child.ts');

const started = new Set<ChildProcess>();

/** SIGKILLs every crash child still running: call in afterAll, so a failed test leaves none behind. */
export async function killCrashChildren(): Promise<void> {
  await Promise.all([...started].map((child) => sigkill(child)));
  started.clear();
}

export interface StartedChild<T> {
  child: ChildProcess;
  info: T;
  /** Everything the child wrote to stderr so far (for failure messages). */
  stderr(): string;
}

/**
 * Runs test/support/crash-child.ts with tsx in a new Node process and resolves with the JSON line it
 * prints once its server is up. Rejects with its stderr if it exits first or takes longer than timeoutMs.
 */
export function startCrashChild<T>(
  kind: string,
  options: object,
  timeoutMs = 60_000,
): Promise<StartedChild<T>> {
  const child = spawn(process.execPath, ['--import', 'tsx', CRASH_CHILD, kind, JSON.stringify(options)], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  child.once('exit', () => started.delete(child));
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${kind} child did not start in ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${kind} child exited (${signal ?? code}) before it was ready:\n${stderr}`));
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const line = stdout.split('\n').find((each) => each.startsWith('{'));
      if (line === undefined || !stdout.includes('\n')) return;
      clearTimeout(timer);
      resolve({ child, info: JSON.parse(line) as T, stderr: () => stderr });
    });
  });
}

/** SIGKILL: no exit hook, no signal handler runs in the child. Resolves once it has exited. */
export async function sigkill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

/**
 * Whether the process is gone within `withinMs`. Polls: the process is a real one, stopped by someone else
 * (its wrapper), and there is no event to wait for.
 */
export async function goneWithin(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (processInfo(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((wake) => setTimeout(wake, 100));
  }
  return true;
}

/** A port that was free a moment ago, on every interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
