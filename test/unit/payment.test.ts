import { ConflictError } from '../../functions/core/errors.js';
import { ulid } from '../../functions/core/ids.js';
import {
  applyStep,
  canTransition,
  PAYMENT_STATUSES,
  referenceOrderFor,
  TERMINAL_STATUSES,
} from '../../functions/core/payment.js';
import { aPayment } from '../support/payments.js';

const created = () => aPayment({ id: `pay_${ulid(0)}`, amount: 1000 }, new Date('2026-11-22T00:00:00Z'));

describe('payment status transitions', () => {
  it('starts processing at sequence 1 with a payment.created audit entry', () => {
    const { payment, audit } = created();
    expect(payment.status).toBe('processing');
    expect(payment.seq).toBe(1);
    expect(audit).toMatchObject({
      seq: 1,
      type: 'payment.created',
      fromStatus: null,
      toStatus: 'processing',
    });
  });

  it('has no way out of a terminal status, not even to itself', () => {
    for (const terminal of TERMINAL_STATUSES) {
      for (const to of PAYMENT_STATUSES) expect(canTransition(terminal, to)).toBe(false);
    }
    expect(TERMINAL_STATUSES).toEqual(
      expect.arrayContaining(['succeeded', 'canceled', 'failed', 'rejected', 'expired']),
    );
  });

  it('leaves unknown only towards an outcome an inquiry can establish', () => {
    expect(canTransition('unknown', 'succeeded')).toBe(true);
    expect(canTransition('unknown', 'failed')).toBe(true);
    expect(canTransition('unknown', 'rejected')).toBe(false);
    expect(canTransition('processing', 'unknown')).toBe(true);
  });

  it('applies a step: new status, next sequence, audit entry describing the change', () => {
    const { payment } = created();
    const { next, audit } = applyStep(
      payment,
      {
        type: 'payment.failed',
        actor: 'saga',
        status: 'failed',
        patch: { failure: { code: 'x', message: 'y' } },
      },
      new Date('2026-11-22T00:00:01Z'),
    );
    expect(next).toMatchObject({
      status: 'failed',
      seq: 2,
      failure: { code: 'x' },
      updatedAt: '2026-11-22T00:00:01.000Z',
    });
    expect(audit).toMatchObject({
      seq: 2,
      fromStatus: 'processing',
      toStatus: 'failed',
      type: 'payment.failed',
    });
    expect(payment.status).toBe('processing');
  });

  it('refuses a step the table does not allow', () => {
    const { payment } = created();
    const failed = applyStep(
      payment,
      { type: 'payment.failed', actor: 'saga', status: 'failed' },
      new Date(),
    ).next;
    expect(() =>
      applyStep(failed, { type: 'payment.captured', actor: 'saga', status: 'succeeded' }, new Date()),
    ).toThrow(ConflictError);
  });

  it('gives each attempt a unique KBank reference within 50 characters', () => {
    const ref = referenceOrderFor(`pay_${ulid()}`, 12);
    expect(ref.length).toBeLessThanOrEqual(50);
    expect(ref).not.toBe(referenceOrderFor(ref.slice(0, -3), 13));
  });
});

describe('ids', () => {
  it('sort by creation time and use Crockford base32', () => {
    const a = ulid(1_700_000_000_000);
    const b = ulid(1_700_000_000_001);
    expect(a < b).toBe(true);
    expect(a).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });
});
