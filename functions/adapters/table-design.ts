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
  ],
} as const;

/** Every key attribute is a string. */
export const KEY_ATTRIBUTES = [
  TABLE_DESIGN.partitionKey,
  TABLE_DESIGN.sortKey,
  ...TABLE_DESIGN.globalSecondaryIndexes.flatMap((index) => [index.partitionKey, index.sortKey]),
];
