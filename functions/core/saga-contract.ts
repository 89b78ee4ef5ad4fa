/**
 * The typed contract between the saga Lambdas and the state machines (statemachines/*.asl.json): each step's
 * input and outcome union, declared once, and per Task state the step it invokes and the outcomes its result
 * carries. The steps' result types are built from it; test/unit/saga-contract.test.ts holds both ASL files to
 * it (every Choice literal, every outcome routed, every Next and every state reachable).
 */
import type { PaymentEventDetail, PointsEventDetail, RefundEventDetail } from '../../schemas/events.js';
import type { Attempt, CaptureMethod, Payment } from './payment.js';

/** An event either saga publishes: a payment's, one of its refunds', or a movement of its points. */
export type SagaEvent = PaymentEventDetail | RefundEventDetail | PointsEventDetail;

/** The error a failed state hands to the next task (Step Functions' `{Error, Cause}`). */
export interface TaskError {
  Error: string;
  Cause?: string;
}

// ---------------------------------------------------------------------------------------------------------
// The payment saga (statemachines/payment.asl.json)

/** Where a saga run the reconciliation sweep started takes over from the record (Reenter's routes). */
export const REENTRY_ROUTES = [
  'done',
  'verify',
  'inquire',
  'resolve_action',
  'await_capture',
  'cancel_action',
  /** The authorization's event was just redelivered: on to capture (or the wait for it), not to inquiry. */
  'choose_capture',
  /** The capture request's event was just redelivered: capture it. */
  'capture',
] as const;
export type ReentryRoute = (typeof REENTRY_ROUTES)[number];

/** Each payment saga step's outcomes: what its result's `outcome` can be, and so what the ASL routes on. */
export const PAYMENT_STEP_OUTCOMES = {
  /** Routes, or `redeliver` (an event held on the payment goes out first), or `held` (handed over). */
  reenter: [...REENTRY_ROUTES, 'redeliver', 'held'],
  verifyCost: ['verified', 'rejected'],
  /** `unknown`: KBank's answer was not seen (the inquiry decides); `retry`: send again. */
  authorize: ['authorized', 'declined', 'requires_action', 'retry', 'unknown'],
  inquireAuthorization: ['authorized', 'declined', 'requires_action', 'retry'],
  /** Its own answer only says the wait began; the callback's output is the state's result. */
  awaitAction: ['waiting'],
  resolveAction: ['authorized', 'paid', 'declined', 'expired', 'canceled', 'waiting'],
  awaitCapture: ['waiting'],
  capture: ['captured'],
  /** `captured`: the charge turned out settled (or a capture was asked for): recorded as captured. */
  voidAuthorization: ['voided', 'captured'],
  failPayment: ['failed'],
} as const;

export type PaymentStepName = keyof typeof PAYMENT_STEP_OUTCOMES;

/**
 * The steps that publish their own events once their change is recorded (flows/payment-task.ts); a failure
 * to publish is EventNotPublished, which their states hand over to the sweep. Reenter's events are held
 * ones, published by the state machine's RedeliverEvent; the parked tasks record no event.
 */
export const PUBLISHING_STEPS = [
  'verifyCost',
  'authorize',
  'inquireAuthorization',
  'resolveAction',
  'capture',
  'voidAuthorization',
  'failPayment',
] as const satisfies readonly PaymentStepName[];

export function publishesEvents(step: PaymentStepName): boolean {
  return (PUBLISHING_STEPS as readonly PaymentStepName[]).includes(step);
}
export type PaymentOutcome<S extends PaymentStepName> = (typeof PAYMENT_STEP_OUTCOMES)[S][number];

/** Why ResolveAction runs: a callback woke the saga, the wait timed out, or the merchant canceled. */
export const RESOLVE_REASONS = ['notified', 'timed_out', 'canceled'] as const;
export type ResolveReason = (typeof RESOLVE_REASONS)[number];

/**
 * What the saga carries from one step to the next: the payment (and its current attempt) as the last step
 * recorded or read it, with its version, so the next step need not read it again. A step that loses the race
 * for that version reads the record and applies itself again (flows/contention.ts).
 */
export interface Carried {
  payment: Payment;
  attempt?: Attempt | null;
}

/**
 * The previous step's result, as the state machine holds it (`$.step`): what the next step may use instead
 * of a read. At the start of a run it is the creation's: `payment.created`, which the first step publishes.
 */
