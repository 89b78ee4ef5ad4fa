/** Ids whose order is meaning: notes written one after another in the same millisecond keep their order. */
import { monotonicUlid, ulid } from '../../functions/core/ids.js';

it('orders ids made within one millisecond, or after the clock stepped back, as they were made', () => {
  const at = Date.parse('2026-12-01T00:00:00.000Z');
  const ids = [
    monotonicUlid(at),
    monotonicUlid(at),
    monotonicUlid(at),
    monotonicUlid(at - 5000),
    monotonicUlid(at + 1),
  ];
  expect([...ids].sort()).toEqual(ids);
  expect(new Set(ids).size).toBe(ids.length);
  // Plain ulids of one millisecond sort by their random part only.
  expect(ulid(at, new Uint8Array(10).fill(255)) > ulid(at, new Uint8Array(10))).toBe(true);
});
