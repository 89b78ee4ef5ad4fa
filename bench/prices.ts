/**
 * The AWS list prices the benchmark turns its counts into money with (bench/cost.ts): one table, each price
 * with its source and the day it was read. On-demand, no free tier, first pricing tier.
 *
 * Region: us-east-1, the one region every line could be read for here. For Step Functions and Lambda,
 * ap-southeast-1 (Singapore) charges the same (the Step Functions page's region table; AWS's Price List
 * API for Lambda arm64 in ap-southeast-1, APS1-Lambda-GB-Second-ARM and APS1-Request-ARM, as quoted on
 * 2026-08-12). Singapore's DynamoDB, EventBridge, API Gateway and SQS rates could not be read from here:
 * treat those lines as us-east-1's until someone checks them on the AWS pages below.
 */

export interface Price {
  /** USD per one unit. */
  usd: number;
  unit: string;
  source: string;
}

export const PRICES_CHECKED = '2026-12-02';
export const PRICES_REGION = 'us-east-1';

export const PRICES = {
  /** $0.025 per 1,000 (Standard), retries included; the same in ap-southeast-1. */
  stepFunctionsTransition: {
    usd: 0.025 / 1000,
    unit: 'state transition (Standard workflow)',
    source: 'https://aws.amazon.com/step-functions/pricing/',
  },
  /** $0.20 per million, x86 and Arm alike; the same in ap-southeast-1. */
  lambdaRequest: {
    usd: 0.2 / 1e6,
    unit: 'Lambda request',
    source: 'https://aws.amazon.com/lambda/pricing/',
  },
  /** Arm (the functions are ARM_64, lib/constructs/payment-function.ts), first 7.5 billion GB-s a month. */
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    unit: 'Lambda GB-second (Arm)',
    source: 'https://aws.amazon.com/lambda/pricing/',
  },
  /** On-demand, Standard table class, since the November 2024 price cut: $0.625 per million WRU. */
  dynamodbWriteRequestUnit: {
    usd: 0.625 / 1e6,
    unit: 'DynamoDB write request unit (on-demand)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  /** $0.125 per million RRU. */
  dynamodbReadRequestUnit: {
    usd: 0.125 / 1e6,
    unit: 'DynamoDB read request unit (on-demand)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  /** Custom events: $1.00 per million, each 64 KB chunk of an entry one event. */
  eventBridgeEvent: {
    usd: 1 / 1e6,
    unit: 'EventBridge custom event',
    source: 'https://aws.amazon.com/eventbridge/pricing/',
  },
  /** REST APIs: $3.50 per million for the first 333 million a month. */
  apiGatewayRestRequest: {
    usd: 3.5 / 1e6,
    unit: 'API Gateway REST request',
    source: 'https://aws.amazon.com/api-gateway/pricing/',
  },
  /** Standard queue: $0.40 per million requests (SendMessage, ReceiveMessage, DeleteMessage; 64 KB chunks). */
  sqsRequest: {
    usd: 0.4 / 1e6,
    unit: 'SQS request (standard queue)',
    source: 'https://aws.amazon.com/sqs/pricing/',
  },
} as const satisfies Record<string, Price>;
