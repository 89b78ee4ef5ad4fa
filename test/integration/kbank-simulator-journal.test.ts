/**
 * The KBank simulator's journal (statePath): every change an answer reported is on disk when the answer
 * arrives, a torn last line is dropped on replay, any other damage stops the start, and compaction folds
 * the journal into the snapshot without losing or replaying a change twice. A "kill" here is a copy of
 * the files taken at that moment (what a SIGKILL leaves: the page cache survives the process); the real
 * SIGKILL is test/integration/kbank-simulator-persist.test.ts. Time is injected; nothing sleeps.
 */
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { journalPathOf, StateJournal } from '../../local/kbank-simulator/journal.js';
import { SimState } from '../../local/kbank-simulator/state.js';
import {
  type KbankSimulator,
  MAGIC_CARDS,
  SIMULATOR_DEFAULTS,
  type SimCharge,
  startKbankSimulator,
  tokenizeTestCard,
} from '../../local/kbank-simulator.js';

const { secretKey: SECRET } = SIMULATOR_DEFAULTS;
const clock = new Date('2026-03-02T03:00:00.000Z');
const now = () => clock;
const folders: string[] = [];

afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function statePathIn(): string {
  const folder = mkdtempSync(join(tmpdir(), 'kbank-journal-'));
  folders.push(folder);
  return join(folder, 'kbank-simulator.json');
}

/** What a SIGKILL at this moment would leave on disk, copied aside (synchronously: nothing runs between). */
function killCopy(statePath: string): string {
  const copy = statePathIn();
  if (existsSync(statePath)) copyFileSync(statePath, copy);
  if (existsSync(journalPathOf(statePath))) copyFileSync(journalPathOf(statePath), journalPathOf(copy));
  return copy;
}

/** Starts a simulator on the files, hands it to `use`, and closes it. */
async function restarted<T>(statePath: string, use: (sim: KbankSimulator) => Promise<T> | T): Promise<T> {
  const sim = await startKbankSimulator({ statePath, now });
  try {
    return await use(sim);
  } finally {
    await sim.close();
  }
}

const replayedCharges = (statePath: string) => restarted(statePath, (sim) => sim.charges());

