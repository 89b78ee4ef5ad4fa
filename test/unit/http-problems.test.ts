/** Errors as API clients see them: RFC 9457 problems that keep every internal in the logs. */
import {
  ConflictError,
  CostServiceRejected,
  CostServiceUnavailable,
  KbankOutcomeUnknown,
  KbankRejected,
  NotFoundError,
  OutcomeStillUnknown,
  RefundExceedsRefundable,
  StaleWriteError,
  ValidationError,
} from '../../functions/core/errors.js';
import { toProblem } from '../../functions/handlers/http.js';

/** What a problem must never carry: versions, table names, ARNs, dependency answers, stack frames. */
const INTERNALS =
  /version|\b\d{4}\b|payments-table|arn:aws|dynamodb|TransactWrite|HTTP \d{3}|KBank|cost service|at .*\.ts|Error:/i;

describe('toProblem', () => {
  it('answers a lost version race with a generic stale_write problem', () => {
    const problem = toProblem(
      new StaleWriteError('payment pay_01JD3Q4V7M0000000000000000 changed since version 1020'),
      '/v1/payments/pay_01JD3Q4V7M0000000000000000/capture',
    );
    expect(problem).toEqual({
      type: '/problems/stale_write',
      title: 'Conflict',
      status: 409,
      code: 'stale_write',
      detail: 'The payment was changed by another request; retry.',
      instance: '/v1/payments/pay_01JD3Q4V7M0000000000000000/capture',
    });
  });

  it.each([
    [
      'a refund that lost its race',
      new StaleWriteError('payment pay_1 or refund re_1 changed since it was read'),
      409,
      'stale_write',
    ],
    [
      "the cost service's refusal",
      new CostServiceRejected(
        'Cost service rejected order o-1 (HTTP 422, unknown_sku: SKU-X not in catalog).',
      ),
      422,
      'cost_service_rejected',
    ],
    [
      'the cost service down',
      new CostServiceUnavailable('Cost service unavailable after 3 attempt(s): HTTP 503 from 10.0.3.7:8080.'),
      503,
      'cost_service_unavailable',
    ],
    [
      'an unknown outcome at KBank',
      new KbankOutcomeUnknown('KBank charge: connection failed after sending (ECONNRESET)'),
      503,
      'kbank_outcome_unknown',
    ],
    [
      "KBank's refusal",
      new KbankRejected('KBank void: invalid_charge: chrg_test_123 (HTTP 400)', 'invalid_charge', 400),
      409,
      'kbank_rejected',
    ],
    [
      'an inquiry still open',
      new OutcomeStillUnknown('charge for pay_1-1 is still Pending'),
      503,
      'outcome_still_unknown',
    ],
  ])('keeps the message of %s out of the problem', (_name, error, status, code) => {
    const problem = toProblem(error);
    expect(problem).toMatchObject({ status, code, type: `/problems/${code}` });
    expect(problem.detail).toEqual(expect.any(String));
    expect(problem.detail).not.toContain(error.message);
    // The code is public and stable (`kbank_rejected`); the detail is where internals would leak.
    expect(problem.detail).not.toMatch(INTERNALS);
  });

  it('answers anything unexpected with a 500 that names nothing of ours', () => {
    const error = new Error(
      'ResourceNotFoundException: arn:aws:dynamodb:ap-southeast-1:123456789012:table/payments-table',
    );
    const problem = toProblem(error, '/v1/payments');
    expect(problem).toMatchObject({ status: 500, code: 'internal_error', instance: '/v1/payments' });
    expect(JSON.stringify(problem)).not.toMatch(INTERNALS);
    expect(JSON.stringify(problem)).not.toContain(error.stack?.split('\n')[1]?.trim() ?? '');
  });

  it('keeps the messages written for clients: what they sent, statuses and amounts', () => {
    expect(toProblem(new NotFoundError('No payment pay_1.'))).toMatchObject({
      status: 404,
      code: 'resource_not_found',
      detail: 'No payment pay_1.',
    });
    expect(
      toProblem(
        new ConflictError(
          'Payment pay_1 is succeeded and can no longer be canceled.',
          'payment_not_cancelable',
        ),
      ),
    ).toMatchObject({ status: 409, detail: 'Payment pay_1 is succeeded and can no longer be canceled.' });
    expect(
      toProblem(new RefundExceedsRefundable('Only 2500 THB in minor units is left.', 2500)),
    ).toMatchObject({
      status: 422,
      code: 'refund_exceeds_refundable',
      detail: 'Only 2500 THB in minor units is left.',
    });
    expect(
      toProblem(new ValidationError('The body is invalid.', [{ field: 'amount', message: 'too big' }])),
    ).toMatchObject({ status: 400, errors: [{ field: 'amount', message: 'too big' }] });
  });

  it('does not pass on the message of a conflict code it does not know', () => {
    const problem = toProblem(
      new ConflictError('refund re_1 of payment pay_1 reserves 0', 'reservation_missing'),
    );
    expect(problem).toMatchObject({ status: 409, code: 'reservation_missing' });
    expect(problem.detail).not.toMatch(/re_1|reserves/);
  });
});