export interface PreviousStep {
  outcome: string;
  event?: SagaEvent | null;
  carried?: Carried | null;
  /** VerifyCost's: the order's cost it confirmed, which Authorize records with its write-ahead. */
  verification?: CostVerification | null;
}

/** The order's total the cost service confirmed, and when: recorded by the next commit (cost.verified). */
export interface CostVerification {
  totalAmount: number;
  verifiedAt: string;
}

/** The run's first `$.step`: the payment just created and its event, which VerifyCost (or FailPayment) publishes first. */
export interface CreatedStep extends PreviousStep {
  outcome: 'created';
  event: PaymentEventDetail;
  carried: Carried | null;
}

export interface PaymentTaskInput {
  paymentId: string;
  /** The previous step's result (`$.step`), when the state machine hands it over. */
  previous?: PreviousStep;
}

/** A compensation's input: the error that led the saga there. */
export interface CompensationInput extends PaymentTaskInput {
  error?: TaskError;
}

/**
 * Reenter's three uses. Plain: take over from the record. `delivered`: an event held on the payment was
 * just published again (it is released, then Reenter takes over). `undelivered`: the saga hands the payment
 * to the sweep (an event the bus refused, or an outcome no Choice knew): the event, if any, is held on the
 * payment until a resumed run publishes it.
 */
export interface ReentryInput extends PaymentTaskInput {
  delivered?: SagaEvent;
  undelivered?: SagaEvent | null;
  /** A step recorded its change but could not publish these (EventNotPublished): held, oldest first. */
  unpublished?: SagaEvent[];
}

export interface PaymentStepInputs {
  reenter: ReentryInput;
  verifyCost: PaymentTaskInput;
  authorize: PaymentTaskInput;
  inquireAuthorization: PaymentTaskInput;
  awaitAction: PaymentTaskInput & { taskToken: string };
  resolveAction: PaymentTaskInput & { reason: ResolveReason };
  awaitCapture: PaymentTaskInput & { taskToken: string; captureWindowSeconds: number };
  capture: PaymentTaskInput;
  voidAuthorization: CompensationInput;
  failPayment: CompensationInput;
}
export type PaymentStepInput<S extends PaymentStepName> = PaymentStepInputs[S];

/**
 * What a step hands back to the state machine: `outcome` drives its Choice states; `event` (when set) is the
 * step's own, which its task publishes once the change is recorded (Reenter's is published by the state
 * machine's RedeliverEvent); `carried`, added by the task, is the payment for the next step.
 */
export interface StepResult<O extends string = string, E extends SagaEvent = PaymentEventDetail> {
  outcome: O;
  event: E | null;
  carried?: Carried | null;
  /** While the customer acts: how long the saga waits for KBank's callback (the wait's TimeoutSeconds). */
  waitSeconds: number | null;
}

/** Reenter's result: the event to publish again on `redeliver`; the time left on the capture window. */
export type ReentryResult = StepResult<PaymentOutcome<'reenter'>, SagaEvent> & {
  remainingSeconds: number | null;
};

export interface PaymentStepResults {
  reenter: ReentryResult;
  /** `verification`: the cost just confirmed and not recorded yet (null when on record, or rejected). */
  verifyCost: StepResult<PaymentOutcome<'verifyCost'>> & { verification: CostVerification | null };
  authorize: StepResult<PaymentOutcome<'authorize'>>;
  inquireAuthorization: StepResult<PaymentOutcome<'inquireAuthorization'>>;
  awaitAction: { outcome: PaymentOutcome<'awaitAction'> };
  resolveAction: StepResult<PaymentOutcome<'resolveAction'>>;
  awaitCapture: { outcome: PaymentOutcome<'awaitCapture'> };
  capture: StepResult<PaymentOutcome<'capture'>>;
  voidAuthorization: StepResult<PaymentOutcome<'voidAuthorization'>>;
  failPayment: StepResult<PaymentOutcome<'failPayment'>>;
}
export type PaymentStepResult<S extends PaymentStepName> = PaymentStepResults[S];

/** What resumes AwaitAction (SendTaskSuccess from the callback processor): only that a callback came. */
export interface ActionCallback {
  outcome: 'notified';
}

/** What resumes AwaitCapture (SendTaskSuccess from the capture and amount-change requests, or itself). */
export type CaptureCallback =
  | { outcome: 'capture_requested'; event: PaymentEventDetail }
  | { outcome: 'amount_changed'; event: PaymentEventDetail; remainingSeconds: number };

