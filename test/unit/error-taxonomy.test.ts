/**
 * One error taxonomy: every problem code the API answers is in functions/core/errors.ts with its status
 * (its page, test/unit/problem-pages.test.ts) and allowed by the OpenAPI problem schema; no error class or
 * code is made up anywhere else.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as errors from '../../functions/core/errors.js';
import { codesOf, ERROR_CODES, PaymentError } from '../../functions/core/errors.js';
import { toProblem } from '../../functions/handlers/http.js';

const root = new URL('../../', import.meta.url).pathname;
function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

describe('the error taxonomy', () => {
  it('allows every answered code in the OpenAPI problem schema (if it lists codes, it lists exactly those)', () => {
    const openapi = JSON.parse(readFileSync(join(root, 'docs/openapi.json'), 'utf8'));
    const code = openapi.components.schemas.Problem.properties.code;
    expect(code.type).toBe('string');
    if (code.enum) expect([...code.enum].sort()).toEqual(codesOf('merchant').sort());
  });

  it('gives every error class a code of the taxonomy, its status and whether a retry may help', () => {
    const classes = (Object.values(errors) as unknown[]).filter(
      (value) => typeof value === 'function' && value.prototype instanceof PaymentError,
    );
    expect(classes.length).toBeGreaterThan(15);
    const samples: PaymentError[] = [
      new errors.ValidationError('x'),
      new errors.RequestRefused('malformed_json', 'x'),
      new errors.NotFoundError('x'),
      new errors.ConflictError('x', 'payment_not_capturable'),
      new errors.PaymentNotRefundable('x'),
      new errors.NotifyChecksumMismatch('x'),
      new errors.SagaNotWaitingYet('x'),
      new errors.PointsNotEnabled('m'),
      new errors.IdempotencyInFlightError('x'),
      new errors.IdempotencyMismatchError('x'),
      new errors.UnauthorizedError('x'),
      new errors.CostMismatch('x', 1),
      new errors.CostServiceRejected('x'),
      new errors.CostServiceUnavailable('x'),
      new errors.RefundExceedsRefundable('x', 1),
      new errors.InsufficientPoints('x', 1),
      new errors.PointsNotRefundable('x', 1),
      new errors.KbankUnavailable('x'),
      new errors.KbankOutcomeUnknown('x'),
      new errors.KbankRejected('x', 'c', 400),
      new errors.OutcomeStillUnknown('x'),
      new errors.StaleWriteError('x'),
      new errors.EventNotPublished([{ event_id: 'e', type: 'payment.succeeded' }]),
    ];
    expect(new Set(samples.map((error) => error.constructor))).toEqual(new Set(classes));
    for (const error of samples) {
      expect(Object.keys(ERROR_CODES)).toContain(error.code);
      expect(error.status).toBe(ERROR_CODES[error.code].status);
      // A 5xx tells the client to retry: only errors a retry may change answer one.
      if (error.status >= 500) expect(error.retryable).toBe(true);
      // The name is the class's: the state machines' Retry and Catch match on it.
      expect(error.name).toBe(error.constructor.name);
      // The API answers it with exactly the status and code of the taxonomy.
      expect(toProblem(error)).toMatchObject({ status: error.status, code: error.code });
    }
  });

  it('has no error class or problem code made up outside errors.ts', () => {
    const offenders: string[] = [];
    for (const file of [...sourceFiles(join(root, 'functions')), ...sourceFiles(join(root, 'local'))]) {
      if (file.endsWith('functions/core/errors.ts')) continue;
      const text = readFileSync(file, 'utf8');
      if (/extends (PaymentError|ConflictError|ValidationError)\b/.test(text)) offenders.push(file);
      if (/new HttpProblem\(|problemOf\(\d/.test(text)) offenders.push(file);
    }
    // The card checks' own field codes are details of one validation_failed, not problem codes.
    expect(offenders.map((file) => file.slice(root.length))).toEqual([
      'functions/core/cards/card-details.ts',
    ]);
  });
});
