/** What every part of the simulator works with: its settings, clock, records, deliveries, and the commit that makes changes durable. */
import type { Notifier } from './notify.js';
import type { SimState } from './state.js';

/** The options, defaults applied. */
export interface SimConfig {
  secretKey: string;
  publicKey: string;
  hangMs: number;
  slowMs: number;
  qrExpiryMs: number;
  promptPay: { billerId: string; merchantName: string; merchantCity: string };
}

export interface SimContext {
  readonly config: SimConfig;
  readonly now: () => Date;
  readonly state: SimState;
  readonly notifier: Notifier;
  /**
   * Makes every change so far durable (a no-op in memory). Runs before each answer; a step that lets
   * someone else see a change before answering (a notify: the receiver inquires) calls it first.
   */
  readonly commit: () => void;
  /** The simulator's base URL, for the redirect URLs it hands out (set once it listens). */
  url: string;
}
