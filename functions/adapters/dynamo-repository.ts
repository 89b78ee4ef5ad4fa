/**
 * The single table, one adapter per port over one kit (dynamo-table-kit.ts), joined into the one object
 * the composition root hands out as the `table` edge (container.ts on AWS, local/stack.ts locally): a use
 * case takes the ports it needs from it, several at once where it writes them together.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_SWEEP_POLICY, type SweepPolicy } from '../core/reconciliation.js';
import { DynamoDueIndex } from './dynamo-due-index.js';
import { DynamoIdempotency } from './dynamo-idempotency.js';
import { DynamoMerchants } from './dynamo-merchants.js';
import { DEFAULT_SEARCH_BUDGET, DynamoPaymentSearch, type SearchBudget } from './dynamo-payment-search.js';
import { DynamoPayments } from './dynamo-payments.js';
import { DynamoReconciliationRuns } from './dynamo-reconciliation-runs.js';
import { DynamoRefunds } from './dynamo-refunds.js';

export { DEFAULT_SEARCH_BUDGET, type SearchBudget } from './dynamo-payment-search.js';
export {
  createDocumentClient,
  dueShard,
  IDEMPOTENCY_LOCK_MS,
  IDEMPOTENCY_TTL_SECONDS,
  isTransactionConflict,
  keys,
} from './dynamo-table-kit.js';

/** An adapter's public face: its port's methods (and its own, such as putApiKey), nothing of the kit. */
type Face<T> = { [K in keyof T]: T[K] };

export type DynamoTable = Face<DynamoPayments> &
  Face<DynamoPaymentSearch> &
  Face<DynamoRefunds> &
  Face<DynamoDueIndex> &
  Face<DynamoReconciliationRuns> &
  Face<DynamoIdempotency> &
  Face<DynamoMerchants>;

export function dynamoTable(
  db: DynamoDBDocumentClient,
  tableName: string,
  searchBudget: SearchBudget = DEFAULT_SEARCH_BUDGET,
  sweepPolicy: SweepPolicy = DEFAULT_SWEEP_POLICY,
): DynamoTable {
  return joinPorts(
    new DynamoPayments(db, tableName, sweepPolicy),
    new DynamoPaymentSearch(db, tableName, searchBudget),
    new DynamoRefunds(db, tableName, sweepPolicy),
    new DynamoDueIndex(db, tableName),
    new DynamoReconciliationRuns(db, tableName),
    new DynamoIdempotency(db, tableName),
    new DynamoMerchants(db, tableName),
  ) as DynamoTable;
}

/** One object answering every adapter's own methods, each bound to its adapter; a name twice is a bug. */
function joinPorts(...adapters: object[]): Record<string, unknown> {
  const joined: Record<string, unknown> = {};
  for (const adapter of adapters) {
    const prototype = Object.getPrototypeOf(adapter) as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const method = prototype[name];
      if (name === 'constructor' || typeof method !== 'function') continue;
      if (name in joined) throw new Error(`two table adapters answer ${name}`);
      joined[name] = method.bind(adapter);
    }
  }
  return joined;
}
