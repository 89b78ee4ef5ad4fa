/** Small JSON state files for the local stack's `--persist` mode, written atomically (temp file + rename). */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces `path` with `value` as JSON. Synchronous on purpose: callers answer a request only after this
 * returns, so a SIGKILL right after the answer cannot lose what the answer reported. The rename is atomic,
 * so a crash mid-write leaves the previous file, never a torn one. No fsync: this protects against the
 * process dying (the page cache survives it), not against the machine losing power.
 */
export function writeStateFile(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  writeFileSync(temporary, `${JSON.stringify(value)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

/**
 * The parsed JSON of `path`, or undefined when there is no such file. A file that is not JSON throws: the
 * state of an earlier run must never be dropped silently.
 */
export function readStateFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${path} is not valid JSON: fix or delete it (it holds the state of an earlier run)`);
  }
}

export function removeStateFile(path: string): void {
  rmSync(path, { force: true });
}
