/**
 * What one payment costs, from the local stack's counters (`GET /_local/counters`, local/counters.ts): the
 * usage of a set of payments summed, per payment, and priced per 1 million payments at the list prices of
 * bench/prices.ts. The merchant's status reads (`GET /v1/payments/{id}`) are kept apart: how often a client
 * polls is its choice, not the payment's.
 */
import type { FunctionName } from '../functions/catalog.js';
import { PAYMENT_FUNCTION_DEFAULTS } from '../lib/constructs/payment-function.js';
import {
  addUsage,
  type CountersSnapshot,
  type DynamoDbCount,
  emptyUsage,
  entryOf,
  type Usage,
  type UsageBySource,
} from '../local/counters.js';
import { PRICES } from './prices.js';

/** The route a merchant polls a payment's status with. */
export const STATUS_READ: FunctionName = 'api-get-payment';

/** Every function is deployed with the construct's default memory (lib/stateless/functions.ts sets none). */
export const LAMBDA_MEMORY_MB = PAYMENT_FUNCTION_DEFAULTS.memorySize;

export interface Figures {
  /** How many payments the figures are the average of. */
  payments: number;
  /** Per payment, by command. */
  dynamodb: Record<string, DynamoDbCount>;
  /** Per payment, over every command. */
  dynamodbRequests: number;
  transactWriteItems: number;
  transactItems: number;
  readUnits: number;
  writeUnits: number;
  /** Requests whose units are estimates (local/capacity.ts), per payment. */
  estimatedRequests: number;
  failedRequests: number;
  transitions: number;
  lambdaInvocations: number;
  /** Per payment, by function. */
  invocationsByFunction: Record<string, number>;
  /** Billed duration (each invocation rounded up to 1 ms), in-process on this machine. */
  lambdaBilledMs: number;
  /** lambdaBilledMs at LAMBDA_MEMORY_MB. */
  lambdaGbSeconds: number;
  putEventsCalls: number;
  eventEntries: number;
  apiRequests: number;
  /** Per payment, by route (function). */
  requestsByRoute: Record<string, number>;
  /** SendMessage + ReceiveMessage + DeleteMessage on the notification queue. */
  queueRequests: number;
}

export interface CostLine {
  service: string;
  /** What is billed, per payment. */
  quantity: number;
  unit: string;
  usdPerMillionPayments: number;
}

export interface Cost {
  lines: CostLine[];
  usdPerMillionPayments: number;
  /** The line that costs most. */
  dominant: string;
}

/** The usage of the given payments, summed over every source but `exclude`d ones. */
export function usageOf(
  snapshot: CountersSnapshot,
  paymentIds: Iterable<string>,
  filter: (source: string) => boolean = () => true,
): { usage: Usage; bySource: UsageBySource; payments: number } {
  const usage = emptyUsage();
  const bySource: UsageBySource = {};
  let payments = 0;
  for (const id of paymentIds) {
    payments += 1;
    for (const [source, counted] of Object.entries(snapshot.payments?.[id] ?? {})) {
      if (!filter(source)) continue;
      addUsage(usage, counted);
      addUsage(entryOf(bySource, source, emptyUsage), counted);
    }
  }
  return { usage, bySource, payments };
}

/** Averages over `payments`. */
export function figuresOf(usage: Usage, bySource: UsageBySource, payments: number): Figures {
  const per = (n: number) => (payments > 0 ? n / payments : 0);
  const dynamodb: Record<string, DynamoDbCount> = {};
  for (const [command, count] of Object.entries(usage.dynamodb)) {
    dynamodb[command] = Object.fromEntries(
      Object.entries(count).map(([key, value]) => [key, per(value)]),
    ) as unknown as DynamoDbCount;
  }
  const counts = Object.values(usage.dynamodb);
  const sum = (pick: (count: DynamoDbCount) => number) =>
    per(counts.reduce((total, c) => total + pick(c), 0));
  const bySourceOf = (pick: (usage: Usage) => number) =>
    Object.fromEntries(
      Object.entries(bySource)
        .filter(([, counted]) => pick(counted) > 0)
        .map(([source, counted]) => [source, per(pick(counted))]),
    );
  const billedMs = per(usage.lambda.billedMs);
  return {
    payments,
    dynamodb,
    dynamodbRequests: sum((c) => c.calls),
    transactWriteItems: per(usage.dynamodb.TransactWriteItems?.calls ?? 0),
    transactItems: per(usage.dynamodb.TransactWriteItems?.items ?? 0),
    readUnits: sum((c) => c.readUnits),
    writeUnits: sum((c) => c.writeUnits),
    estimatedRequests: sum((c) => c.estimated),
    failedRequests: sum((c) => c.failed),
    transitions: per(usage.transitions),
    lambdaInvocations: per(usage.lambda.invocations),
    invocationsByFunction: bySourceOf((counted) => counted.lambda.invocations),
    lambdaBilledMs: billedMs,
    lambdaGbSeconds: (billedMs / 1000) * (LAMBDA_MEMORY_MB / 1024),
    putEventsCalls: per(usage.events.putEventsCalls),
    eventEntries: per(usage.events.entries),
    apiRequests: per(usage.apiRequests),
    requestsByRoute: bySourceOf((counted) => counted.apiRequests),
    queueRequests: per(usage.queue.sent + usage.queue.received + usage.queue.deleted),
  };
}

