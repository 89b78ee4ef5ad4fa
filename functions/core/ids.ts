/** Identifiers: time-ordered ULIDs (Crockford base32) behind a prefix, so ids sort by creation time. */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function ulid(now: number = Date.now(), random: Uint8Array = randomBytes(10)): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET.charAt(t % 32) + time;
    t = Math.floor(t / 32);
  }
  // 80 random bits as 16 base32 characters.
  let bits = 0n;
  for (const byte of random) bits = (bits << 8n) | BigInt(byte);
  let rest = '';
  for (let i = 0; i < 16; i++) {
    rest = ALPHABET.charAt(Number(bits & 31n)) + rest;
    bits >>= 5n;
  }
  return time + rest;
}

/** `pay_…` payments, `re_…` refunds, `we_…` webhook endpoints, `whd_…` webhook deliveries. */
export type IdGenerator = (prefix: 'pay' | 're' | 'we' | 'whd') => string;

export const ulidIds: IdGenerator = (prefix) => `${prefix}_${ulid()}`;

let last: { time: number; random: Uint8Array } | null = null;

/**
 * A ULID that sorts after every earlier one from this process, even within one millisecond (or when the
 * clock steps back): the time is kept and the random part incremented. For ids whose order is meaning, such
 * as the notes of one payment's trail written one after another.
 */
export function monotonicUlid(now: number = Date.now()): string {
  if (last && now <= last.time) {
    const random = Uint8Array.from(last.random);
    for (let i = random.length - 1; i >= 0; i--) {
      random[i] = ((random[i] as number) + 1) & 0xff;
      if (random[i] !== 0) break;
    }
    last = { time: last.time, random };
  } else {
    last = { time: now, random: randomBytes(10) };
  }
  return ulid(last.time, last.random);
}
