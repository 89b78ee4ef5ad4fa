/** Delivery to the merchant: the notify (as the fault knobs say) and the 3-D Secure browser return, with the log of each delivery. */
import { kbankChecksum } from '../../functions/adapters/kbank-client.js';
import type { NotifyFaults, SimCharge, SimDelivery } from './types.js';
import { toWire } from './wire.js';

export interface NotifierOptions {
  secretKey: string;
  deliveryTimeoutMs: number;
  notifyUrl?: string;
  browserReturnUrl?: string;
  /** The knobs that apply to a charge's notify. */
  faultsFor(charge: SimCharge): NotifyFaults;
  /** Runs before anything is sent: the receiver inquires while the delivery is still running. */
  beforeSend(): void;
}

/** Deliveries are not kept across a restart: the log and held notifies live in memory only. */
export class Notifier {
  notifyUrl: string | undefined;
  browserReturnUrl: string | undefined;
  private readonly log: SimDelivery[] = [];
  private readonly held = new Map<SimDelivery, NodeJS.Timeout>();

  constructor(private readonly options: NotifierOptions) {
    this.notifyUrl = options.notifyUrl;
    this.browserReturnUrl = options.browserReturnUrl;
  }

  /** Sends the charge object + checksum to the notify URL, as the faults say. */
  async notify(charge: SimCharge): Promise<void> {
    this.options.beforeSend();
    const faults = this.options.faultsFor(charge);
    const checksum = kbankChecksum(
      {
        id: charge.id,
        amount: charge.amount,
        currency: charge.currency,
        status: charge.status,
        transactionState: charge.state,
      },
      faults.wrongChecksum ? `${this.options.secretKey}_wrong` : this.options.secretKey,
    );
    const body: Record<string, unknown> = { ...toWire(charge), checksum };
    const copies = faults.duplicateNotify ? 2 : 1;
    for (let copy = 1; copy <= copies; copy++) {
      const delivery: SimDelivery = {
        kind: 'notify',
        chargeId: charge.id,
        transactionState: charge.state,
        copy,
        outcome: 'held',
        body: structuredClone(body),
      };
      if (charge.orderId !== undefined) delivery.orderId = charge.orderId;
      this.log.push(delivery);
      if (faults.lostNotify) {
        delivery.outcome = 'lost';
        continue;
      }
      const lateMs = faults.lateNotifyMs ?? 0;
      if (lateMs > 0) {
        const timer = setTimeout(() => {
          this.held.delete(delivery);
          void this.deliver(delivery);
        }, lateMs);
        this.held.set(delivery, timer);
        continue;
      }
      await this.deliver(delivery);
    }
  }

  /** 3-D Secure: the form KBank makes the customer's browser post to the merchant's callback URL. */
  async browserReturn(charge: SimCharge, success: boolean): Promise<void> {
    this.options.beforeSend();
    const delivery: SimDelivery = {
      kind: 'browser_return',
      chargeId: charge.id,
      transactionState: charge.state,
      copy: 1,
      outcome: 'held',
      body: { objectId: charge.id, token: charge.tokenId ?? '', status: success ? 'true' : 'false' },
    };
    this.log.push(delivery);
    await this.deliver(delivery);
  }

  /** A copy of every delivery made or withheld, oldest first. */
  deliveries(): SimDelivery[] {
    return this.log.map((delivery) => structuredClone(delivery));
  }

  /** Delivers every held (late) notify now, in order, and waits for them. */
  async flush(): Promise<void> {
    const held = [...this.held.entries()];
    for (const [delivery, timer] of held) {
      clearTimeout(timer);
      this.held.delete(delivery);
    }
    for (const [delivery] of held) await this.deliver(delivery);
  }

  /** Drops the held notifies: they are never sent. */
  dropHeld(): void {
    for (const timer of this.held.values()) clearTimeout(timer);
    this.held.clear();
  }

  /** Forgets every delivery, held ones included. */
  clear(): void {
    this.dropHeld();
    this.log.length = 0;
  }

  private async deliver(delivery: SimDelivery): Promise<void> {
    const target = delivery.kind === 'notify' ? this.notifyUrl : this.browserReturnUrl;
    if (!target) {
      delivery.outcome = 'no_url';
      return;
    }
    const form = delivery.kind === 'browser_return';
    try {
      const response = await fetch(target, {
        method: 'POST',
        headers: {
          'Content-Type': form ? 'application/x-www-form-urlencoded' : 'application/json',
        },
        body: form
          ? new URLSearchParams(delivery.body as Record<string, string>).toString()
          : JSON.stringify(delivery.body),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.deliveryTimeoutMs),
      });
      await response.arrayBuffer();
      delivery.httpStatus = response.status;
      delivery.outcome = response.ok ? 'delivered' : 'failed';
    } catch (error) {
      delivery.outcome = 'failed';
      delivery.error = error instanceof Error ? error.message : String(error);
    }
  }
}
