/** The saga's steps against in-memory ports: write-ahead, unknown outcomes, retry safety, compensation. */
import {
  CostServiceUnavailable,
  KbankOutcomeUnknown,
  KbankRejected,
  KbankUnavailable,
  OutcomeStillUnknown,
} from '../../functions/core/errors.js';
import { DEFAULT_POLICY, type SagaDeps } from '../../functions/core/flows/payment-step.js';
import type { KbankGateway } from '../../functions/core/ports.js';
import { authorize } from '../../functions/core/use-cases/payment-saga/authorize.js';
import { capture } from '../../functions/core/use-cases/payment-saga/capture.js';
import { failPayment } from '../../functions/core/use-cases/payment-saga/fail-payment.js';
import { inquireAuthorization } from '../../functions/core/use-cases/payment-saga/inquire-authorization.js';
import { verifyCost } from '../../functions/core/use-cases/payment-saga/verify-cost.js';
import { voidAuthorization } from '../../functions/core/use-cases/payment-saga/void-authorization.js';
import { charge, fixedClock, fixedCost, MemoryRepository, scriptedKbank } from '../support/fakes.js';
import { aPayment } from '../support/payments.js';

const noTasks = {
  succeed: async (): Promise<boolean> => {
    throw new Error('unexpected task resume');
  },
  fail: async (): Promise<boolean> => {
    throw new Error('unexpected task resume');
  },
};

async function setup(kbank: Partial<KbankGateway>, total = 70900, verifiedAt?: string) {
  const repo = new MemoryRepository();
  // Authorize's tests start on a payment whose cost is on the record; VerifyCost's on one just created.
  const { payment, audit } = aPayment({ amount: 70900, verifiedAt });
  await repo.create(payment, audit);
  const gateway = scriptedKbank(kbank);
  const deps: SagaDeps = {
    repo,
    kbank: gateway,
    cost: fixedCost(total),
    clock: fixedClock(),
    policy: DEFAULT_POLICY,
    tasks: noTasks,
  };
  return { repo, deps, gateway, id: payment.id, input: { paymentId: payment.id } };
}

/** A payment whose cost VerifyCost confirmed and Authorize recorded: what every later step starts from. */
async function verified(kbank: Partial<KbankGateway>) {
  return setup(kbank, 70900, '2026-01-01T00:00:00.000Z');
}

describe('VerifyCost', () => {
  it('rejects a payment whose order costs something else, recording the expected amount', async () => {
    const { deps, repo, id, input } = await setup({}, 70000);
    const result = await verifyCost(deps, input);
    expect(result.outcome).toBe('rejected');
    expect(result.event).toMatchObject({ type: 'payment.rejected', payment: { status: 'rejected' } });
    expect((await repo.get(id))?.failure?.code).toBe('cost_mismatch');
  });

  it('writes nothing for a confirmed cost: it hands the verification to Authorize, which records it with its write-ahead', async () => {
    const ctx = await setup({
      chargeCard: async (request) => charge({ referenceOrder: request.referenceOrder }),
    });
    const verified = await verifyCost(ctx.deps, ctx.input);
    expect(verified).toMatchObject({
      outcome: 'verified',
      event: null,
      verification: { totalAmount: 70900 },
    });
    expect(ctx.repo.types(ctx.id)).toEqual(['payment.created']);

    const previous = { outcome: verified.outcome, verification: verified.verification };
    expect((await authorize(ctx.deps, { ...ctx.input, previous })).outcome).toBe('authorized');
    expect(ctx.repo.types(ctx.id)).toEqual([
      'payment.created',
      'cost.verified',
      'authorization.requested',
      'payment.authorized',
    ]);
    const audit = (await ctx.repo.listAudit(ctx.id, { limit: 10 })).entries;
    // A note on the created version (no version of its own), written in the write-ahead's transaction.
    expect(audit[1]).toMatchObject({ type: 'cost.verified', seq: 1, detail: { totalAmount: 70900 } });
    expect((await ctx.repo.get(ctx.id))?.verifiedAt).toBe(verified.verification?.verifiedAt);
  });

  it('is retry-safe: once the cost is on the record, a run does not call the cost service again', async () => {
    const { deps, input } = await setup({}, 70900, '2026-01-01T00:00:00.000Z');
    const again = await verifyCost(
      { ...deps, cost: { quote: async () => Promise.reject(new CostServiceUnavailable('down')) } },
      input,
    );
    expect(again).toMatchObject({ outcome: 'verified', verification: null });
  });

  it('never lets Authorize call KBank for a cost neither recorded nor handed over', async () => {
    const ctx = await setup({
      chargeCard: async (request) => charge({ referenceOrder: request.referenceOrder }),
    });
    await expect(authorize(ctx.deps, ctx.input)).rejects.toMatchObject({ code: 'cost_not_verified' });
    await expect(inquireAuthorization(ctx.deps, ctx.input)).rejects.toMatchObject({
      code: 'cost_not_verified',
    });
    expect(ctx.gateway.calls).toEqual([]);
    expect(ctx.repo.types(ctx.id)).toEqual(['payment.created']);
  });
});

