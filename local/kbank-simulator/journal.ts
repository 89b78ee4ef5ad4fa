/** The simulator's durable state under `statePath`: a snapshot plus an append-only journal of changes, replayed on start and compacted. */
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { readStateFile, writeStateFile } from '../state-file.js';
import type { SimChange, SimRecords, SimState } from './state.js';
import type { SimCharge, TokenRecord } from './types.js';

/**
 * Snapshot versions: 1 had no journal; 2 adds `seq`, the last journal line it holds. A simulator that
 * predates the journal refuses a version 2 file rather than start without the journal's changes.
 */
export const SNAPSHOT_VERSION = 2;

/** The snapshot file (`statePath`). */
export interface SimSnapshot extends SimRecords {
  version: number;
  seq: number;
}

export interface JournalOptions {
  /**
   * Compact once the journal is longer than this and than the snapshot (so compaction, which writes the
   * whole state, costs at most about as much as the appends it folds in). Default 1 MiB.
   */
  minCompactBytes?: number;
  /** How often that bound is checked. Default 2000 ms. */
  compactCheckMs?: number;
}

export const JOURNAL_DEFAULTS = { minCompactBytes: 1024 * 1024, compactCheckMs: 2000 } as const;

/** The journal beside a snapshot. */
export function journalPathOf(statePath: string): string {
  return `${statePath}.journal`;
}

/**
 * Each line is one change, `{"seq": n, ...SimChange}` + newline, appended with one write on an O_APPEND
 * descriptor before the answer that reports it. writeSync returns once the kernel holds the bytes, so
 * they survive the process being killed; there is no fsync (about 3 ms each here, against microseconds),
 * the same promise as every other `--persist` file: a crashed process loses nothing, a machine losing
 * power may.
 */
export class StateJournal {
  private seq = 0;
  private journalBytes = 0;
  private snapshotBytes = 0;
  private fd: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  readonly journalPath: string;
  private readonly minCompactBytes: number;

  /**
   * Loads the snapshot and replays the journal into `state`; then, when the journal held anything,
   * compacts at once (which also drops a torn last line before anything is appended after it).
   */
  static open(state: SimState, statePath: string, options: JournalOptions = {}): StateJournal {
    const journal = new StateJournal(state, statePath, options);
    journal.replay();
    mkdirSync(dirname(statePath), { recursive: true });
    journal.fd = openSync(journal.journalPath, 'a', 0o600);
    if (journal.journalBytes > 0) journal.compact();
    const checkMs = options.compactCheckMs ?? JOURNAL_DEFAULTS.compactCheckMs;
    journal.timer = setInterval(() => journal.compactWhenDue(), checkMs);
    journal.timer.unref();
    return journal;
  }

  private constructor(
    private readonly state: SimState,
    private readonly statePath: string,
    options: JournalOptions,
  ) {
    this.journalPath = journalPathOf(statePath);
    this.minCompactBytes = options.minCompactBytes ?? JOURNAL_DEFAULTS.minCompactBytes;
  }

  /** Sizes, for tests and the benchmark. */
  stats(): { seq: number; journalBytes: number; snapshotBytes: number } {
    return { seq: this.seq, journalBytes: this.journalBytes, snapshotBytes: this.snapshotBytes };
  }

  /** Appends the pending change, if any. Throws when it cannot: the caller must not answer as if kept. */
  commit(): void {
    const fd = this.openFd();
    const change = this.state.takeChange();
    if (!change) return;
    const line = Buffer.from(`${JSON.stringify({ seq: this.seq + 1, ...change })}\n`);
    try {
      let written = 0;
      while (written < line.length) written += writeSync(fd, line, written, line.length - written);
    } catch (error) {
      // Cut a partial line off, so the next append does not glue onto it; the change stays pending.
      try {
        ftruncateSync(fd, this.journalBytes);
      } catch {
        // The next start reads the fragment as a torn line when nothing follows it.
      }
      throw error;
    }
    this.state.settle();
    this.seq += 1;
    this.journalBytes += line.length;
  }

  /**
   * Writes the whole state as a new snapshot (temporary file + rename) and empties the journal. A crash
   * between the two leaves lines the snapshot already holds: their seq is not above its own, so replay
   * skips them.
   */
  compact(): void {
    const fd = this.openFd();
    this.commit();
    const snapshot: SimSnapshot = { version: SNAPSHOT_VERSION, seq: this.seq, ...this.state.records() };
    writeStateFile(this.statePath, snapshot);
    ftruncateSync(fd, 0);
    this.journalBytes = 0;
    this.snapshotBytes = statSync(this.statePath).size;
  }