function journalLines(statePath: string): Record<string, unknown>[] {
  const text = readFileSync(journalPathOf(statePath), 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

async function call(url: string, key: string | undefined, body?: unknown, method = 'POST'): Promise<Answer> {
  const response = await fetch(url, {
    method,
    headers: { ...(key ? { 'x-api-key': key } : {}), 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe('KBank simulator journal, through the simulator', () => {
  it('has every answered change in the state replayed from the files left right after the answer', async () => {
    const statePath = statePathIn();
    const sim = await startKbankSimulator({ statePath, now, hangMs: 20 });
    const kbank = (path: string, body?: unknown, method = 'POST') =>
      call(`${sim.url}${path}`, SECRET, body, method);
    const control = (path: string, body?: unknown) => call(`${sim.url}${path}`, undefined, body);
    const cardCharge = async (referenceOrder: string, card: string = MAGIC_CARDS.visa.number) =>
      kbank('/card/v2/charge', {
        amount: '200.50',
        currency: 'THB',
        description: 'journal test',
        source_type: 'card',
        mode: 'token',
        token: await tokenizeTestCard(sim.url, card),
        reference_order: referenceOrder,
        metadata: { order: referenceOrder },
      });
    const qrOrder = (referenceOrder: string, sourceType: 'qr' | 'wechat' = 'qr') =>
      kbank('/qr/v2/order', {
        amount: '75.00',
        currency: 'THB',
        description: 'journal test',
        source_type: sourceType,
        reference_order: referenceOrder,
      });
    const id = (answer: Answer) => String(answer.json.id);

    // Each step is one answer that changed something; after each, the files must replay to what the
    // live simulator holds.
    const steps: { name: string; status: number; run: () => Promise<Answer> }[] = [];
    const step = (name: string, run: () => Promise<Answer>, status = 200) =>
      steps.push({ name, status, run });
    let settled = '';
    let order = '';
    let usedToken = '';
    step('card charge', async () => {
      usedToken = await tokenizeTestCard(sim.url, MAGIC_CARDS.visa.number);
      const answer = await kbank('/card/v2/charge', {
        amount: '200.50',
        currency: 'THB',
        source_type: 'card',
        mode: 'token',
        token: usedToken,
        reference_order: 'j-settle',
      });
      settled = id(answer);
      return answer;
    });
    step('settle', () => kbank(`/card/v2/charge/${settled}/settle`, { amount: '200.50', type: 'full' }));
    step('refund', () => kbank(`/card/v2/charge/${settled}/refund`, { amount: '50.00', reason: 'one item' }));
    step('void', async () =>
      kbank(`/card/v2/charge/${id(await cardCharge('j-void'))}/void`, { reason: 'test' }),
    );
    step('decline', () => cardCharge('j-declined', MAGIC_CARDS.declined.number));
    step('503 once', () => cardCharge('j-503', MAGIC_CARDS.unavailableOnce.number), 503);
    step('answer held after the charge', () => cardCharge('j-held', MAGIC_CARDS.timeoutAfterSuccess.number));
    step('3-D Secure completed', async () =>
      control(`/_sim/charges/${id(await cardCharge('j-3ds', MAGIC_CARDS.threeDSecure.number))}/complete`),
    );
    step('Alipay failed', async () => {
      const alipay = await kbank('/card/v2/charge', {
        amount: '99.00',
        currency: 'THB',
        source_type: 'alipay',
        callback_type: 'web',
        reference_order: 'j-alipay',
      });
      return control(`/_sim/charges/${id(alipay)}/fail`);
    });
    step('QR order paid', async () => {
      order = id(await qrOrder('j-qr-paid'));
      return control(`/_sim/orders/${order}/pay`);
    });
    step('QR refund', async () => {
      const { json } = await kbank(`/qr/v2/qr/${order}`, undefined, 'GET');
      return kbank(`/qr/v2/qr/${String(json.id)}/refund`, { amount: '75.00', reason: 'paid late' });
    });
    step('WeChat order cancelled', async () =>
      kbank(`/qr/v2/qr/${id(await qrOrder('j-wechat', 'wechat'))}/void`, {}),
    );
    step('QR order abandoned', async () =>
      control(`/_sim/orders/${id(await qrOrder('j-abandoned'))}/abandon`),
    );
    step('QR scanned and declined', async () => {
      const { json } = await qrOrder('j-scanned');
      return control('/_sim/qr/scan', { payload: json.qr_code, action: 'decline' });
    });
    step('orphan', () =>
      control('/_sim/orphans', { reference_order: 'j-orphan', amount: '150.25', state: 'Settled' }),
    );
    step('unlisted', async () => {
      const orphan = await control('/_sim/orphans', { reference_order: 'j-unlisted', amount: '10.00' });
      return control(`/_sim/charges/${id(orphan)}/unlist`);
    });
    step('forgotten', async () => {
      const orphan = await control('/_sim/orphans', { reference_order: 'j-forgotten', amount: '10.00' });
      return control(`/_sim/charges/${id(orphan)}/forget`);
    });
    step('global fault', () => control('/_sim/faults', { lostNotify: true }));

    try {
      for (const { name, status, run } of steps) {
        const answer = await run();
        expect({ name, status: answer.status }).toEqual({ name, status });
        expect({ name, charges: await replayedCharges(killCopy(statePath)) }).toEqual({
          name,
          charges: sim.charges(),
        });
      }
      // Tokens, the 503-once memory and the faults came back too.
      const spare = await tokenizeTestCard(sim.url, MAGIC_CARDS.visa.number);
      const retryToken = await tokenizeTestCard(sim.url, MAGIC_CARDS.unavailableOnce.number);
      await restarted(killCopy(statePath), async (replayed) => {
        const charge = (token: string, referenceOrder: string) =>
          call(`${replayed.url}/card/v2/charge`, SECRET, {
            amount: '1.00',
            currency: 'THB',
            source_type: 'card',
            mode: 'token',
            token,
            reference_order: referenceOrder,
          });
        expect((await charge(spare, 'j-after')).json.transaction_state).toBe('Authorized');
        expect((await charge(usedToken, 'j-again')).json.code).toBe('token_already_used');
        // The reference order that had its 503 succeeds on the retry.
        expect((await charge(retryToken, 'j-503')).json.transaction_state).toBe('Authorized');
        const paid = await call(`${replayed.url}/qr/v2/order`, SECRET, {
          amount: '1.00',
          currency: 'THB',
          source_type: 'qr',
          reference_order: 'j-fault-kept',
        });
        await call(`${replayed.url}/_sim/orders/${id(paid)}/pay`, undefined);
        expect(replayed.deliveries().map((delivery) => delivery.outcome)).toEqual(['lost']);
      });
    } finally {
      await sim.close();
    }
  });

  it('appends one line per change, holding only the records that change wrote', async () => {
    const statePath = statePathIn();
    const sim = await startKbankSimulator({ statePath, now });
    try {
      for (let index = 0; index < 300; index++) {
        sim.createOrphan({ referenceOrder: `j-many-${index}`, amount: 1000 + index });
      }
      const before = journalLines(statePath).length;
      const target = sim.charges()[150] as SimCharge;
      const answer = await call(`${sim.url}/card/v2/charge/${target.id}/settle`, SECRET, {
        amount: '10.00',
        type: 'partial',
      });
      expect(answer.status).toBe(200);
      const lines = journalLines(statePath);
      expect(lines).toHaveLength(before + 1);
      expect(lines.at(-1)).toEqual({
        seq: before + 1,
        charges: [expect.objectContaining({ id: target.id, state: 'Settled', settledAmount: 1000 })],
      });
      // A read changes nothing and writes nothing.
      await call(`${sim.url}/card/v2/charge/${target.id}`, SECRET, undefined, 'GET');
      expect(journalLines(statePath)).toHaveLength(before + 1);
    } finally {
      await sim.close();
    }
  });

  it('drops a torn last line (killed mid-append) and goes on appending after it', async () => {
    const statePath = statePathIn();
    const sim = await startKbankSimulator({ statePath, now });
    let beforeLast: SimCharge[];
    let torn: string;
    try {
      sim.createOrphan({ referenceOrder: 'j-kept', amount: 5000 });
      beforeLast = sim.charges();
      sim.createOrphan({ referenceOrder: 'j-torn', amount: 6000 });
      torn = killCopy(statePath);
    } finally {
      await sim.close();
    }
    // The last line loses its end (and its newline), as when the process dies inside the write.
    const journal = journalPathOf(torn);
    const text = readFileSync(journal, 'utf8');
    const lastLine = text.slice(text.lastIndexOf('\n', text.length - 2) + 1);
    truncateSync(journal, statSync(journal).size - Math.floor(lastLine.length / 2));

    await restarted(torn, (replayed) => {
      expect(replayed.charges()).toEqual(beforeLast);
      // The start compacted: the torn fragment is gone, so the next line starts on a line of its own.
      expect(readFileSync(journal, 'utf8')).toBe('');
      replayed.createOrphan({ referenceOrder: 'j-after-tear', amount: 7000 });
      expect(journalLines(torn)).toHaveLength(1);
    });
    const after = await replayedCharges(killCopy(torn));
    expect(after.map((charge) => charge.referenceOrder)).toEqual(['j-kept', 'j-after-tear']);
  });

  it('refuses to start on a journal damaged anywhere but its last line, naming the file and line', async () => {
    const statePath = statePathIn();
    const sim = await startKbankSimulator({ statePath, now });
    let damaged: string;
    try {
      sim.createOrphan({ referenceOrder: 'j-one', amount: 5000 });
      sim.createOrphan({ referenceOrder: 'j-two', amount: 6000 });
      damaged = killCopy(statePath);
    } finally {
      await sim.close();
    }
    const journal = journalPathOf(damaged);
    const [first, second] = readFileSync(journal, 'utf8').split('\n');
    // Resolves only if the simulator starts (then it is closed again, so a failing case leaks no server).
    const startOn = async (text: string) => {
      writeFileSync(journal, text);
      await (await startKbankSimulator({ statePath: damaged, now })).close();
    };

    await expect(startOn(`${first?.slice(0, -3)}\n${second}\n`)).rejects.toThrow(
      `${journal} line 1 is not JSON: the journal is corrupt. Move ${damaged} and ${journal} away`,
    );
    await expect(startOn(`{"seq":1,"charges":[{"id":"x"}]}\n${second}\n`)).rejects.toThrow(
      `${journal} line 1 is not a journal entry (charges.0.referenceOrder)`,
    );
    // A line missing in the middle: the state after it would be wrong.
    await expect(startOn(`${second}\n`)).rejects.toThrow(
      `${journal} line 1 is change 2 where 1 should follow: the journal does not continue ${damaged}`,
    );
    // Whole again, it starts, and nothing was dropped by the failed starts.
    const charges = await (async () => {
      writeFileSync(journal, `${first}\n${second}\n`);
      return replayedCharges(damaged);
    })();
    expect(charges.map((charge) => charge.referenceOrder)).toEqual(['j-one', 'j-two']);
  });

  it('still reads a version-1 state file, written before the journal', async () => {
    const statePath = statePathIn();
    const charge = sampleCharge(1);
    writeFileSync(
      statePath,
      JSON.stringify({
        version: 1,
        charges: [charge],
        tokens: [],
        unavailableAnswered: [],
        faults: { global: {}, byTarget: [] },
        unlisted: [],
      }),
    );
    expect(await replayedCharges(statePath)).toEqual([charge]);
    // Closed, it leaves a version-2 snapshot that carries the journal position.
    expect(JSON.parse(readFileSync(statePath, 'utf8'))).toMatchObject({ version: 2, seq: 0 });
  });
});

describe('KBank simulator journal, compaction', () => {
  function open(statePath: string, minCompactBytes = 2000): { state: SimState; journal: StateJournal } {
    const state = new SimState();
    // The periodic check is called by hand here (compactWhenDue); its timer never fires in a test.
    const journal = StateJournal.open(state, statePath, { minCompactBytes, compactCheckMs: 3_600_000 });
    return { state, journal };
  }

  it('folds the journal into the snapshot once it passes its bound, and replays to the same records', () => {
    const statePath = statePathIn();
    const { state, journal } = open(statePath);
    try {
      for (let index = 0; index < 20; index++) {
        state.putCharge(sampleCharge(index));
        journal.commit();
        journal.compactWhenDue();
      }
      const { journalBytes, snapshotBytes, seq } = journal.stats();
      expect(seq).toBe(20);
      expect(snapshotBytes).toBeGreaterThan(0);
      // Never more than the bound (the larger of 2000 bytes and the snapshot) plus the line that passed it.
      expect(journalBytes).toBeLessThanOrEqual(Math.max(2000, snapshotBytes) + 1000);
      // Compacted at least once; the snapshot and the journal together hold every change, once.
      const snapshotSeq = (JSON.parse(readFileSync(statePath, 'utf8')) as { seq: number }).seq;
      expect(snapshotSeq).toBeGreaterThan(0);
      expect(snapshotSeq + journalLines(statePath).length).toBe(20);

      const replayed = open(killCopy(statePath));
      expect(replayed.state.records()).toEqual(state.records());
      replayed.journal.close();
    } finally {
      journal.close();
    }
  });

  it('skips the lines a snapshot already holds when compaction stopped before emptying the journal', () => {
    const statePath = statePathIn();
    const { state, journal } = open(statePath, 1_000_000);
    try {
      const charge = sampleCharge(1);
      state.putCharge(charge);
      state.putCharge(sampleCharge(2));
      journal.commit();
      charge.state = 'Settled';
      charge.settledAmount = charge.amount;
      state.putCharge(charge);
      journal.commit();
      state.forget(sampleCharge(2).id);
      state.putCharge(sampleCharge(3));
      state.setFaults({ lostNotify: true }, 'chrg_test_3');
      journal.commit();
      const journalBefore = readFileSync(journalPathOf(statePath), 'utf8');
      journal.compact();
      // Killed between the snapshot's rename and the truncation: the old lines are still there.
      const copy = killCopy(statePath);
      writeFileSync(journalPathOf(copy), journalBefore);

      const replayed = open(copy);
      expect(replayed.state.records()).toEqual(state.records());
      expect(replayed.state.charge(charge.id)?.state).toBe('Settled');
      expect(replayed.journal.stats().seq).toBe(3);
      replayed.journal.close();
    } finally {
      journal.close();
    }
  });
});

function sampleCharge(index: number): SimCharge {
  return {
    id: `chrg_test_${index}`,
    referenceOrder: `ref-${index}`,
    amount: 10_000 + index,
    currency: 'THB',
    status: 'success',
    state: 'Authorized',
    behaviour: 'approve',
    brand: 'Visa',
    cardMasking: '411111xxxxxx1111',
    sourceId: `card_test_${index}`,
    approvalCode: '123456',
    refs: {},
    created: '20260302100000000',
    settledAmount: 0,
    refundedAmount: 0,
  };
}
