/** EventBridge: puts events on the payments bus (source `payments`, detail-type = the event's type). */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE } from '../../schemas/events.js';
import type { EventPublisher } from '../core/ports.js';

/** EventBridge's limit per PutEvents call. */
const BATCH = 10;

export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(events: { type: string; detail: Record<string, unknown> }[]): Promise<void> {
    for (let i = 0; i < events.length; i += BATCH) {
      const batch = events.slice(i, i + BATCH);
      const answer = await this.client.send(
        new PutEventsCommand({
          Entries: batch.map((event) => ({
            EventBusName: this.busName,
            Source: EVENT_SOURCE,
            DetailType: event.type,
            Detail: JSON.stringify(event.detail),
          })),
        }),
      );
      // Consumers deduplicate on event_id, so re-putting a whole batch after a partial failure is safe.
      if ((answer.FailedEntryCount ?? 0) > 0) {
        throw new Error(`EventBridge refused ${answer.FailedEntryCount} of ${batch.length} events`);
      }
    }
  }
}