describe('Authorize', () => {
  it('persists the attempt with its reference before KBank is called', async () => {
    let seenAtCall: unknown = null;
    const ctx = await verified({
      chargeCard: async (request) => {
        seenAtCall = await ctx.repo.getAttempt(ctx.id, 1);
        return charge({ referenceOrder: request.referenceOrder });
      },
    });
    const result = await authorize(ctx.deps, ctx.input);
    expect(seenAtCall).toMatchObject({ state: 'pending', referenceOrder: `${ctx.id}-1`, chargeCalls: 1 });
    expect(result.outcome).toBe('authorized');
    expect(ctx.repo.types(ctx.id)).toEqual([
      'payment.created',
      'authorization.requested',
      'payment.authorized',
    ]);
  });

  it('records an unanswered call as unknown and never calls KBank again for it', async () => {
    const ctx = await verified({
      chargeCard: async () => {
        throw new KbankOutcomeUnknown('timeout');
      },
    });
    expect((await authorize(ctx.deps, ctx.input)).outcome).toBe('unknown');
    expect((await ctx.repo.get(ctx.id))?.status).toBe('unknown');
    expect((await authorize(ctx.deps, ctx.input)).outcome).toBe('unknown');
    expect(ctx.gateway.calls).toEqual(['chargeCard']);
  });

  it('fails the payment on a decline, keeping the failure code', async () => {
    const ctx = await verified({
      chargeCard: async () => charge({ state: 'Declined', failureCode: 'insufficient_funds' }),
    });
    const result = await authorize(ctx.deps, ctx.input);
    expect(result).toMatchObject({ outcome: 'declined', event: { type: 'payment.failed' } });
    expect((await ctx.repo.get(ctx.id))?.failure?.code).toBe('insufficient_funds');
  });

  it('fails the payment when KBank refuses the request (4xx)', async () => {
    const ctx = await verified({
      chargeCard: async () => {
        throw new KbankRejected('used token', 'token_already_used', 400);
      },
    });
    expect((await authorize(ctx.deps, ctx.input)).outcome).toBe('declined');
    expect((await ctx.repo.get(ctx.id))?.failure?.code).toBe('token_already_used');
  });

  it('marks an unreachable KBank as never sent and rethrows so the state machine retries', async () => {
    const ctx = await verified({
      chargeCard: async () => {
        throw new KbankUnavailable('ECONNREFUSED');
      },
    });
    await expect(authorize(ctx.deps, ctx.input)).rejects.toBeInstanceOf(KbankUnavailable);
    expect((await ctx.repo.getAttempt(ctx.id, 1))?.state).toBe('not_found');
  });

  it('gives up after the policy’s number of charge calls', async () => {
    const ctx = await verified({
      chargeCard: async () => {
        throw new KbankUnavailable('ECONNREFUSED');
      },
    });
    for (let i = 0; i < DEFAULT_POLICY.maxChargeCalls; i++) {
      await expect(authorize(ctx.deps, ctx.input)).rejects.toBeInstanceOf(KbankUnavailable);
    }
    expect((await authorize(ctx.deps, ctx.input)).outcome).toBe('declined');
    expect(ctx.gateway.calls).toHaveLength(DEFAULT_POLICY.maxChargeCalls);
    // A call may still land at KBank after we gave up: the sweep asks once more, later.
    const failed = await ctx.repo.get(ctx.id);
    expect(failed?.status).toBe('failed');
    expect(Date.parse(failed?.lateChargeCheckAt ?? '') - Date.parse(failed?.updatedAt ?? '')).toBe(
      DEFAULT_POLICY.lateChargeCheckSeconds * 1000,
    );
  });
});

