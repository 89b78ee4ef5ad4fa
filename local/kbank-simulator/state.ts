/** The simulator's records (charges with their refunds, tokens, the 503-once memory, faults, unlisted charges), their indexes, and the changes not yet made durable. */
import type { NotifyFaults, SimCharge, TokenRecord } from './types.js';

/** Everything that must survive a restart, as the snapshot holds it. Deliveries, held notifies and URLs are not kept. */
export interface SimRecords {
  charges: SimCharge[];
  tokens: TokenRecord[];
  unavailableAnswered: string[];
  faults: { global: NotifyFaults; byTarget: [string, NotifyFaults][] };
  unlisted: string[];
}

/**
 * One change, as a journal line holds it: each record it wrote, whole, so replaying changes in order
 * leaves every record as its last write. A record appears at most once.
 */
export interface SimChange {
  charges?: SimCharge[];
  /** Charges KBank lost (forget): gone, with their unlisting and their faults. */
  forgotten?: string[];
  tokens?: TokenRecord[];
  /** Reference orders that got their one 503. */
  unavailableAnswered?: string[];
  unlisted?: string[];
  /** The knobs of each scope written (target null: global), replacing what it had; `{}` clears a target. */
  faults?: { target: string | null; faults: NotifyFaults }[];
}

/** What changed since the last change was taken: keys only, the records are read when it is taken. */
interface Pending {
  charges: Set<string>;
  forgotten: Set<string>;
  tokens: Set<string>;
  unavailableAnswered: Set<string>;
  unlisted: Set<string>;
  faults: Set<string | null>;
}

const nothingPending = (): Pending => ({
  charges: new Set(),
  forgotten: new Set(),
  tokens: new Set(),
  unavailableAnswered: new Set(),
  unlisted: new Set(),
  faults: new Set(),
});

/**
 * The records and their indexes. Every write goes through a method here, which also notes it as pending:
 * a record mutated in place (a charge settled) is written again with putCharge. takeChange hands the
 * pending writes to the journal; apply replays one on start.
 */
export class SimState {
  private readonly chargesById = new Map<string, SimCharge>();
  private readonly idByReference = new Map<string, string>();
  private readonly idByOrder = new Map<string, string>();
  private readonly tokensById = new Map<string, TokenRecord>();
  private readonly unavailable = new Set<string>();
  /** Charges left off the daily transaction list (the "missing" control). */
  private readonly unlistedIds = new Set<string>();
  private globalFaults: NotifyFaults = {};
  private readonly faultsByTarget = new Map<string, NotifyFaults>();
  private pending = nothingPending();
  /**
   * Charges accepted but not landed yet, by reference_order (the `lands_late` card). Not journaled: like a
   * request still in flight inside KBank, a held charge dies with the process.
   */
  private readonly held = new Map<string, SimCharge>();

  charge(chargeId: string): SimCharge | undefined {
    return this.chargesById.get(chargeId);
  }

  chargeByReference(referenceOrder: string): SimCharge | undefined {
    const chargeId = this.idByReference.get(referenceOrder);
    return chargeId === undefined ? undefined : this.chargesById.get(chargeId);
  }

  chargeByOrder(orderId: string): SimCharge | undefined {
    const chargeId = this.idByOrder.get(orderId);
    return chargeId === undefined ? undefined : this.chargesById.get(chargeId);
  }

  /** Holds a charge that will land later (see `land`). */
  hold(charge: SimCharge): void {
    this.held.set(charge.referenceOrder, charge);
  }

  /** Lands the charge held under `referenceOrder`, if any: from now on it is a charge like any other. */
  land(referenceOrder: string): void {
    const charge = this.held.get(referenceOrder);
    if (charge === undefined) return;
    this.held.delete(referenceOrder);
    this.putCharge(charge);
  }

  hasReference(referenceOrder: string): boolean {
    return this.idByReference.has(referenceOrder);
  }

  /** Every charge, oldest first (insertion order). */
  charges(): IterableIterator<SimCharge> {
    return this.chargesById.values();
  }

  token(tokenId: string): TokenRecord | undefined {
    return this.tokensById.get(tokenId);
  }

  wasUnavailableAnswered(referenceOrder: string): boolean {
    return this.unavailable.has(referenceOrder);
  }

  isUnlisted(chargeId: string): boolean {
    return this.unlistedIds.has(chargeId);
  }

  /** The knobs of one scope: global without a target. */
  faults(target?: string): NotifyFaults | undefined {
    return target === undefined ? this.globalFaults : this.faultsByTarget.get(target);
  }

  /** Adds the charge, or records it again after it was changed in place. */
  putCharge(charge: SimCharge): void {
    this.writeCharge(charge);
    this.pending.charges.add(charge.id);
    this.pending.forgotten.delete(charge.id);
  }

  /** Adds the token, or records it again after it was used. */
  putToken(token: TokenRecord): void {
    this.tokensById.set(token.id, token);
    this.pending.tokens.add(token.id);
  }

