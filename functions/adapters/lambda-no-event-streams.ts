/**
 * What the Lambda bundles have instead of `@smithy/core/event-streams`: an esbuild alias
 * (lib/constructs/payment-function.ts), like lambda-credentials.ts for the credential chain. The SDK's
 * protocol code imports event-stream support on demand, for operations that stream events; none of the
 * operations our clients call (DynamoDB, SFN, EventBridge, Secrets Manager, SQS) does, so the codec
 * (about 20 KB of each function) can never run there. A client that needs it (Lambda's
 * InvokeWithResponseStream, Kinesis SubscribeToShard, Bedrock streams) fails here, by name, instead of
 * silently: then drop the alias. Code run outside a bundle keeps the SDK's own module.
 */
import type * as full from '@smithy/core/event-streams';

function unavailable(): never {
  throw new Error(
    'AWS SDK event streams are not bundled (functions/adapters/lambda-no-event-streams.ts): drop the esbuild alias of @smithy/core/event-streams for a function that uses them',
  );
}

export const eventStreamSerdeProvider: typeof full.eventStreamSerdeProvider = () => unavailable();

export const EventStreamSerde = class {
  constructor() {
    unavailable();
  }
} as unknown as typeof full.EventStreamSerde;
