/** Finds local processes by pid or by the TCP port they listen on, for the launchers' crash recovery. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  /** The command line, arguments separated by spaces (for messages). */
  command: string;
  args: string[];
}

/** The process, or undefined when it is gone or a zombie (dead, only waiting to be reaped). */
export function processInfo(pid: number): ProcessInfo | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state follows the command name, which is in parentheses and may itself contain ") ".
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return undefined;
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return { pid, command: args.join(' '), args };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || process.platform === 'linux') return undefined;
  }
  // Without /proc (macOS): ps knows the state and the command line.
  try {
    const line = execFileSync('ps', ['-o', 'stat=,args=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    const [state = '', ...args] = line.split(/\s+/);
    if (line === '' || state.startsWith('Z')) return undefined;
    return { pid, command: args.join(' '), args };
  } catch {
    return undefined;
  }
}

/**
 * Who listens on TCP `port` (any address): the process, 'unknown' when the socket exists but its owner is
 * not visible to us (another user's process), undefined when nobody listens or this system has no /proc.
 */
export function listenerOf(port: number): ProcessInfo | 'unknown' | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const localPort = Number.parseInt(fields[1]?.split(':').pop() ?? '', 16);
      // State 0A is LISTEN; field 9 is the socket's inode.
      if (localPort === port && fields[3] === '0A' && fields[9]) inodes.add(fields[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of safeReaddir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    for (const fd of safeReaddir(`/proc/${entry}/fd`)) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) return processInfo(Number(entry)) ?? 'unknown';
    }
  }
  return 'unknown';
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone, throws if it survives both. */
export async function terminate(pid: number, graceMs = 5_000): Promise<void> {
  const gone = async (withinMs: number) => {
    const deadline = Date.now() + withinMs;
    while (processInfo(pid)) {
      if (Date.now() > deadline) return false;
      await new Promise((wake) => setTimeout(wake, 100));
    }
    return true;
  };
  signal(pid, 'SIGTERM');
  if (await gone(graceMs)) return;
  signal(pid, 'SIGKILL');
  if (await gone(2_000)) return;
  throw new Error(`process ${pid} is still running after SIGKILL`);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}