  markUnavailableAnswered(referenceOrder: string): void {
    this.unavailable.add(referenceOrder);
    this.pending.unavailableAnswered.add(referenceOrder);
  }

  unlist(chargeId: string): void {
    this.unlistedIds.add(chargeId);
    this.pending.unlisted.add(chargeId);
  }

  /** KBank loses the charge: gone from every index, its unlisting and faults with it. */
  forget(chargeId: string): void {
    this.dropCharge(chargeId);
    this.pending.charges.delete(chargeId);
    this.pending.unlisted.delete(chargeId);
    this.pending.faults.delete(chargeId);
    this.pending.forgotten.add(chargeId);
  }

  /** Replaces the knobs of one scope (global without a target); `{}` removes a target's. */
  setFaults(faults: NotifyFaults, target?: string): void {
    this.writeFaults(target ?? null, faults);
    this.pending.faults.add(target ?? null);
  }

  /** Forgets everything, pending changes included (the caller makes the empty state durable). */
  clear(): void {
    this.chargesById.clear();
    this.idByReference.clear();
    this.idByOrder.clear();
    this.tokensById.clear();
    this.unavailable.clear();
    this.unlistedIds.clear();
    this.globalFaults = {};
    this.faultsByTarget.clear();
    this.pending = nothingPending();
  }

  /** The writes since the last call, as one change; undefined when nothing changed. */
  takeChange(): SimChange | undefined {
    const pending = this.pending;
    const change: SimChange = {};
    const charges = [...pending.charges].flatMap((id) => this.chargesById.get(id) ?? []);
    if (charges.length > 0) change.charges = charges;
    if (pending.forgotten.size > 0) change.forgotten = [...pending.forgotten];
    const tokens = [...pending.tokens].flatMap((id) => this.tokensById.get(id) ?? []);
    if (tokens.length > 0) change.tokens = tokens;
    if (pending.unavailableAnswered.size > 0) change.unavailableAnswered = [...pending.unavailableAnswered];
    if (pending.unlisted.size > 0) change.unlisted = [...pending.unlisted];
    if (pending.faults.size > 0) {
      change.faults = [...pending.faults].map((target) => ({
        target,
        faults: (target === null ? this.globalFaults : this.faultsByTarget.get(target)) ?? {},
      }));
    }
    if (Object.keys(change).length === 0) return undefined;
    return change;
  }

  /** Forgets the pending writes: they are durable (written out), or were just replayed. */
  settle(): void {
    this.pending = nothingPending();
  }

  /** Replays one change: its writes, not noted as pending. */
  apply(change: SimChange): void {
    for (const chargeId of change.forgotten ?? []) this.dropCharge(chargeId);
    for (const charge of change.charges ?? []) this.writeCharge(charge);
    for (const token of change.tokens ?? []) this.tokensById.set(token.id, token);
    for (const reference of change.unavailableAnswered ?? []) this.unavailable.add(reference);
    for (const chargeId of change.unlisted ?? []) this.unlistedIds.add(chargeId);
    for (const { target, faults } of change.faults ?? []) this.writeFaults(target, faults);
  }

  /** Every record, for the snapshot. */
  records(): SimRecords {
    return {
      charges: [...this.chargesById.values()],
      tokens: [...this.tokensById.values()],
      unavailableAnswered: [...this.unavailable],
      faults: { global: this.globalFaults, byTarget: [...this.faultsByTarget.entries()] },
      unlisted: [...this.unlistedIds],
    };
  }

  /** Loads a snapshot's records, not noted as pending. */
  load(records: Partial<SimRecords>): void {
    this.apply({
      charges: records.charges ?? [],
      tokens: records.tokens ?? [],
      unavailableAnswered: records.unavailableAnswered ?? [],
      unlisted: records.unlisted ?? [],
      faults: [
        { target: null, faults: records.faults?.global ?? {} },
        ...(records.faults?.byTarget ?? []).map(([target, faults]) => ({ target, faults })),
      ],
    });
  }

  private writeCharge(charge: SimCharge): void {
    this.chargesById.set(charge.id, charge);
    this.idByReference.set(charge.referenceOrder, charge.id);
    if (charge.orderId !== undefined) this.idByOrder.set(charge.orderId, charge.id);
  }

  private dropCharge(chargeId: string): void {
    const charge = this.chargesById.get(chargeId);
    if (!charge) return;
    this.chargesById.delete(chargeId);
    // Only if the index still names this charge: a later charge may have taken the reference order.
    if (this.idByReference.get(charge.referenceOrder) === chargeId)
      this.idByReference.delete(charge.referenceOrder);
    if (charge.orderId !== undefined && this.idByOrder.get(charge.orderId) === chargeId) {
      this.idByOrder.delete(charge.orderId);
    }
    this.unlistedIds.delete(chargeId);
    this.faultsByTarget.delete(chargeId);
  }

  private writeFaults(target: string | null, faults: NotifyFaults): void {
    if (target === null) this.globalFaults = faults;
    else if (Object.keys(faults).length === 0) this.faultsByTarget.delete(target);
    else this.faultsByTarget.set(target, faults);
  }
}