describe('InquireAuthorization', () => {
  it('resolves an unknown outcome to authorized when KBank has the charge', async () => {
    const ctx = await verified({
      chargeCard: async () => {
        throw new KbankOutcomeUnknown('timeout');
      },
      inquireCharge: async () => charge(),
    });
    await authorize(ctx.deps, ctx.input);
    const result = await inquireAuthorization(ctx.deps, ctx.input);
    expect(result.outcome).toBe('authorized');
    expect((await ctx.repo.get(ctx.id))?.status).toBe('processing');
    expect((await ctx.repo.getAttempt(ctx.id, 1))?.chargeId).toBe('chrg_test_1');
  });

  it('asks for a re-send (same reference) when KBank has no such charge', async () => {
    const refs: string[] = [];
    let calls = 0;
    const ctx = await verified({
      chargeCard: async (request) => {
        refs.push(request.referenceOrder);
        calls += 1;
        if (calls === 1) throw new KbankOutcomeUnknown('503');
        return charge();
      },
      inquireCharge: async () => null,
    });
    await authorize(ctx.deps, ctx.input);
    expect((await inquireAuthorization(ctx.deps, ctx.input)).outcome).toBe('retry');
    expect((await authorize(ctx.deps, ctx.input)).outcome).toBe('authorized');
    expect(refs).toEqual([`${ctx.id}-1`, `${ctx.id}-1`]);
  });

  it('takes a charge that landed after the inquiry found nothing: the re-send’s duplicate is not a refusal', async () => {
    let calls = 0;
    let landed = false;
    const ctx = await verified({
      chargeCard: async () => {
        calls += 1;
        if (calls === 1) throw new KbankOutcomeUnknown('504');
        throw new KbankRejected('exists', 'duplicate_reference_order', 400);
      },
      inquireCharge: async () => (landed ? charge({ chargeId: 'chrg_late' }) : null),
    });
    await authorize(ctx.deps, ctx.input);
    expect((await inquireAuthorization(ctx.deps, ctx.input)).outcome).toBe('retry');
    landed = true;
    expect((await authorize(ctx.deps, ctx.input)).outcome).toBe('unknown');
    expect((await ctx.repo.get(ctx.id))?.status).toBe('unknown');
    expect((await inquireAuthorization(ctx.deps, ctx.input)).outcome).toBe('authorized');
    expect(await ctx.repo.getAttempt(ctx.id, 1)).toMatchObject({
      state: 'authorized',
      chargeId: 'chrg_late',
    });
    expect(ctx.repo.types(ctx.id)).not.toContain('payment.failed');
  });

  it('throws OutcomeStillUnknown while KBank’s charge is not final, writing nothing', async () => {
    const ctx = await verified({
      chargeCard: async () => {
        throw new KbankOutcomeUnknown('timeout');
      },
      inquireCharge: async () => charge({ state: 'Initialize' }),
    });
    await authorize(ctx.deps, ctx.input);
    const before = ctx.repo.audit.length;
    await expect(inquireAuthorization(ctx.deps, ctx.input)).rejects.toBeInstanceOf(OutcomeStillUnknown);
    expect(ctx.repo.audit.length).toBe(before);
  });
});

describe('Capture and compensation', () => {
  async function authorized(kbank: Partial<KbankGateway>) {
    const ctx = await verified({ chargeCard: async () => charge(), ...kbank });
    await authorize(ctx.deps, ctx.input);
    return ctx;
  }

  it('captures the authorized amount and succeeds the payment', async () => {
    const ctx = await authorized({ settleCharge: async () => charge({ state: 'Settled' }) });
    const result = await capture(ctx.deps, ctx.input);
    expect(result).toMatchObject({ outcome: 'captured', event: { type: 'payment.captured' } });
    expect(await ctx.repo.get(ctx.id)).toMatchObject({ status: 'succeeded', amountCaptured: 70900 });
  });

  it('treats a settle that timed out but happened as captured', async () => {
    const ctx = await authorized({
      settleCharge: async () => {
        throw new KbankOutcomeUnknown('timeout');
      },
      inquireCharge: async () => charge({ state: 'Settled' }),
    });
    expect((await capture(ctx.deps, ctx.input)).outcome).toBe('captured');
  });

  it('voids after a failed capture and records the payment as canceled', async () => {
    const ctx = await authorized({ voidCharge: async () => charge({ state: 'Voided' }) });
    const result = await voidAuthorization(ctx.deps, { ...ctx.input, error: { Error: 'KbankRejected' } });
    expect(result).toMatchObject({ outcome: 'voided', event: { type: 'payment.voided' } });
    expect(await ctx.repo.get(ctx.id)).toMatchObject({
      status: 'canceled',
      cancellationReason: 'capture_failed',
    });
  });

  it('never fails a payment that may hold money', async () => {
    const ctx = await authorized({});
    await expect(failPayment(ctx.deps, { ...ctx.input, error: { Error: 'X' } })).rejects.toMatchObject({
      name: 'ConflictError',
    });
  });
});