/** The input every payment saga run starts with (create-payment, and the sweep's restarts). */
export interface PaymentSagaInput {
  paymentId: string;
  captureMethod: CaptureMethod;
  /** How long AwaitCapture parks first (manual capture). */
  captureWindowSeconds: number;
  /** A run from the beginning: the creation (`payment.created`, published first, and the payment written). */
  step?: CreatedStep;
  /** A run the sweep started for a saga that died, was lost or handed over: Reenter takes over. */
  resume?: true;
}

export const CAPTURE_METHODS = ['automatic', 'manual'] as const satisfies readonly CaptureMethod[];

// ---------------------------------------------------------------------------------------------------------
// The refund saga (statemachines/refund.asl.json)

export const REFUND_STEP_OUTCOMES = {
  refundAtKbank: ['succeeded', 'failed', 'unknown'],
  /** `resend`: every request sent is known not carried out; `unknown`: the inquiry ended with no verdict. */
  inquireRefund: ['succeeded', 'failed', 'unknown', 'resend'],
  /** `held`: the refund's event, refused by the bus, is held on the payment for its reentry to publish. */
  refundUnresolved: ['succeeded', 'failed', 'unknown', 'held'],
} as const;

export type RefundStepName = keyof typeof REFUND_STEP_OUTCOMES;
export type RefundOutcome<S extends RefundStepName> = (typeof REFUND_STEP_OUTCOMES)[S][number];

export interface RefundTaskInput {
  paymentId: string;
  refundId: string;
  error?: TaskError;
}

export interface RefundStepInputs {
  refundAtKbank: RefundTaskInput;
  inquireRefund: RefundTaskInput;
  /**
   * `undelivered`: the refund saga hands its event (if any: the refund's, or the points it gave back) to
   * the payment for the sweep to publish.
   */
  refundUnresolved: RefundTaskInput & { undelivered?: RefundEventDetail | PointsEventDetail | null };
}
export type RefundStepInput<S extends RefundStepName> = RefundStepInputs[S];

/**
 * `outcome` drives the refund state machine's Choice states; `event` (for final outcomes) is published as-is
 * by its `events:putEvents` states, then `pointsEvent` (when a succeeded refund gave points back:
 * `points.refunded`) by EmitPointsRefunded. The task always answers `pointsEvent` (null when none): the
 * state's ResultSelector selects it.
 */
export interface RefundStepResult<O extends string = string> {
  outcome: O;
  event: RefundEventDetail | null;
  pointsEvent?: PointsEventDetail | null;
}
export type RefundStepResultOf<S extends RefundStepName> = RefundStepResult<RefundOutcome<S>>;

/** The input every refund saga run starts with (create-refund, and the sweep's restarts). */
export interface RefundSagaInput {
  paymentId: string;
  refundId: string;
}

// ---------------------------------------------------------------------------------------------------------
// Per Task state: what each one invokes and what its result carries

export interface TaskContract<Step extends string, Outcome extends string> {
  /** The definition substitution that names the state's Lambda function. */
  functionArn: string;
  step: Step;
  /** The outcomes the state's result carries: its step's, or fewer; a callback task's, the callback's. */
  outcomes: readonly Outcome[];
  /** `hand_over`: gives the execution up to the reconciliation sweep, then fails (where an Emit* catches). */
  role?: 'hand_over';
  /** A `.waitForTaskToken` task: its result is what resumed it, not its Lambda's own answer. */
  resultFrom?: 'callback';
}

type PaymentTasks = {
  [state: string]: {
    [S in PaymentStepName]: TaskContract<S, PaymentOutcome<S> | 'notified' | CaptureCallback['outcome']>;
  }[PaymentStepName];
};

const REENTRY_OUTCOMES = [...REENTRY_ROUTES, 'redeliver'] as const;
const HELD = ['held'] as const;

