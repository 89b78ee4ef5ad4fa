/**
 * Releasing an Idempotency-Key's lock against DynamoDB Local: only the request holding the lock can end
 * it, the key keeps its request and resource, and a completed key is never reopened.
 */
import {
  createDocumentClient,
  type DynamoTable,
  dynamoTable,
  IDEMPOTENCY_LOCK_MS,
} from '../../functions/adapters/dynamo-repository.js';
import { IdempotencyInFlightError, IdempotencyMismatchError } from '../../functions/core/errors.js';
import { freshTable } from '../support/dynamodb.js';

let repo: DynamoTable;
beforeAll(async () => {
  const { client, tableName } = await freshTable('idem');
  repo = dynamoTable(createDocumentClient(client), tableName);
});

const T0 = new Date('2026-11-22T00:00:00Z');
const later = (ms: number) => new Date(T0.getTime() + ms);
const reserve = (key: string, now: Date, fingerprint = 'f1', resourceId = 'pay_1') =>
  repo.reserve({ scope: 'm1#POST /x', key, fingerprint, resourceId, now });

describe('IdempotencyStore.release', () => {
  it('lets the same request retry at once, for the same resource', async () => {
    await reserve('k1', T0);
    await expect(reserve('k1', later(1))).rejects.toBeInstanceOf(IdempotencyInFlightError);
    await repo.release({ scope: 'm1#POST /x', key: 'k1', reservedAt: T0, now: later(2) });
    // A new resource id offered by the retry is ignored: the key keeps the one it promised.
    await expect(reserve('k1', later(3), 'f1', 'pay_2')).resolves.toEqual({
      kind: 'proceed',
      resourceId: 'pay_1',
    });
    await expect(reserve('k1', later(4), 'f2')).rejects.toBeInstanceOf(IdempotencyMismatchError);
  });

  it('does not end a lock taken over by another request since', async () => {
    await reserve('k2', T0);
    const takeOver = later(IDEMPOTENCY_LOCK_MS + 1);
    await reserve('k2', takeOver);
    // The first holder, long gone, finally fails and releases: the new holder keeps its lock.
    await repo.release({
      scope: 'm1#POST /x',
      key: 'k2',
      reservedAt: T0,
      now: later(IDEMPOTENCY_LOCK_MS + 2),
    });
    await expect(reserve('k2', later(IDEMPOTENCY_LOCK_MS + 3))).rejects.toBeInstanceOf(
      IdempotencyInFlightError,
    );
  });

  it('never reopens a completed key', async () => {
    await reserve('k3', T0);
    const response = { statusCode: 201, body: { id: 'pay_1' } };
    await repo.complete({ scope: 'm1#POST /x', key: 'k3', response, now: later(1) });
    await repo.release({ scope: 'm1#POST /x', key: 'k3', reservedAt: T0, now: later(2) });
    await expect(reserve('k3', later(3))).resolves.toEqual({ kind: 'replay', resourceId: 'pay_1', response });
  });

  it('writes nothing for a key that was never reserved', async () => {
    await repo.release({ scope: 'm1#POST /x', key: 'never', reservedAt: T0, now: later(1) });
    await expect(reserve('never', later(2), 'f9', 'pay_9')).resolves.toEqual({
      kind: 'proceed',
      resourceId: 'pay_9',
    });
  });
});
