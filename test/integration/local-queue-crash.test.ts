/** The local callback queue with a state file: what a SIGKILLed process had not processed is delivered after a restart. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { createLocalQueue } from '../../local/queue.js';
import { readStateFile } from '../../local/state-file.js';
import { killCrashChildren, sigkill, startCrashChild } from '../support/processes.js';

const folder = mkdtempSync(join(tmpdir(), 'queue-crash-'));

afterAll(async () => {
  await killCrashChildren();
  rmSync(folder, { recursive: true, force: true });
});

describe('local queue after a crash', () => {
  it('delivers the messages in flight or queued when the process was SIGKILLed, and not the processed one', async () => {
    const statePath = join(folder, 'kbank-callbacks.json');
    const messages = [
      { id: 'processed' },
      { id: 'in-flight', hang: true },
      { id: 'also-in-flight', hang: true },
    ];
    const started = await startCrashChild<{ sent: number; processed: number }>('queue', {
      statePath,
      messages,
    });
    expect(started.info).toEqual({ sent: 3, processed: 1 });

    await sigkill(started.child);

    const received: [string, number][] = [];
    const queue = createLocalQueue<{ id: string }>({
      name: 'after-crash',
      statePath,
      consume: async (message, delivery) => void received.push([message.id, delivery.receiveCount]),
    });
    await queue.idle();
    await queue.close();

    expect(received).toEqual([
      ['in-flight', 2],
      ['also-in-flight', 2],
    ]);
    expect(readStateFile(statePath)).toMatchObject({ messages: [], deadLetters: [] });
  });
});
