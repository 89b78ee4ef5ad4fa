/**
 * Running one payment saga step as its task does: on the payment the saga carries (no read of what the last
 * step just wrote), re-applied when it loses the race for that payment's version, and publishing its own
 * events once its change is recorded, so the state machine needs no state of its own for either.
 */
import { EventNotPublished } from '../errors.js';
import type { Attempt, AuditEntry, Payment } from '../payment.js';
import { auditPointsEvents, changePointsEvent } from '../points-views.js';
import type { EventPublisher } from '../ports.js';
import type { AuditPosition, PaymentRepository } from '../repository.js';
import {
  type Carried,
  type PaymentStepInput,
  type PaymentStepName,
  type PaymentStepResult,
  publishesEvents,
  type SagaEvent,
} from '../saga-contract.js';
import { DEFAULT_CONTENTION, retryOnStaleWrite } from './contention.js';
import type { PaymentStep, SagaDeps } from './payment-step.js';

/** A saga task's dependencies: a step's, and the bus its events go to. */
export interface SagaTaskDeps extends SagaDeps {
  events: EventPublisher;
}

/** What a task answers: its step's result and the payment as it left it, for the next step. */
export type PaymentTaskResult<S extends PaymentStepName> = PaymentStepResult<S> & { carried: Carried | null };

/**
 * Tries of one publish before the task gives up with EventNotPublished (the state machine then hands the
 * payment to the sweep): the bus's own throttling passes within them, an outage does not.
 */
const PUBLISH_DELAYS_MS = [100, 500];

export async function runPaymentStep<S extends PaymentStepName>(
  deps: SagaTaskDeps,
  step: PaymentStep<S>,
  input: PaymentStepInput<S>,
): Promise<PaymentTaskResult<S>> {
  const previous = input.previous;
  const tracker = carrying(deps.repo, previous?.carried ?? null);
  const contention = deps.policy.contention ?? DEFAULT_CONTENTION;
  // A step that lost the race for the payment's version re-reads and re-applies (every step starts from
  // what is recorded, so re-running it is safe): a lost race is never turned into a failure, and the
  // state machine's StaleWriteError retry is only the backstop.
  const result = await retryOnStaleWrite(contention, (tryNo) => {
    if (tryNo > 1) tracker.forget();
    return step({ ...deps, repo: tracker.repo }, input);
  });
  if (publishesEvents(step.step)) {
    // The run's creation is announced by its first step, before that step's own event; the points its
    // changes moved go out with it, in the order of the changes (a hold before the authorization, a spent
    // hold right after the capture that spent it).
    const created = previous?.outcome === 'created' && previous.event ? [previous.event] : [];
    const own = 'event' in result && result.event ? [result.event] : [];
    // A step that recorded nothing answers from the record (it ran before and may have died before its
    // publish): the points its payment moved so far go out again with its event, under their own ids.
    const points = tracker.committed()
      ? tracker.pointsEvents()
      : await recordedPointsEvents(deps.repo, tracker.latest()?.payment, own.length > 0);
    await publish(deps, [...created, ...inOrder([...own, ...points])], contention.sleep);
  }
  return { ...result, carried: step.step === 'reenter' ? null : tracker.latest() };
}

/** The points events a payment's trail records, when it has points and the step answers with an event. */
async function recordedPointsEvents(
  repo: PaymentRepository,
  payment: Payment | undefined,
  answered: boolean,
): Promise<SagaEvent[]> {
  const status = payment?.points?.status;
  if (!payment || !answered || status === undefined || status === 'pending' || status === 'declined') {
    return [];
  }
  const entries: AuditEntry[] = [];
  let after: number | AuditPosition | undefined;
  for (;;) {
    const page = await repo.listAudit(payment.id, { limit: 100, ...(after === undefined ? {} : { after }) });
    entries.push(...page.entries);
    const last = page.entries.at(-1);
    if (!page.hasMore || !last) return auditPointsEvents(payment, entries);
    after = last.noteId === undefined ? last.seq : { seq: last.seq, noteId: last.noteId };
  }
}

/** By sequence; a payment's own event before the points event of the same change (stable sort). */
function inOrder(events: SagaEvent[]): SagaEvent[] {
  return events.sort((a, b) => (a.sequence ?? 0) - (b.sequence ?? 0));
}

/** Publishes events in order, in one PutEvents; EventNotPublished once the bus refused every try. */
async function publish(
  deps: Pick<SagaTaskDeps, 'events'>,
  events: SagaEvent[],
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  if (events.length === 0) return;
  const entries = events.map((event) => ({ type: event.type, detail: { ...event } }));
  for (let tryNo = 0; ; tryNo++) {
    try {
      await deps.events.publish(entries);
      return;
    } catch {
      const delay = PUBLISH_DELAYS_MS[tryNo];
      if (delay === undefined) throw new EventNotPublished(events);
      await sleep(delay);
    }
  }
}

/**
 * The repository a step sees: the carried payment and attempt answer its first reads; every commit and
 * every read updates what is carried on. After a lost race (`forget`) it reads the record again. Every
 * commit that moved points is remembered with its points event.
 */
function carrying(repo: PaymentRepository, carried: Carried | null) {
  let known: Carried | null = carried;
  let fromCarried = carried !== null;
  // Kept across a lost race: what a commit recorded stays recorded, and its event is still to go out.
  const moved: SagaEvent[] = [];
  let commits = 0;
  const tracked: PaymentRepository = Object.assign(Object.create(repo) as PaymentRepository, {
    async get(paymentId: string): Promise<Payment | null> {
      if (fromCarried && known?.payment.id === paymentId) return known.payment;
      const payment = await repo.get(paymentId);
      if (payment) known = { payment, attempt: undefined };
      return payment;
    },
    async getAttempt(paymentId: string, no: number): Promise<Attempt | null> {
      const held = fromCarried && known?.payment.id === paymentId ? known.attempt : undefined;
      if (held && held.no === no) return held;
      const attempt = await repo.getAttempt(paymentId, no);
      if (known?.payment.id === paymentId && known.payment.attemptCount === no) known = { ...known, attempt };
      return attempt;
    },
    async commit(change: Parameters<PaymentRepository['commit']>[0], attempt?: Attempt): Promise<void> {
      await repo.commit(change, attempt);
      commits += 1;
      const points = changePointsEvent(change);
      if (points) moved.push(points);
      const current = attempt ?? (known?.payment.id === change.next.id ? known.attempt : undefined);
      known = { payment: change.next, ...(current === undefined ? {} : { attempt: current }) };
      // What this step wrote is what it may read back: the carried copy is now the record.
      fromCarried = true;
    },
  });
  return {
    repo: tracked,
    forget() {
      fromCarried = false;
      known = null;
    },
    latest(): Carried | null {
      return known;
    },
    /** The points events of the changes this step committed. */
    pointsEvents(): SagaEvent[] {
      return [...moved];
    },
    /** Whether this step recorded anything. */
    committed(): boolean {
      return commits > 0;
    },
  };
}
