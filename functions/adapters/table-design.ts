/**
 * The single table's physical design, shared by the CDK stack and the local stack so they cannot drift.
 * Key design and access patterns: docs/data-model.md.
 */

export const TABLE_DESIGN = {
  partitionKey: 'PK',
  sortKey: 'SK',
  /** Items with this attribute (epoch seconds) are deleted by DynamoDB TTL: idempotency records. */
  ttlAttribute: 'expiresAt',
  globalSecondaryIndexes: [
    /** Payments of a merchant, newest first: GSI1PK = MERCHANT#<id>, GSI1SK = <createdAt ISO>#<paymentId>. */
    { indexName: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
    /** KBank charge → payment: GSI2PK = CHARGE#<chargeId>, GSI2SK = PAYMENT#<paymentId>. */
    { indexName: 'GSI2', partitionKey: 'GSI2PK', sortKey: 'GSI2SK' },
    /**
     * Sparse, written only while a payment or refund is open: GSI3PK = DUE#<shard>, GSI3SK =
     * <deadline ISO>#PAYMENT#<paymentId> (or #REFUND#<paymentId>#<refundId>); once given up to an operator,
     * GSI3PK = UNRESOLVED, GSI3SK = <since ISO>#…. The reconciliation sweep's only way in: no Scan.
     * Settlements the close has work on: GSI3PK = SETTLEMENTS_OPEN | SETTLEMENTS_UNPUBLISHED, GSI3SK =
     * <periodEnd ISO>#<merchantId>#<day>#<currency> (functions/adapters/dynamo-settlements.ts).
     */
    { indexName: 'GSI3', partitionKey: 'GSI3PK', sortKey: 'GSI3SK' },
  ],
} as const;

/** Open items are spread over this many DUE# partitions so the sweep's index has no hot key. */
export const DUE_SHARDS = 4;

/** Every key attribute is a string. */
export const KEY_ATTRIBUTES = [
  TABLE_DESIGN.partitionKey,
  TABLE_DESIGN.sortKey,
  ...TABLE_DESIGN.globalSecondaryIndexes.flatMap((index) => [index.partitionKey, index.sortKey]),
];
