/** The in-process SQS stand-in: asynchronous delivery, redelivery, dead letters, concurrency, idle, close. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, jest } from '@jest/globals';
import { createLocalQueue, type LocalDelivery, type LocalQueue } from '../../local/queue.js';
import { readStateFile } from '../../local/state-file.js';

interface Message {
  id: string;
  nested: { amount: number };
}

const message = (id: string): Message => ({ id, nested: { amount: 100 } });

/** A promise whose settlement the test controls. */
function deferred() {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Whether a promise has resolved yet, readable synchronously. */
function track(promise: Promise<void>) {
  const state = { settled: false };
  void promise.then(() => {
    state.settled = true;
  });
  return state;
}

/** Lets setImmediate callbacks and promise chains run (fake timers: without moving the clock). */
const flush = () => jest.advanceTimersByTimeAsync(0);

const queues: LocalQueue<Message>[] = [];
function queue(options: Partial<Parameters<typeof createLocalQueue<Message>>[0]> = {}) {
  const created = createLocalQueue<Message>({ name: 'test', consume: async () => {}, ...options });
  queues.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(queues.splice(0).map((created) => created.close()));
  jest.useRealTimers();
});

describe('local queue', () => {
  it('delivers a copy of each message, later than send, with its message id and receive count', async () => {
    jest.useFakeTimers();
    const received: [Message, LocalDelivery][] = [];
    const q = queue({
      consume: async (m, delivery) => {
        received.push([m, delivery]);
      },
    });
    const sent = message('m-1');

    await q.send(sent);
    sent.nested.amount = 999;
    expect(received).toEqual([]);

    await flush();
    expect(received).toEqual([[message('m-1'), { messageId: expect.any(String), receiveCount: 1 }]]);
    expect(received[0]?.[0]).not.toBe(sent);
  });

  it('delivers a failed message again only after the visibility timeout, with a higher receive count', async () => {
    jest.useFakeTimers();
    const deliveries: LocalDelivery[] = [];
    const q = queue({
      visibilityTimeoutMs: 1000,
      consume: async (_m, delivery) => {
        deliveries.push(delivery);
        if (delivery.receiveCount === 1) throw new Error('saga not waiting yet');
      },
    });

    await q.send(message('m-1'));
    await flush();
    expect(deliveries).toHaveLength(1);

    await jest.advanceTimersByTimeAsync(999);
    expect(deliveries).toHaveLength(1);

    await jest.advanceTimersByTimeAsync(1);
    expect(deliveries.map((delivery) => delivery.receiveCount)).toEqual([1, 2]);
    expect(deliveries[1]?.messageId).toBe(deliveries[0]?.messageId);
    expect(q.deadLetters()).toEqual([]);
  });

  it('counts a consume that throws synchronously as a failed receive', async () => {
    jest.useFakeTimers();
    let calls = 0;
    const q = queue({
      visibilityTimeoutMs: 10,
      consume: ((_m: Message) => {
        calls += 1;
        if (calls === 1) throw new Error('sync');
        return Promise.resolve();
      }) as (m: Message) => Promise<void>,
    });
    await q.send(message('m-1'));
    await jest.advanceTimersByTimeAsync(10);
    expect(calls).toBe(2);
  });

  it('moves a message to the dead letters after maxReceiveCount receives, with its last error', async () => {
    jest.useFakeTimers();
    let receives = 0;
    const onDeadLetter = jest.fn<(m: Message, error: unknown) => void>();
    const q = queue({
      maxReceiveCount: 3,
      visibilityTimeoutMs: 100,
      onDeadLetter,
      consume: async () => {
        receives += 1;
        throw new Error(`failure ${receives}`);
      },
    });

    await q.send(message('m-1'));
    await jest.advanceTimersByTimeAsync(10_000);

    expect(receives).toBe(3);
    expect(q.deadLetters()).toEqual([message('m-1')]);
    expect(onDeadLetter).toHaveBeenCalledTimes(1);
    expect(onDeadLetter).toHaveBeenCalledWith(message('m-1'), new Error('failure 3'));
    expect(jest.getTimerCount()).toBe(0);
  });

  it('defaults to five receives in all before dead-lettering', async () => {
    jest.useFakeTimers();
    let receives = 0;
    const q = queue({
      consume: async () => {
        receives += 1;
        throw new Error('down');
      },
    });
    await q.send(message('m-1'));
    await jest.advanceTimersByTimeAsync(60_000);
    expect(receives).toBe(5);
    expect(q.deadLetters()).toHaveLength(1);
  });

  it('keeps delivering when an onDeadLetter hook throws', async () => {
    jest.useFakeTimers();
    const error = jest.spyOn(console, 'error').mockImplementation(() => {});
    const delivered: string[] = [];
    const q = queue({
      maxReceiveCount: 1,
      onDeadLetter: () => {
        throw new Error('hook broken');
      },
      consume: async (m) => {
        delivered.push(m.id);
        if (m.id === 'bad') throw new Error('poison');
      },
    });
    await q.send(message('bad'));
    await flush();
    await q.send(message('good'));
    await flush();
    expect(delivered).toEqual(['bad', 'good']);
    expect(q.deadLetters().map((m) => m.id)).toEqual(['bad']);
    expect(error).toHaveBeenCalledWith('local queue test: onDeadLetter threw', new Error('hook broken'));
    error.mockRestore();
  });

  it('never runs more consumes at once than its concurrency', async () => {
    jest.useFakeTimers();
    const gates = new Map<string, ReturnType<typeof deferred>>();
    const started: string[] = [];
    const q = queue({
      concurrency: 2,
      consume: async (m) => {
        started.push(m.id);
        const gate = deferred();
        gates.set(m.id, gate);
        await gate.promise;
      },
    });

    for (const id of ['a', 'b', 'c', 'd', 'e']) await q.send(message(id));
    await flush();
    expect(started).toEqual(['a', 'b']);

    gates.get('a')?.resolve();
    await flush();
    expect(started).toEqual(['a', 'b', 'c']);

    for (const id of ['b', 'c', 'd', 'e']) {
      gates.get(id)?.resolve();
      await flush();
    }
    expect(started).toEqual(['a', 'b', 'c', 'd', 'e']);
    await expect(q.idle()).resolves.toBeUndefined();
  });

  it('runs ten consumes at once by default', async () => {
    jest.useFakeTimers();
    const gate = deferred();
    let started = 0;
    const q = queue({
      consume: async () => {
        started += 1;
        await gate.promise;
      },
    });
    for (let i = 0; i < 12; i++) await q.send(message(`m-${i}`));
    await flush();
    expect(started).toBe(10);
    gate.resolve();
    await flush();
    expect(started).toBe(12);
  });

  it('settles idle() on real timers too, after a redelivery', async () => {
    let receives = 0;
    const q = queue({
      visibilityTimeoutMs: 5,
      consume: async () => {
        receives += 1;
        if (receives === 1) throw new Error('once');
      },
    });
    await q.send(message('m-1'));
    await q.idle();
    expect(receives).toBe(2);
  });

  it('is idle only when nothing is queued, in flight or waiting for redelivery', async () => {
    jest.useFakeTimers();
    const q = queue({ visibilityTimeoutMs: 500 });
    await expect(q.idle()).resolves.toBeUndefined();

    const gate = deferred();
    let receives = 0;
    const busy = queue({
      visibilityTimeoutMs: 500,
      consume: async () => {
        receives += 1;
        if (receives === 1) await gate.promise;
      },
    });
    await busy.send(message('m-1'));
    const idle = track(busy.idle());
    await flush();
    expect(receives).toBe(1);
    expect(idle.settled).toBe(false);

    gate.reject(new Error('first receive fails'));
    await flush();
    expect(idle.settled).toBe(false);

    await jest.advanceTimersByTimeAsync(499);
    expect(idle.settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(receives).toBe(2);
    expect(idle.settled).toBe(true);
  });

  it('on close: waits for running consumes, drops pending redeliveries, and refuses later sends', async () => {
    jest.useFakeTimers();
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    const gate = deferred();
    const received: string[] = [];
    const q = queue({
      visibilityTimeoutMs: 1000,
      consume: async (m) => {
        received.push(m.id);
        if (m.id === 'fails') throw new Error('fails');
        await gate.promise;
      },
    });
    await q.send(message('fails'));
    await q.send(message('slow'));
    await flush();
    expect(received).toEqual(['fails', 'slow']);
    expect(jest.getTimerCount()).toBe(1);

    const closing = track(q.close());
    await flush();
    expect(closing.settled).toBe(false);
    expect(jest.getTimerCount()).toBe(0);

    gate.resolve();
    await flush();
    expect(closing.settled).toBe(true);
    await expect(q.idle()).resolves.toBeUndefined();
    await expect(q.send(message('late'))).rejects.toThrow('local queue test is closed');

    await jest.advanceTimersByTimeAsync(5000);
    expect(received).toEqual(['fails', 'slow']);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('1 undelivered message'));
    warn.mockRestore();
  });

  it('refuses a message JSON cannot carry, and nonsensical options', async () => {
    const q = queue();
    await expect(q.send(undefined as unknown as Message)).rejects.toThrow(TypeError);
    expect(() => createLocalQueue<Message>({ name: 'x', consume: async () => {}, concurrency: 0 })).toThrow(
      RangeError,
    );
    expect(() =>
      createLocalQueue<Message>({ name: 'x', consume: async () => {}, maxReceiveCount: 1.5 }),
    ).toThrow(RangeError);
    expect(() =>
      createLocalQueue<Message>({ name: 'x', consume: async () => {}, visibilityTimeoutMs: -1 }),
    ).toThrow(RangeError);
  });
});

