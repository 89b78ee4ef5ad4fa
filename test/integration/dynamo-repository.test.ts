/** The DynamoDB adapter against DynamoDB Local: conditional transactions, audit order, idempotency keys. */

import {
  createDocumentClient,
  type DynamoTable,
  dynamoTable,
  IDEMPOTENCY_LOCK_MS,
} from '../../functions/adapters/dynamo-repository.js';
import {
  IdempotencyInFlightError,
  IdempotencyMismatchError,
  StaleWriteError,
} from '../../functions/core/errors.js';
import { ulid } from '../../functions/core/ids.js';
import { applyStep, noteEntry, type Payment } from '../../functions/core/payment.js';
import { MAX_NOTES_PER_PAYMENT } from '../../functions/core/repository.js';
import { freshTable } from '../support/dynamodb.js';
import { aPayment } from '../support/payments.js';

let repo: DynamoTable;
beforeAll(async () => {
  const { client, tableName } = await freshTable('repo');
  repo = dynamoTable(createDocumentClient(client), tableName);
});

const fresh = () => aPayment();

describe('payments', () => {
  it('creates a payment once; a second create with the same id reports false', async () => {
    const { payment, audit } = fresh();
    expect(await repo.create(payment, audit)).toBe(true);
    expect(await repo.create(payment, audit)).toBe(false);
    expect(await repo.get(payment.id)).toEqual(payment);
  });

  it('commits a change with its audit entry and attempt atomically', async () => {
    const { payment, audit } = fresh();
    await repo.create(payment, audit);
    const change = applyStep(
      payment,
      { type: 'authorization.requested', actor: 'saga', patch: { attemptCount: 1 } },
      new Date(),
    );
    const attempt = {
      paymentId: payment.id,
      no: 1,
      referenceOrder: `${payment.id}-1`,
      state: 'pending' as const,
      chargeCalls: 1,
      createdAt: change.next.updatedAt,
      updatedAt: change.next.updatedAt,
    };
    await repo.commit(change, attempt);
    expect((await repo.get(payment.id))?.seq).toBe(2);
    expect(await repo.getAttempt(payment.id, 1)).toEqual(attempt);
    const { entries } = await repo.listAudit(payment.id, { limit: 10 });
    expect(entries.map((e) => [e.seq, e.type])).toEqual([
      [1, 'payment.created'],
      [2, 'authorization.requested'],
    ]);
  });

  it('refuses a change computed from a stale version and writes none of it', async () => {
    const { payment, audit } = fresh();
    await repo.create(payment, audit);
    const winner = applyStep(
      payment,
      { type: 'payment.failed', actor: 'saga', status: 'failed' },
      new Date(),
    );
    const loser = applyStep(payment, { type: 'cost.verified', actor: 'saga' }, new Date());
    await repo.commit(winner);
    await expect(repo.commit(loser)).rejects.toBeInstanceOf(StaleWriteError);
    const { entries } = await repo.listAudit(payment.id, { limit: 10 });
    expect(entries.map((e) => e.type)).toEqual(['payment.created', 'payment.failed']);
    expect((await repo.get(payment.id))?.status).toBe('failed');
  });

  it('lets exactly one of many concurrent writers of the same version win', async () => {
    const { payment, audit } = fresh();
    await repo.create(payment, audit);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        repo.commit(applyStep(payment, { type: `writer.${i}`, actor: 'saga' }, new Date())),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const { entries } = await repo.listAudit(payment.id, { limit: 10 });
    expect(entries).toHaveLength(2);
  });

  it('pages the audit trail oldest first', async () => {
    const { payment, audit } = fresh();
    await repo.create(payment, audit);
    let current: Payment = payment;
    for (let i = 0; i < 4; i++) {
      const change = applyStep(current, { type: `step.${i}`, actor: 'saga' }, new Date());
      await repo.commit(change);
      current = change.next;
    }
    const first = await repo.listAudit(payment.id, { limit: 2 });
    expect(first.hasMore).toBe(true);
    const rest = await repo.listAudit(payment.id, { limit: 10, after: 2 });
    expect(rest.entries.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(rest.hasMore).toBe(false);
  });
});

describe('notes beside the trail', () => {
  const note = (payment: Payment, type: string, at = Date.now()) =>
    noteEntry(payment, { type, actor: 'kbank' }, new Date(at), ulid(at));

  it('never take the payment version: a status change computed before a flood of notes still commits', async () => {
    const { payment, audit } = fresh();
    await repo.create(payment, audit);
    const change = applyStep(payment, { type: 'payment.authorized', actor: 'saga' }, new Date());
    await Promise.all(
      Array.from({ length: 30 }, () => repo.appendNote(note(payment, 'notification.rejected'))),
    );
    await repo.commit(change);
    expect((await repo.get(payment.id))?.seq).toBe(2);
  });

  it('sort after the version they follow and page with a cursor through them', async () => {
    const { payment, audit } = fresh();
    await repo.create(payment, audit);
    const t = Date.now();
    await repo.appendNote(note(payment, 'note.a', t));
    await repo.appendNote(note(payment, 'note.b', t + 1));
    const change = applyStep(payment, { type: 'step.two', actor: 'saga' }, new Date());
    await repo.commit(change);
    await repo.appendNote(note(change.next, 'note.c', t + 2));
    const all = await repo.listAudit(payment.id, { limit: 10 });
    expect(all.entries.map((e) => e.type)).toEqual([
      'payment.created',
      'note.a',
      'note.b',
      'step.two',
      'note.c',
    ]);
    const first = all.entries[1];
    const afterA = await repo.listAudit(payment.id, {
      limit: 2,
      after: { seq: first?.seq ?? 0, ...(first?.noteId ? { noteId: first.noteId } : {}) },
    });
    expect(afterA.entries.map((e) => e.type)).toEqual(['note.b', 'step.two']);
    expect(afterA.hasMore).toBe(true);
    // A bare sequence is a position after that version's own entry: its notes come next.
    expect((await repo.listAudit(payment.id, { limit: 10, after: 1 })).entries.map((e) => e.type)).toEqual([
      'note.a',
      'note.b',
      'step.two',
      'note.c',
    ]);
  });

  it('are kept up to the bound and only counted beyond it', async () => {
    const { payment, audit } = fresh();
    await repo.create(payment, audit);
    const kept = await Promise.all(
      Array.from({ length: MAX_NOTES_PER_PAYMENT + 7 }, () => repo.appendNote(note(payment, 'flood'))),
    );
    expect(kept.filter(Boolean)).toHaveLength(MAX_NOTES_PER_PAYMENT);
    expect(await repo.noteCounts(payment.id)).toEqual({ offered: MAX_NOTES_PER_PAYMENT + 7, dropped: 7 });
    const trail = await repo.listAudit(payment.id, { limit: 100, after: 1 });
    expect(trail.entries).toHaveLength(MAX_NOTES_PER_PAYMENT);
    expect((await repo.get(payment.id))?.seq).toBe(1);
  });

  it('claims a marker exactly once among concurrent claimers', async () => {
    const { payment, audit } = fresh();
    await repo.create(payment, audit);
    const claims = await Promise.all(
      Array.from({ length: 8 }, () => repo.claimMarker(payment.id, 'callback:chrg_1:Authorized', 'now')),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await repo.hasMarker(payment.id, 'callback:chrg_1:Authorized')).toBe(true);
    expect(await repo.hasMarker(payment.id, 'callback:chrg_1:Declined')).toBe(false);
  });
});

describe('idempotency keys', () => {
  const reserve = (key: string, fingerprint: string, resourceId: string, now = new Date()) =>
    repo.reserve({ scope: 'm1#POST /v1/payments', key, fingerprint, resourceId, now });

  it('reserves a new key, then replays its completed response', async () => {
    const key = ulid();
    expect(await reserve(key, 'fp', 'pay_A')).toEqual({ kind: 'proceed', resourceId: 'pay_A' });
    await repo.complete({
      scope: 'm1#POST /v1/payments',
      key,
      response: { statusCode: 201, body: { id: 'pay_A' } },
      now: new Date(),
    });
    expect(await reserve(key, 'fp', 'pay_B')).toEqual({
      kind: 'replay',
      resourceId: 'pay_A',
      response: { statusCode: 201, body: { id: 'pay_A' } },
    });
  });

  it('refuses a different request under the same key', async () => {
    const key = ulid();
    await reserve(key, 'fp1', 'pay_A');
    await expect(reserve(key, 'fp2', 'pay_B')).rejects.toBeInstanceOf(IdempotencyMismatchError);
  });

  it('refuses a duplicate while the first is in flight, and hands the key over once its lock expired', async () => {
    const key = ulid();
    const t0 = new Date('2026-11-22T00:00:00Z');
    await reserve(key, 'fp', 'pay_A', t0);
    await expect(reserve(key, 'fp', 'pay_B', new Date(t0.getTime() + 1000))).rejects.toBeInstanceOf(
      IdempotencyInFlightError,
    );
    const later = new Date(t0.getTime() + IDEMPOTENCY_LOCK_MS + 1);
    // The take-over keeps the resource the first holder promised, so no second payment appears.
    expect(await reserve(key, 'fp', 'pay_C', later)).toEqual({ kind: 'proceed', resourceId: 'pay_A' });
  });
});
