/**
 * The on-demand request unit rules of local/capacity.ts where DynamoDB Local cannot be compared with
 * (transactions: it reports 4 units per KB there), each figure worked out from the rule it states.
 */
import { createCapacityModel, isMarshalledItem, measureItem } from '../../local/capacity.js';

const SHAPE = {
  partitionKey: 'PK',
  sortKey: 'SK',
  indexes: [{ partitionKey: 'GSI1PK', sortKey: 'GSI1SK' }],
};
const TABLE = 'units';

/** An item of exactly `bytes` bytes (names and values), in the document client's form. */
function itemOf(pk: string, bytes: number, extra: Record<string, string> = {}): Record<string, unknown> {
  const base = { PK: pk, SK: 'ITEM', ...extra };
  const used = measureItem({ ...base, f: '' }, false).size;
  return { ...base, f: 'x'.repeat(bytes - used) };
}

function transact(model: ReturnType<typeof createCapacityModel>, actions: Record<string, unknown>[]) {
  const input = { TransactItems: actions };
  return model.charge('TransactWriteItems', input, {});
}

describe('request units as on-demand bills them', () => {
  it('sizes an item as DynamoDB does, in either client form', () => {
    const item = {
      PK: 'PAYMENT#p',
      amount: 72500,
      ok: true,
      none: null,
      lines: ['a', { n: 1.5 }],
      tags: new Set(['x']),
    };
    // Names 2+6+2+4+5+4; values 9, 1+3 (72500: 3 digits pairs), 1, 1, list 3+(1+1)+(1+map 3+(1+1+2)), set 1.
    const expected = 2 + 9 + 6 + (1 + 3) + 2 + 1 + 4 + 1 + 5 + (3 + 2 + (1 + 3 + 1 + 1 + 2)) + 4 + 1;
    expect(measureItem(item, false).size).toBe(expected);
    const marshalled = {
      PK: { S: 'PAYMENT#p' },
      amount: { N: '72500' },
      ok: { BOOL: true },
      none: { NULL: true },
      lines: { L: [{ S: 'a' }, { M: { n: { N: '1.5' } } }] },
      tags: { SS: ['x'] },
    };
    expect(isMarshalledItem(marshalled)).toBe(true);
    expect(isMarshalledItem(item)).toBe(false);
    expect(measureItem(marshalled, true)).toEqual(measureItem(item, false));
  });

  it('doubles a transaction on the table and never on its indexes', () => {
    const model = createCapacityModel(SHAPE);
    model.watchFromEmpty(TABLE);
    const indexed = itemOf('A', 1500, { GSI1PK: 'M', GSI1SK: '1' });
    const plain = itemOf('B', 1024);
    const units = transact(model, [
      { Put: { TableName: TABLE, Item: indexed, ConditionExpression: 'attribute_not_exists(PK)' } },
      { Put: { TableName: TABLE, Item: plain } },
    ]);
    // 1500 B: 2 KB × 2 on the table, 2 on the index; 1024 B: 1 KB × 2.
    expect(units).toEqual({ readUnits: 0, writeUnits: 2 * 2 + 2 + 2 * 1, estimated: false });
  });

  it('charges the larger image, an index key move twice, and an unchanged index entry nothing', () => {
    const model = createCapacityModel(SHAPE);
    model.watchFromEmpty(TABLE);
    transact(model, [{ Put: { TableName: TABLE, Item: itemOf('A', 2100, { GSI1PK: 'M', GSI1SK: '1' }) } }]);
    // Smaller, same index key, different content: table 3 KB (the old image) × 2, index max(3, 1).
    const shrunk = itemOf('A', 500, { GSI1PK: 'M', GSI1SK: '1' });
    expect(transact(model, [{ Put: { TableName: TABLE, Item: shrunk } }]).writeUnits).toBe(3 * 2 + 3);
    // The same item again: the index entry does not change.
    expect(transact(model, [{ Put: { TableName: TABLE, Item: shrunk } }]).writeUnits).toBe(1 * 2);
    // The index key moves: a delete of the old entry and an insert of the new one.
    const moved = itemOf('A', 500, { GSI1PK: 'M', GSI1SK: '2' });
    expect(transact(model, [{ Put: { TableName: TABLE, Item: moved } }]).writeUnits).toBe(1 * 2 + 1 + 1);
    // Out of the index (a sparse index's key removed): the old entry is deleted.
    expect(transact(model, [{ Put: { TableName: TABLE, Item: itemOf('A', 500) } }]).writeUnits).toBe(
      1 * 2 + 1,
    );
  });

  it('bills a ConditionCheck as a transactional write of the item it checks', () => {
    const model = createCapacityModel(SHAPE);
    model.watchFromEmpty(TABLE);
    transact(model, [{ Put: { TableName: TABLE, Item: itemOf('C', 1500) } }]);
    const units = transact(model, [
      {
        ConditionCheck: {
          TableName: TABLE,
          Key: { PK: 'C', SK: 'ITEM' },
          ConditionExpression: 'attribute_exists(PK)',
        },
      },
    ]);
    expect(units).toEqual({ readUnits: 0, writeUnits: 2 * 2, estimated: false });
  });

  it('flags what rests on an item it never saw, and what a transactional update left unknown', () => {
    const model = createCapacityModel(SHAPE);
    // Not watched from empty: an item the ledger has not seen may exist.
    expect(transact(model, [{ Put: { TableName: TABLE, Item: itemOf('D', 100) } }]).estimated).toBe(true);
    expect(
      transact(model, [
        {
          Put: { TableName: TABLE, Item: itemOf('E', 100), ConditionExpression: 'attribute_not_exists(PK)' },
        },
      ]).estimated,
    ).toBe(false);
    const update = {
      Update: { TableName: TABLE, Key: { PK: 'E', SK: 'ITEM' }, UpdateExpression: 'SET v = :v' },
    };
    expect(transact(model, [update]).estimated).toBe(true);
    // Its image is no longer known, even on a table watched from empty.
    model.watchFromEmpty(TABLE);
    expect(transact(model, [{ Put: { TableName: TABLE, Item: itemOf('E', 100) } }]).estimated).toBe(true);
  });

  it('reads 4 KB per unit, a Query over all its items together, half when eventually consistent', () => {
    const model = createCapacityModel(SHAPE);
    const items = [itemOf('Q', 3000), itemOf('Q', 3000)];
    expect(
      model.charge('Query', { TableName: TABLE, ConsistentRead: true }, { Items: items }).readUnits,
    ).toBe(2);
    expect(model.charge('Query', { TableName: TABLE }, { Items: items }).readUnits).toBe(1);
    expect(model.charge('GetItem', { TableName: TABLE, Key: { PK: 'none', SK: 'ITEM' } }, {}).readUnits).toBe(
      0.5,
    );
    expect(
      model.charge('TransactGetItems', {}, { Responses: [{ Item: itemOf('T', 5000) }, {}] }).readUnits,
    ).toBe(2 * 2 + 2 * 1);
  });
});
