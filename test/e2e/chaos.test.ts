/**
 * `npm run chaos` in small: a few hundred payments of every method and merchant action, with simulator
 * faults and a forged-notify flood, through a local stack in its own process that is SIGKILLed and
 * restarted once mid-run. Every payment, charge and refund must then agree with the KBank simulator's
 * records, and every request the API accepted must have been carried out.
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { runChaos } from '../../bench/chaos.js';
import { freePortBlock } from '../support/ports.js';

const lines: string[] = [];

it('leaves no charge untracked, none doubled, nothing stuck and every accepted request carried out, across a SIGKILL restart', async () => {
  const result = await runChaos({
    payments: 200,
    rate: 10,
    restarts: 1,
    // The stack takes this port and the four after it, again after its restart.
    port: await freePortBlock(5),
    seed: 7,
    // A QR whose every notify is refused ends by its inquiry when its 60 s window closes: room for a slow host.
    settleTimeoutSeconds: 180,
    forgedLoops: 2,
    refundAlipay: true,
    resultsDir: null,
    log: (line) => lines.push(line),
  });
  if (result.failures > 0) console.log(lines.join('\n'));

  expect(result.restarts).toHaveLength(1);
  expect(result.restarts[0]?.openAtKill).toBeGreaterThan(0);
  expect(result.check.payments).toBeGreaterThanOrEqual(190);
  // Forged notifies were sent at live payments and every one refused.
  expect(result.forged.byStatus['401']).toBeGreaterThan(0);
  expect(result.check.counts).toEqual({
    untrackedCharges: 0,
    doubleCharges: 0,
    stuck: 0,
    amountMismatches: 0,
    acceptedNotCarriedOut: 0,
    forgedAccepted: 0,
    stackCrashes: 0,
  });
  expect(result.settleAfterLastRestartMs.openAtKill).not.toBeNull();
  rmSync(dirname(result.stackLog.file), { recursive: true, force: true });
}, 300_000);