describe('local queue with a state file', () => {
  const folder = mkdtempSync(join(tmpdir(), 'local-queue-'));
  let files = 0;
  const stateFile = () => join(folder, `queue-${++files}.json`);
  const keptIds = (path: string) =>
    ((readStateFile(path) as { messages: { body: string }[] }).messages ?? []).map(
      (stored) => (JSON.parse(stored.body) as Message).id,
    );

  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('has the message in the file when send resolves, before any consume, and drops it once processed', async () => {
    jest.useFakeTimers();
    const statePath = stateFile();
    const consumed: string[] = [];
    const q = queue({ statePath, consume: async (m) => void consumed.push(m.id) });

    await q.send(message('m-1'));
    expect(consumed).toEqual([]);
    expect(keptIds(statePath)).toEqual(['m-1']);

    await flush();
    expect(consumed).toEqual(['m-1']);
    expect(keptIds(statePath)).toEqual([]);
  });

  it('delivers what a closed queue had not processed to the next queue on the same file', async () => {
    jest.useFakeTimers();
    const statePath = stateFile();
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    const first = queue({
      statePath,
      visibilityTimeoutMs: 60_000,
      consume: async () => Promise.reject(new Error('down')),
    });
    await first.send(message('waiting-for-redelivery'));
    await flush();
    await first.send(message('never-received'));
    await first.close();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining(`kept in ${statePath}`));

    const received: [string, number][] = [];
    queue({ statePath, consume: async (m, delivery) => void received.push([m.id, delivery.receiveCount]) });
    await flush();

    // The receive count goes on where it was: it decides when a message is dead.
    expect(received).toEqual([
      ['waiting-for-redelivery', 2],
      ['never-received', 1],
    ]);
    expect(keptIds(statePath)).toEqual([]);
    warn.mockRestore();
  });

  it('keeps the dead letters, and a receive count that reaches the limit after a restart dead-letters', async () => {
    jest.useFakeTimers();
    const statePath = stateFile();
    jest.spyOn(console, 'warn').mockImplementation(() => {});
    const failing = async () => Promise.reject(new Error('poison'));
    const first = queue({ statePath, maxReceiveCount: 2, visibilityTimeoutMs: 60_000, consume: failing });
    await first.send(message('poison'));
    await flush();
    await first.close();

    const onDeadLetter = jest.fn();
    const second = queue({ statePath, maxReceiveCount: 2, consume: failing, onDeadLetter });
    await flush();
    expect(second.deadLetters()).toEqual([message('poison')]);
    expect(onDeadLetter).toHaveBeenCalledTimes(1);

    const third = queue({ statePath, consume: async () => {} });
    expect(third.deadLetters()).toEqual([message('poison')]);
    expect(keptIds(statePath)).toEqual([]);
    jest.restoreAllMocks();
  });

  it('refuses a file that is not a queue state file', () => {
    const statePath = stateFile();
    writeFileSync(statePath, '{"version": 7}');
    expect(() => queue({ statePath })).toThrow('is not a local queue state file');
  });
});