/** Per 1 million payments at list prices, by service. */
export function costOf(figures: Figures): Cost {
  const line = (service: string, quantity: number, price: { usd: number; unit: string }): CostLine => ({
    service,
    quantity,
    unit: price.unit,
    usdPerMillionPayments: quantity * price.usd * 1e6,
  });
  const lines = [
    line('Step Functions state transitions', figures.transitions, PRICES.stepFunctionsTransition),
    line('Lambda requests', figures.lambdaInvocations, PRICES.lambdaRequest),
    line(`Lambda duration (${LAMBDA_MEMORY_MB} MB, Arm)`, figures.lambdaGbSeconds, PRICES.lambdaArmGbSecond),
    line('DynamoDB writes', figures.writeUnits, PRICES.dynamodbWriteRequestUnit),
    line('DynamoDB reads', figures.readUnits, PRICES.dynamodbReadRequestUnit),
    line('EventBridge events', figures.eventEntries, PRICES.eventBridgeEvent),
    line('API Gateway requests', figures.apiRequests, PRICES.apiGatewayRestRequest),
    line('SQS requests', figures.queueRequests, PRICES.sqsRequest),
  ];
  const usdPerMillionPayments = lines.reduce((total, l) => total + l.usdPerMillionPayments, 0);
  const dominant = lines.reduce((top, l) => (l.usdPerMillionPayments > top.usdPerMillionPayments ? l : top));
  return { lines, usdPerMillionPayments, dominant: dominant.service };
}

/** The figures of one kind of payment: what the payment needs, and the merchant's status reads apart. */
export function paymentCost(snapshot: CountersSnapshot, paymentIds: string[]) {
  const own = usageOf(snapshot, paymentIds, (source) => source !== STATUS_READ);
  const reads = usageOf(snapshot, paymentIds, (source) => source === STATUS_READ);
  const figures = figuresOf(own.usage, own.bySource, own.payments);
  const statusReads = figuresOf(reads.usage, reads.bySource, reads.payments);
  const perRead =
    reads.usage.apiRequests > 0 ? figuresOf(reads.usage, reads.bySource, reads.usage.apiRequests) : null;
  return {
    figures,
    cost: costOf(figures),
    /** Per payment: how many status reads this run's client made, and what they cost. */
    statusReads: { perPayment: statusReads.apiRequests, cost: costOf(statusReads) },
    /** One status read (its request, Lambda invocation and GetItem), per 1 million reads. */
    perStatusRead: perRead ? costOf(perRead) : null,
  };
}

const fixed = (n: number, digits = 2) => (Number.isInteger(n) ? String(n) : n.toFixed(digits));

/** The lines `npm run bench` prints for one kind of payment. */
export function formatPaymentCost(label: string, report: ReturnType<typeof paymentCost>): string {
  const { figures: f, cost } = report;
  if (f.payments === 0) return `${label}: none`;
  const commands = Object.entries(f.dynamodb)
    .map(
      ([command, c]) =>
        `${command} ${fixed(c.calls)}${command.startsWith('Transact') ? ` (${fixed(c.items)} items)` : ''}`,
    )
    .join(', ');
  const byFunction = Object.entries(f.invocationsByFunction)
    .map(([name, n]) => `${name} ${fixed(n)}`)
    .join(', ');
  const byRoute = Object.entries(f.requestsByRoute)
    .map(([name, n]) => `${name} ${fixed(n)}`)
    .join(', ');
  const money = cost.lines
    .map(
      (l) =>
        `    ${l.service.padEnd(34)} ${fixed(l.quantity, 3).padStart(9)}  $${l.usdPerMillionPayments.toFixed(2)}`,
    )
    .join('\n');
  return `${label}: per completed payment (${f.payments} payments, measured in the run)
  DynamoDB requests                  ${fixed(f.dynamodbRequests)}: ${commands}
  DynamoDB request units             ${fixed(f.writeUnits)} WRU, ${fixed(f.readUnits)} RRU   (estimated requests ${fixed(f.estimatedRequests)}, failed ${fixed(f.failedRequests)})
  Step Functions transitions         ${fixed(f.transitions)}
  Lambda invocations                 ${fixed(f.lambdaInvocations)}: ${byFunction}
  Lambda duration                    ${fixed(f.lambdaBilledMs, 1)} ms billed = ${f.lambdaGbSeconds.toFixed(4)} GB-s at ${LAMBDA_MEMORY_MB} MB (in-process on this machine)
  EventBridge                        ${fixed(f.eventEntries)} events in ${fixed(f.putEventsCalls)} PutEvents calls
  API requests                       ${fixed(f.apiRequests)}: ${byRoute}
  SQS requests                       ${fixed(f.queueRequests)}
  status reads by this client        ${fixed(report.statusReads.perPayment)} (not in the cost below; one read costs $${report.perStatusRead?.usdPerMillionPayments.toFixed(2) ?? '-'} per 1M)
  cost per 1M payments, list prices  $${cost.usdPerMillionPayments.toFixed(2)}   (dominant: ${cost.dominant})
${money}`;
}
