/** The in-memory EventBridge stand-in: PutEvents results, filtering, subscriptions, waiting, bounded memory. */
import { createLocalEventBus } from '../../local/event-bus.js';

const fixedClock = () => new Date('2026-01-15T08:00:00.000Z');

function sequentialIds() {
  let n = 0;
  return () => `evt-${++n}`;
}

describe('local event bus', () => {
  it('accepts entries with an object or JSON-text detail and reports their ids', () => {
    const bus = createLocalEventBus({ now: fixedClock, newId: sequentialIds() });

    const result = bus.putEvents([
      {
        EventBusName: 'payments',
        Source: 'kbank.payments',
        DetailType: 'payment.authorized',
        Detail: { a: 1 },
      },
      { Source: 'kbank.payments', DetailType: 'payment.captured', Detail: '{"b":2}' },
    ]);

    expect(result).toEqual({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-1' }, { EventId: 'evt-2' }] });
    expect(bus.events()).toEqual([
      {
        id: 'evt-1',
        time: '2026-01-15T08:00:00.000Z',
        source: 'kbank.payments',
        detailType: 'payment.authorized',
        detail: { a: 1 },
        busName: 'payments',
      },
      {
        id: 'evt-2',
        time: '2026-01-15T08:00:00.000Z',
        source: 'kbank.payments',
        detailType: 'payment.captured',
        detail: { b: 2 },
        busName: 'default',
      },
    ]);
  });

  it('fails bad entries one by one, like EventBridge, and keeps the good ones', () => {
    const bus = createLocalEventBus();

    const result = bus.putEvents([
      { Source: '', DetailType: 'payment.authorized', Detail: {} },
      { Source: 'kbank.payments', DetailType: 'payment.authorized', Detail: 'not json' },
      { Source: 'kbank.payments', DetailType: 'payment.authorized', Detail: '[1,2]' },
      { Source: 'kbank.payments', DetailType: 'payment.authorized', Detail: { ok: true } },
    ]);

    expect(result.FailedEntryCount).toBe(3);
    expect(result.Entries.map((entry) => entry.ErrorCode ?? 'ok')).toEqual([
      'InvalidArgument',
      'MalformedDetail',
      'MalformedDetail',
      'ok',
    ]);
    expect(bus.events()).toHaveLength(1);
  });

  it('refuses calls with more than ten entries as a whole', () => {
    const bus = createLocalEventBus();
    const entry = { Source: 's', DetailType: 'd', Detail: {} };

    expect(() => bus.putEvents(Array.from({ length: 11 }, () => entry))).toThrow(
      expect.objectContaining({ name: 'ValidationException' }),
    );
    expect(bus.events()).toHaveLength(0);
  });

  it('copies the detail so later mutation by the publisher does not change the event', () => {
    const bus = createLocalEventBus();
    const detail = { payment: { id: 'pay_1', status: 'authorized' } };

    bus.putEvents([{ Source: 's', DetailType: 'payment.authorized', Detail: detail }]);
    detail.payment.status = 'mutated';

    expect(bus.events()[0]?.detail).toEqual({ payment: { id: 'pay_1', status: 'authorized' } });
  });

  it('filters by detail type, source and payment id (payment.id or payment_id)', () => {
    const bus = createLocalEventBus();
    bus.putEvents([
      { Source: 'payments', DetailType: 'payment.authorized', Detail: { payment: { id: 'pay_1' } } },
      { Source: 'payments', DetailType: 'payment.captured', Detail: { payment_id: 'pay_1' } },
      { Source: 'payments', DetailType: 'payment.captured', Detail: { payment: { id: 'pay_2' } } },
      { Source: 'other', DetailType: 'payment.captured', Detail: { payment_id: 'pay_1' } },
    ]);

    expect(bus.events({ paymentId: 'pay_1' })).toHaveLength(3);
    expect(
      bus.events({ paymentId: 'pay_1', detailType: 'payment.captured', source: 'payments' }),
    ).toHaveLength(1);
    expect(bus.events({ detailType: 'payment.refunded' })).toEqual([]);
  });

  it('notifies subscribers until they unsubscribe, and a throwing subscriber does not break publishing', () => {
    const bus = createLocalEventBus();
    const seen: string[] = [];
    const reported: unknown[] = [];
    const consoleError = console.error;
    console.error = (...args: unknown[]) => reported.push(args);
    bus.subscribe(() => {
      throw new Error('broken consumer');
    });
    const unsubscribe = bus.subscribe((event) => seen.push(event.detailType));

    let result: ReturnType<typeof bus.putEvents>;
    try {
      bus.putEvents([{ Source: 's', DetailType: 'first', Detail: {} }]);
      unsubscribe();
      result = bus.putEvents([{ Source: 's', DetailType: 'second', Detail: {} }]);
    } finally {
      console.error = consoleError;
    }

    expect(seen).toEqual(['first']);
    expect(result.FailedEntryCount).toBe(0);
    expect(reported).toHaveLength(2);
  });

  it('waitFor resolves with an event that already arrived', async () => {
    const bus = createLocalEventBus();
    bus.putEvents([{ Source: 's', DetailType: 'payment.authorized', Detail: { payment_id: 'pay_9' } }]);

    const event = await bus.waitFor((candidate) => candidate.detail.payment_id === 'pay_9', 10);

    expect(event.detailType).toBe('payment.authorized');
  });

  it('waitFor resolves with a later event and rejects when none comes in time', async () => {
    const bus = createLocalEventBus();

    const later = bus.waitFor((event) => event.detailType === 'payment.captured', 1_000);
    queueMicrotask(() => bus.putEvents([{ Source: 's', DetailType: 'payment.captured', Detail: {} }]));

    await expect(later).resolves.toMatchObject({ detailType: 'payment.captured' });
    await expect(bus.waitFor((event) => event.detailType === 'never', 5)).rejects.toThrow(
      /no matching event/,
    );
  });

  it('keeps only the newest events beyond its capacity', () => {
    const bus = createLocalEventBus({ capacity: 3, newId: sequentialIds() });

    for (let i = 0; i < 5; i++) bus.putEvents([{ Source: 's', DetailType: `t${i}`, Detail: {} }]);

    expect(bus.events().map((event) => event.detailType)).toEqual(['t2', 't3', 't4']);
    bus.clear();
    expect(bus.events()).toEqual([]);
  });

  it('fails whole calls during a simulated outage of the matching entries, and publishes again once it ends', () => {
    const bus = createLocalEventBus();
    bus.failWhen((entry) => entry.DetailType === 'payment.authorized');
    const authorized = { Source: 'payments', DetailType: 'payment.authorized', Detail: { n: 1 } };
    const created = { Source: 'payments', DetailType: 'payment.created', Detail: { n: 2 } };

    expect(() => bus.putEvents([created, authorized])).toThrow(
      expect.objectContaining({ name: 'InternalException' }),
    );
    expect(bus.events()).toEqual([]);
    expect(bus.putEvents([created]).FailedEntryCount).toBe(0);

    bus.failWhen(null);
    bus.putEvents([authorized]);
    expect(bus.events().map((event) => event.detailType)).toEqual(['payment.created', 'payment.authorized']);
  });
});