  /** Compacts when the journal has passed its bound. */
  compactWhenDue(): void {
    if (this.journalBytes <= Math.max(this.minCompactBytes, this.snapshotBytes)) return;
    try {
      this.compact();
    } catch (error) {
      // The journal is still whole, so nothing is lost; the next check tries again.
      process.emitWarning(`KBank simulator: compacting ${this.statePath} failed: ${String(error)}`);
    }
  }

  /** Stops the periodic check, compacts (a clean stop leaves one snapshot) and closes the journal. */
  close(): void {
    if (this.fd === undefined) return;
    clearInterval(this.timer);
    try {
      this.compact();
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private openFd(): number {
    if (this.fd === undefined) throw new Error(`the journal ${this.journalPath} is closed`);
    return this.fd;
  }

  private replay(): void {
    const snapshot = readSnapshot(this.statePath);
    if (snapshot) {
      this.state.load(snapshot);
      this.seq = snapshot.seq;
      this.snapshotBytes = statSync(this.statePath).size;
    }
    let text: string;
    try {
      text = readFileSync(this.journalPath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    this.journalBytes = Buffer.byteLength(text);
    // Only newline-terminated lines were answered for: an unterminated tail is a torn append (the process
    // died inside the write), whose answer was never sent.
    const lines = text.split('\n');
    lines.pop();
    lines.forEach((line, index) => {
      const where = `${this.journalPath} line ${index + 1}`;
      const entry = parseLine(line, where, this.statePath);
      if (entry.seq <= this.seq) return;
      if (entry.seq !== this.seq + 1) {
        throw new Error(
          `${where} is change ${entry.seq} where ${this.seq + 1} should follow: the journal does not ` +
            `continue ${this.statePath}. ${moveAway(this.statePath)}`,
        );
      }
      const { seq, ...change } = entry;
      this.state.apply(change);
      this.seq = seq;
    });
    this.state.settle();
  }
}

function moveAway(statePath: string): string {
  return `Move ${statePath} and ${journalPathOf(statePath)} away to start empty.`;
}

function readSnapshot(statePath: string): SimSnapshot | undefined {
  const raw = readStateFile(statePath);
  if (raw === undefined) return undefined;
  const state = raw as Partial<SimSnapshot> | null;
  const version = state?.version;
  const seq = version === 1 ? 0 : state?.seq;
  if (
    (version !== 1 && version !== SNAPSHOT_VERSION) ||
    !Number.isSafeInteger(seq) ||
    !Array.isArray(state?.charges) ||
    !Array.isArray(state.tokens)
  ) {
    throw new Error(
      `${statePath} is not a KBank simulator state file (version 1 or ${SNAPSHOT_VERSION}): move it away`,
    );
  }
  return { ...(state as SimSnapshot), seq: seq as number };
}

const faultsSchema = z.strictObject({
  duplicateNotify: z.boolean().optional(),
  lateNotifyMs: z.number().optional(),
  lostNotify: z.boolean().optional(),
  wrongChecksum: z.boolean().optional(),
});

/** A journal line: the fields a replay relies on are checked; the records are otherwise written whole. */
const lineSchema = z.strictObject({
  seq: z.number().int().positive(),
  charges: z
    .array(
      z.looseObject({
        id: z.string().min(1),
        referenceOrder: z.string().min(1),
        orderId: z.string().optional(),
      }),
    )
    .optional(),
  forgotten: z.array(z.string()).optional(),
  tokens: z.array(z.looseObject({ id: z.string().min(1) })).optional(),
  unavailableAnswered: z.array(z.string()).optional(),
  unlisted: z.array(z.string()).optional(),
  faults: z.array(z.strictObject({ target: z.string().nullable(), faults: faultsSchema })).optional(),
});

function parseLine(line: string, where: string, statePath: string): SimChange & { seq: number } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new Error(`${where} is not JSON: the journal is corrupt. ${moveAway(statePath)}`);
  }
  const parsed = lineSchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(line)').join(', ');
    throw new Error(
      `${where} is not a journal entry (${fields}): the journal is corrupt. ${moveAway(statePath)}`,
    );
  }
  const { charges, tokens, ...rest } = parsed.data;
  return {
    ...rest,
    ...(charges ? { charges: charges as unknown as SimCharge[] } : {}),
    ...(tokens ? { tokens: tokens as unknown as TokenRecord[] } : {}),
  };
}