export const PAYMENT_SAGA_TASKS = {
  Reenter: { functionArn: 'ReenterFunctionArn', step: 'reenter', outcomes: REENTRY_OUTCOMES },
  EventRedelivered: { functionArn: 'ReenterFunctionArn', step: 'reenter', outcomes: REENTRY_OUTCOMES },
  HandOverEvent: { functionArn: 'ReenterFunctionArn', step: 'reenter', outcomes: HELD, role: 'hand_over' },
  HandOverUnpublished: {
    functionArn: 'ReenterFunctionArn',
    step: 'reenter',
    outcomes: HELD,
    role: 'hand_over',
  },
  HandOverCapture: { functionArn: 'ReenterFunctionArn', step: 'reenter', outcomes: HELD, role: 'hand_over' },
  HandOverUnexpectedCallback: {
    functionArn: 'ReenterFunctionArn',
    step: 'reenter',
    outcomes: HELD,
    role: 'hand_over',
  },
  HandOverUnexpectedOutcome: {
    functionArn: 'ReenterFunctionArn',
    step: 'reenter',
    outcomes: HELD,
    role: 'hand_over',
  },
  VerifyCost: {
    functionArn: 'VerifyCostFunctionArn',
    step: 'verifyCost',
    outcomes: PAYMENT_STEP_OUTCOMES.verifyCost,
  },
  Authorize: {
    functionArn: 'AuthorizeFunctionArn',
    step: 'authorize',
    outcomes: PAYMENT_STEP_OUTCOMES.authorize,
  },
  InquireAuthorization: {
    functionArn: 'InquireAuthorizationFunctionArn',
    step: 'inquireAuthorization',
    outcomes: PAYMENT_STEP_OUTCOMES.inquireAuthorization,
  },
  AwaitAction: {
    functionArn: 'AwaitActionFunctionArn',
    step: 'awaitAction',
    outcomes: ['notified'],
    resultFrom: 'callback',
  },
  ResolveAction: {
    functionArn: 'ResolveActionFunctionArn',
    step: 'resolveAction',
    outcomes: PAYMENT_STEP_OUTCOMES.resolveAction,
  },
  ExpireAction: {
    functionArn: 'ResolveActionFunctionArn',
    step: 'resolveAction',
    outcomes: PAYMENT_STEP_OUTCOMES.resolveAction,
  },
  CancelAction: {
    functionArn: 'ResolveActionFunctionArn',
    step: 'resolveAction',
    outcomes: PAYMENT_STEP_OUTCOMES.resolveAction,
  },
  AwaitCapture: {
    functionArn: 'AwaitCaptureFunctionArn',
    step: 'awaitCapture',
    outcomes: ['capture_requested', 'amount_changed'],
    resultFrom: 'callback',
  },
  Capture: { functionArn: 'CaptureFunctionArn', step: 'capture', outcomes: PAYMENT_STEP_OUTCOMES.capture },
  VoidAuthorization: {
    functionArn: 'VoidFunctionArn',
    step: 'voidAuthorization',
    outcomes: PAYMENT_STEP_OUTCOMES.voidAuthorization,
  },
  FailPayment: {
    functionArn: 'FailPaymentFunctionArn',
    step: 'failPayment',
    outcomes: PAYMENT_STEP_OUTCOMES.failPayment,
  },
} as const satisfies PaymentTasks;

type RefundTasks = {
  [state: string]: { [S in RefundStepName]: TaskContract<S, RefundOutcome<S>> }[RefundStepName];
};

export const REFUND_SAGA_TASKS = {
  RefundAtKbank: {
    functionArn: 'RefundAtKbankFunctionArn',
    step: 'refundAtKbank',
    outcomes: REFUND_STEP_OUTCOMES.refundAtKbank,
  },
  InquireRefund: {
    functionArn: 'InquireRefundFunctionArn',
    step: 'inquireRefund',
    outcomes: REFUND_STEP_OUTCOMES.inquireRefund,
  },
  RefundUnresolved: {
    functionArn: 'RefundUnresolvedFunctionArn',
    step: 'refundUnresolved',
    outcomes: ['succeeded', 'failed', 'unknown'],
  },
  HandOverRefundEvent: {
    functionArn: 'RefundUnresolvedFunctionArn',
    step: 'refundUnresolved',
    outcomes: HELD,
    role: 'hand_over',
  },
  HandOverPointsEvent: {
    functionArn: 'RefundUnresolvedFunctionArn',
    step: 'refundUnresolved',
    outcomes: HELD,
    role: 'hand_over',
  },
  HandOverUnexpectedOutcome: {
    functionArn: 'RefundUnresolvedFunctionArn',
    step: 'refundUnresolved',
    outcomes: HELD,
    role: 'hand_over',
  },
} as const satisfies RefundTasks;

/** Choice states that route on the execution's own input (not a step's outcome): the values it can hold. */
export const PAYMENT_SAGA_INPUT_CHOICES = { '$.captureMethod': CAPTURE_METHODS } as const;
