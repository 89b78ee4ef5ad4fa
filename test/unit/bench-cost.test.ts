/** The benchmark's cost per payment (bench/cost.ts): counters in, per-payment figures and money out. */
import { costOf, LAMBDA_MEMORY_MB, paymentCost, STATUS_READ } from '../../bench/cost.js';
import { PRICES } from '../../bench/prices.js';
import { type CountersSnapshot, emptyDynamoDbCount, emptyUsage, type Usage } from '../../local/counters.js';

function usage(change: (usage: Usage) => void): Usage {
  const u = emptyUsage();
  change(u);
  return u;
}

/** Two payments that did the same, one of them polled three times by its client. */
const snapshot: CountersSnapshot = {
  since: '2026-12-02T00:00:00.000Z',
  total: {},
  unattributed: {},
  droppedPayments: 0,
  payments: Object.fromEntries(
    ['pay_a', 'pay_b'].map((id) => [
      id,
      {
        'states:payment': usage((u) => {
          u.transitions = 11;
          u.events = { putEventsCalls: 3, entries: 3 };
        }),
        'api-create-payment': usage((u) => {
          u.apiRequests = 1;
          u.lambda = { invocations: 1, durationMs: 99.5, billedMs: 100 };
          u.dynamodb.TransactWriteItems = { ...emptyDynamoDbCount(), calls: 1, items: 2, writeUnits: 6 };
        }),
        ...(id === 'pay_a'
          ? {
              [STATUS_READ]: usage((u) => {
                u.apiRequests = 3;
                u.lambda = { invocations: 3, durationMs: 30, billedMs: 30 };
                u.dynamodb.GetItem = { ...emptyDynamoDbCount(), calls: 3, items: 3, readUnits: 3 };
              }),
            }
          : {}),
      },
    ]),
  ),
};

describe('cost per payment', () => {
  it('averages what the payments did, leaving the status reads apart', () => {
    const { figures, statusReads } = paymentCost(snapshot, ['pay_a', 'pay_b']);
    expect(figures).toMatchObject({
      payments: 2,
      transitions: 11,
      transactWriteItems: 1,
      transactItems: 2,
      writeUnits: 6,
      readUnits: 0,
      lambdaInvocations: 1,
      apiRequests: 1,
      eventEntries: 3,
    });
    expect(figures.lambdaGbSeconds).toBeCloseTo((100 / 1000) * (LAMBDA_MEMORY_MB / 1024), 12);
    expect(statusReads.perPayment).toBe(1.5);
  });

  it('prices each service at its list price per 1M payments and names the largest', () => {
    const { figures, cost } = paymentCost(snapshot, ['pay_a', 'pay_b']);
    const line = (service: string) =>
      cost.lines.find((l) => l.service.startsWith(service))?.usdPerMillionPayments;
    expect(line('Step Functions')).toBeCloseTo(11 * PRICES.stepFunctionsTransition.usd * 1e6, 9);
    expect(line('DynamoDB writes')).toBeCloseTo(6 * PRICES.dynamodbWriteRequestUnit.usd * 1e6, 9);
    expect(line('EventBridge')).toBeCloseTo(3 * PRICES.eventBridgeEvent.usd * 1e6, 9);
    expect(line('API Gateway')).toBeCloseTo(PRICES.apiGatewayRestRequest.usd * 1e6, 9);
    expect(cost.usdPerMillionPayments).toBeCloseTo(
      cost.lines.reduce((sum, l) => sum + l.usdPerMillionPayments, 0),
      9,
    );
    expect(cost.dominant).toBe('Step Functions state transitions');
    // Twice the work, twice the money.
    const doubled = costOf({
      ...figures,
      transitions: 22,
      writeUnits: 12,
      eventEntries: 6,
      apiRequests: 2,
      lambdaInvocations: 2,
      lambdaGbSeconds: 2 * figures.lambdaGbSeconds,
    });
    expect(doubled.usdPerMillionPayments).toBeCloseTo(2 * cost.usdPerMillionPayments, 9);
  });
});
