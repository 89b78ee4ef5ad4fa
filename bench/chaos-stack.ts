/**
 * The local stack as a child process for `npm run chaos`: started with `--persist` on a data dir of its own,
 * killed with SIGKILL (its whole process group, DynamoDB Local included) and started again on the same data
 * dir and ports, as a crashed host would be.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync, type WriteStream } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sleep } from './stats.js';

export interface StackInfo {
  apiUrl: string;
  kbankUrl: string;
  dynamodbEndpoint: string;
  apiKey: string;
  kbankPublicKey: string;
}

export interface StackProcessOptions {
  /** The child's working directory: its `.local` (stack.json, pidfile, simulator and queue state) lives here. */
  workDir: string;
  /** API port; the stack uses the four after it too. */
  port: number;
  /** The demo merchant's key, the same on every start (a client does not change credentials mid-run). */
  apiKey: string;
  /** Passed as `--sweep-interval` when bin/local.ts knows the flag (ms). */
  sweepIntervalMs: number;
  /** Where the child's stdout and stderr go. */
  logFile: string;
}

/** Counted from the child's stderr (JSON log lines); the lines themselves go to the log file only. */
export interface StackLogCounts {
  errors: number;
  warnings: number;
  unresolved: number;
  deadLettered: number;
  handedBack: number;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Whether bin/local.ts takes `--sweep-interval` (the scheduled sweep of the local stack). */
export function localStackHasSweepInterval(): boolean {
  return readFileSync(join(ROOT, 'bin/local.ts'), 'utf8').includes("'sweep-interval'");
}

export class StackProcess {
  private child: ChildProcess | null = null;
  private readonly log: WriteStream;
  readonly counts: StackLogCounts = { errors: 0, warnings: 0, unresolved: 0, deadLettered: 0, handedBack: 0 };
  readonly sweepTimer = localStackHasSweepInterval();
  starts = 0;
  /** Exits nobody asked for (the stack crashed by itself), with their exit code or signal. */
  readonly crashes: string[] = [];
  /** Called on such an exit (the supervisor restarts it). */
  onCrash: (() => void) | null = null;

  constructor(private readonly options: StackProcessOptions) {
    this.log = createWriteStream(options.logFile, { flags: 'a' });
  }

  /** Starts the stack and waits until `GET /v1/health` answers; retries while the ports are still held. */
  async start(): Promise<{ info: StackInfo; readyMs: number }> {
    const t0 = performance.now();
    for (let tries = 1; ; tries++) {
      try {
        const info = await this.startOnce();
        await this.waitHealthy(info.apiUrl);
        this.starts += 1;
        return { info, readyMs: performance.now() - t0 };
      } catch (error) {
        await this.kill();
        if (tries >= 5) throw error;
        this.log.write(`[chaos] start failed (${(error as Error).message}); retrying\n`);
        await sleep(2000);
      }
    }
  }

  private async startOnce(): Promise<StackInfo> {
    const o = this.options;
    const stateFile = join(o.workDir, '.local', 'stack.json');
    const args = [
      '--import',
      TSX,
      join(ROOT, 'bin/local.ts'),
      '--persist',
      '--data-dir',
      join(o.workDir, 'dynamodb'),
      '--port',
      String(o.port),
      '--api-key',
      o.apiKey,
      ...(this.sweepTimer ? ['--sweep-interval', String(o.sweepIntervalMs)] : []),
    ];
    this.log.write(
      `[chaos] ${new Date().toISOString()} starting the local stack (start ${this.starts + 1})\n`,
    );
    // Its own process group, so that one SIGKILL takes DynamoDB Local down with it.
    const child = spawn(process.execPath, args, {
      cwd: o.workDir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      this.log.write(chunk);
    });
    let partial = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      this.log.write(chunk);
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.count(line);
    });
    const deadline = Date.now() + 90_000;
    while (!output.includes('Local stack ready')) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the local stack exited early (${child.exitCode ?? child.signalCode})`);
      }
      if (Date.now() > deadline) throw new Error('the local stack did not start in 90 s');
      await sleep(100);
    }
    if (!existsSync(stateFile)) throw new Error(`${stateFile} was not written`);
    child.once('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      this.crashes.push(String(code ?? signal));
      this.log.write(
        `[chaos] ${new Date().toISOString()} the local stack exited by itself (${code ?? signal})\n`,
      );
      this.onCrash?.();
    });
    return JSON.parse(readFileSync(stateFile, 'utf8')) as StackInfo;
  }

  private count(line: string): void {
    if (line.includes('"level":"ERROR"')) this.counts.errors += 1;
    if (line.includes('"level":"WARN"')) this.counts.warnings += 1;
    if (line.includes('reconciliation unresolved')) this.counts.unresolved += 1;
    if (line.includes('kbank callback dead-lettered')) this.counts.deadLettered += 1;
    if (line.includes('"code":"saga_not_waiting_yet"')) this.counts.handedBack += 1;
  }

  private async waitHealthy(apiUrl: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const res = await fetch(`${apiUrl}/v1/health`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error('GET /v1/health did not answer 200 in 60 s');
      await sleep(100);
    }
  }

  /** SIGKILL to the whole process group; resolves once the launcher is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.pid === undefined) {
      await this.killLeftovers();
      return;
    }
    this.log.write(`[chaos] ${new Date().toISOString()} SIGKILL\n`);
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await exited;
    await this.killLeftovers();
  }

  /**
   * A DynamoDB Local the launcher started in a process group of its own survives the group's SIGKILL (the
   * local stack is being changed to make it die with its parent). It is found by our own data dir on its
   * command line, killed by pid, and waited for: the restart needs its port.
   */
  private async killLeftovers(): Promise<void> {
    const marker = join(this.options.workDir, 'dynamodb');
    for (let round = 0; round < 50; round++) {
      const pids = processesMentioning(marker);
      if (pids.length === 0) return;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      await sleep(100);
    }
  }

  /** Ctrl-C as a person would stop it; SIGKILL after 20 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.pid === undefined) {
      await this.killLeftovers();
      await new Promise<void>((resolve) => this.log.end(resolve));
      return;
    }
    const exited = new Promise<boolean>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(true);
      else child.once('exit', () => resolve(true));
    });
    child.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      exited,
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), 20_000);
      }),
    ]);
    clearTimeout(timer);
    if (!stopped) await this.kill();
    try {
      // Whatever the launcher left in its group (nothing, normally).
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is gone
    }
    this.child = null;
    await this.killLeftovers();
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}

/** Pids whose command line contains `text` (Linux /proc; none elsewhere). */
function processesMentioning(text: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.[0];
      if (cmdline.includes(text) && state !== 'Z') pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}
