/**
 * Refund storage against DynamoDB Local: the reservation transaction, and the database itself refusing a
 * reservation that does not fit (Σ refunds ≤ captured), even when the writer's version is current.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  createDocumentClient,
  type DynamoTable,
  dynamoTable,
  keys,
} from '../../functions/adapters/dynamo-repository.js';
import { StaleWriteError } from '../../functions/core/errors.js';
import { ulid } from '../../functions/core/ids.js';
import type { Payment } from '../../functions/core/payment.js';
import { reserveRefund, resolveRefund } from '../../functions/core/refund.js';
import { freshTable } from '../support/dynamodb.js';
import { aPayment } from '../support/payments.js';

let repo: DynamoTable;
let db: ReturnType<typeof createDocumentClient>;
let tableName: string;
beforeAll(async () => {
  const table = await freshTable('refunds');
  tableName = table.tableName;
  db = createDocumentClient(table.client);
  repo = dynamoTable(db, tableName);
});

const NOW = new Date('2026-11-22T04:00:00.000Z');

/** A stored payment captured for 10000 (stored as a whole: the adapter derives amountRefundable). */
async function captured(): Promise<Payment> {
  const { payment, audit } = aPayment({ amount: 10000 }, NOW);
  const done: Payment = { ...payment, status: 'succeeded', amountAuthorized: 10000, amountCaptured: 10000 };
  expect(await repo.create(done, audit)).toBe(true);
  return done;
}

const rawItem = async (paymentId: string) =>
  (await db.send(new GetCommand({ TableName: tableName, Key: keys.payment(paymentId) }))).Item;

describe('refund reservations in DynamoDB', () => {
  it('writes the payment version, its audit entry and the refund in one transaction', async () => {
    const payment = await captured();
    const { change, refund } = reserveRefund(payment, { refundId: `re_${ulid()}`, amount: 4000 }, NOW);
    await repo.commitRefund(change, { next: refund, previousStatus: null, reserve: 4000 });

    expect(await repo.get(payment.id)).toEqual(change.next);
    expect(await repo.getRefund(payment.id, refund.id)).toEqual(refund);
    expect((await repo.listAudit(payment.id, { limit: 10 })).entries.map((e) => e.type)).toEqual([
      'payment.created',
      'refund.requested',
    ]);
    // The derived attribute the condition reads, kept only on the stored item.
    expect(await rawItem(payment.id)).toMatchObject({ amountRefundable: 6000 });
    expect(await repo.get(payment.id)).not.toHaveProperty('amountRefundable');
  });

  it('refuses a reservation that does not fit even when the version it was computed from is current', async () => {
    const payment = await captured();
    const first = reserveRefund(payment, { refundId: `re_${ulid()}`, amount: 7000 }, NOW);
    await repo.commitRefund(first.change, { next: first.refund, previousStatus: null, reserve: 7000 });

    // A writer that believed 5000 was still refundable (a bug, a stale cache) on the current version.
    const current = (await repo.get(payment.id)) as Payment;
    const forged = reserveRefund(
      { ...current, amountRefundPending: 0 },
      { refundId: `re_${ulid()}`, amount: 5000 },
      NOW,
    );
    const change = { ...forged.change, previous: current };
    await expect(
      repo.commitRefund(change, { next: forged.refund, previousStatus: null, reserve: 5000 }),
    ).rejects.toBeInstanceOf(StaleWriteError);
    expect(await repo.get(payment.id)).toMatchObject({ seq: current.seq, amountRefundPending: 7000 });
    expect(await repo.getRefund(payment.id, forged.refund.id)).toBeNull();
  });

  it('reads the captured amount as refundable on payments stored before refunds existed', async () => {
    const payment = await captured();
    await db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keys.payment(payment.id),
        UpdateExpression: 'REMOVE amountRefundable',
      }),
    );
    const tooMuch = reserveRefund(payment, { refundId: `re_${ulid()}`, amount: 10000 }, NOW);
    await expect(
      repo.commitRefund(tooMuch.change, { next: tooMuch.refund, previousStatus: null, reserve: 10001 }),
    ).rejects.toBeInstanceOf(StaleWriteError);
    await repo.commitRefund(tooMuch.change, { next: tooMuch.refund, previousStatus: null, reserve: 10000 });
    expect(await rawItem(payment.id)).toMatchObject({ amountRefundable: 0, amountRefundPending: 10000 });
  });

  it('writes a refund id once, and a resolution only from the status it was computed from', async () => {
    const payment = await captured();
    const reserved = reserveRefund(payment, { refundId: `re_${ulid()}`, amount: 1000 }, NOW);
    await repo.commitRefund(reserved.change, { next: reserved.refund, previousStatus: null, reserve: 1000 });

    const again = reserveRefund(reserved.change.next, { refundId: reserved.refund.id, amount: 1000 }, NOW);
    await expect(
      repo.commitRefund(again.change, { next: again.refund, previousStatus: null, reserve: 1000 }),
    ).rejects.toBeInstanceOf(StaleWriteError);

    const done = resolveRefund(reserved.change.next, reserved.refund, { status: 'succeeded' }, NOW);
    await expect(
      repo.commitRefund(done.change, { next: done.refund, previousStatus: 'unknown' }),
    ).rejects.toBeInstanceOf(StaleWriteError);
    await repo.commitRefund(done.change, { next: done.refund, previousStatus: 'pending' });
    expect(await repo.get(payment.id)).toMatchObject({ amountRefunded: 1000, amountRefundPending: 0 });
  });

  it('updates a refund alone only from the state it was read in', async () => {
    const payment = await captured();
    const { change, refund } = reserveRefund(payment, { refundId: `re_${ulid()}`, amount: 1000 }, NOW);
    await repo.commitRefund(change, { next: refund, previousStatus: null, reserve: 1000 });
    const sending = { ...refund, kbankCalls: 1 };
    await repo.updateRefund(sending, refund);
    await expect(repo.updateRefund({ ...refund, kbankCalls: 1 }, refund)).rejects.toBeInstanceOf(
      StaleWriteError,
    );
    expect((await repo.getRefund(payment.id, refund.id))?.kbankCalls).toBe(1);
  });

  it('lists a payment’s refunds oldest first, page by page, and nothing else of the payment', async () => {
    let payment = await captured();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { change, refund } = reserveRefund(
        payment,
        { refundId: `re_${ulid(Date.now() + i)}`, amount: 100 },
        NOW,
      );
      await repo.commitRefund(change, { next: refund, previousStatus: null, reserve: 100 });
      payment = change.next;
      ids.push(refund.id);
    }
    const first = await repo.listRefunds(payment.id, { limit: 2 });
    expect(first.refunds.map((r) => r.id)).toEqual(ids.slice(0, 2));
    expect(first.hasMore).toBe(true);
    const rest = await repo.listRefunds(payment.id, { limit: 2, after: ids[1] });
    expect(rest).toEqual({ refunds: [expect.objectContaining({ id: ids[2] })], hasMore: false });
  });
});
