/**
 * Both ASL files against the saga contract: every Choice literal is an outcome of a step that leads there,
 * every outcome has its branch, every Next names a state, every state is reachable, every task sends what
 * its step's schema parses, and no failure to publish an event compensates anything. Then the same check
 * on broken copies, so that each rule is seen to fail.
 */
import { readFileSync } from 'node:fs';
import { CATALOG } from '../../functions/catalog.js';
import {
  PAYMENT_SAGA_INPUT_CHOICES,
  PAYMENT_SAGA_TASKS,
  PAYMENT_STEP_OUTCOMES,
  PUBLISHING_STEPS,
  REFUND_SAGA_TASKS,
  REFUND_STEP_OUTCOMES,
} from '../../functions/core/saga-contract.js';
import { PAYMENT_STEP_INPUTS, REFUND_STEP_INPUTS } from '../../schemas/saga.js';
import { type Contract, contractProblems, type Definition } from '../support/saga-contract-check.js';

const read = (file: string): Definition =>
  JSON.parse(readFileSync(new URL(`../../statemachines/${file}`, import.meta.url), 'utf8'));

const PAYMENT: Contract = {
  tasks: PAYMENT_SAGA_TASKS,
  stepOutcomes: PAYMENT_STEP_OUTCOMES,
  inputs: PAYMENT_STEP_INPUTS,
  inputChoices: PAYMENT_SAGA_INPUT_CHOICES,
  publishingSteps: PUBLISHING_STEPS,
};
const REFUND: Contract = {
  tasks: REFUND_SAGA_TASKS,
  stepOutcomes: REFUND_STEP_OUTCOMES,
  inputs: REFUND_STEP_INPUTS,
};

/** A copy of the payment saga with one change made to it. */
function paymentSagaWith(change: (states: Definition['States']) => void): Definition {
  const definition = read('payment.asl.json');
  change(definition.States);
  return definition;
}

const branch = (states: Definition['States'], choice: string, outcome: string) => {
  const found = states[choice]?.Choices.find((rule: any) => rule.StringEquals === outcome);
  if (!found) throw new Error(`${choice} has no branch ${outcome}`);
  return found;
};

describe('saga contract', () => {
  it('holds for statemachines/payment.asl.json', () => {
    expect(contractProblems(read('payment.asl.json'), PAYMENT)).toEqual([]);
  });

  it('holds for statemachines/refund.asl.json', () => {
    expect(contractProblems(read('refund.asl.json'), REFUND)).toEqual([]);
  });

  it('fails on a Choice literal that is no outcome of the steps leading there (a typo)', () => {
    const broken = paymentSagaWith((states) => {
      branch(states, 'AuthorizationOutcome', 'declined').StringEquals = 'decline';
    });
    expect(contractProblems(broken, PAYMENT)).toEqual(
      expect.arrayContaining([
        'AuthorizationOutcome routes on decline, an outcome of none of Authorize, InquireAuthorization',
        "AuthorizationOutcome has no branch for Authorize's outcome declined",
        "AuthorizationOutcome has no branch for InquireAuthorization's outcome declined",
      ]),
    );
  });

  it('fails on an outcome without a branch', () => {
    const broken = paymentSagaWith((states) => {
      states.VoidOutcome!.Choices = states.VoidOutcome!.Choices.filter(
        (rule: any) => rule.StringEquals !== 'voided',
      );
    });
    expect(contractProblems(broken, PAYMENT)).toEqual([
      'Voided is unreachable from Entry',
      "VoidOutcome has no branch for VoidAuthorization's outcome voided",
    ]);
  });

  it('fails on a Next, a Default or a Catch that names a missing state, and on an unreachable state', () => {
    const broken = paymentSagaWith((states) => {
      states.Capture!.Next = 'EmitCapture';
      states.Capture!.Catch[0].Next = 'VoidAuthorisation';
      states.Orphan = { Type: 'Succeed' };
    });
    expect(contractProblems(broken, PAYMENT)).toEqual(
      expect.arrayContaining([
        'Capture goes to a missing state EmitCapture',
        'Capture goes to a missing state VoidAuthorisation',
        'Orphan is unreachable from Entry',
      ]),
    );
  });

  it('fails on a Choice default that carries on with an outcome it does not know', () => {
    const broken = paymentSagaWith((states) => {
      states.CostVerdict!.Default = 'Authorize';
    });
    expect(contractProblems(broken, PAYMENT)).toEqual([
      "CostVerdict's Default (Authorize) carries on with an outcome it does not know",
    ]);
  });

  it('fails on an outcome split on the capture method without a branch for every method', () => {
    const broken = paymentSagaWith((states) => {
      states.AuthorizationOutcome!.Choices = states.AuthorizationOutcome!.Choices.filter(
        (rule: any) => rule.Next !== 'AwaitCapture',
      );
    });
    expect(contractProblems(broken, PAYMENT)).toEqual([
      'AuthorizationOutcome has no branch for authorized with $.captureMethod = manual',
    ]);
  });

  it('fails on a failure to publish that compensates a good authorization', () => {
    const broken = paymentSagaWith((states) => {
      states.Capture!.Catch[0].Next = 'VoidAuthorization';
      states.EmitCaptureRequested!.Catch[0].Next = 'VoidAuthorization';
    });
    expect(contractProblems(broken, PAYMENT)).toEqual([
      'EmitCaptureRequested catches a failure to publish into VoidAuthorization, not a hand-over to the sweep',
      'Capture catches EventNotPublished into VoidAuthorization, not a hand-over to the sweep',
    ]);
  });

  it("fails on a payload its step's input schema would refuse", () => {
    const broken = paymentSagaWith((states) => {
      states.ExpireAction!.Parameters.Payload.reason = 'expired';
      delete states.AwaitCapture!.Parameters.Payload['captureWindowSeconds.$'];
      states.Capture!.Parameters.Payload['amount.$'] = '$.amount';
    });
    expect(contractProblems(broken, PAYMENT)).toEqual([
      'ExpireAction sends reason = "expired", which its step\'s input refuses',
      'AwaitCapture does not send captureWindowSeconds, which its step requires',
      "Capture sends amount, which its step's input does not have",
    ]);
  });

  it('fails on a Lambda task the contract does not know, and on a contract state the definition lacks', () => {
    const broken = paymentSagaWith((states) => {
      states.Inquire = states.InquireAuthorization!;
      delete states.InquireAuthorization;
      for (const state of Object.values(states)) {
        for (const next of [state, ...(state.Choices ?? []), ...(state.Catch ?? [])]) {
          if (next.Next === 'InquireAuthorization') next.Next = 'Inquire';
        }
      }
    });
    expect(contractProblems(broken, PAYMENT)).toEqual(
      expect.arrayContaining([
        'Inquire invokes a Lambda but is not in the saga contract',
        "the contract's Task state InquireAuthorization is not in the definition",
      ]),
    );
  });
});

describe('the saga contract and the catalog', () => {
  it.each([
    ['payment', PAYMENT_SAGA_TASKS],
    ['refund', REFUND_SAGA_TASKS],
  ] as const)('name, for every %s task state, a catalog function that runs its step', (saga, tasks) => {
    const bySubstitution = new Map(
      Object.values(CATALOG)
        .filter((entry) => entry.kind === 'saga-task' && entry.saga === saga)
        .map((entry) => [(entry as { substitution: string }).substitution, (entry as { step: string }).step]),
    );
    for (const [state, task] of Object.entries(tasks)) {
      expect([state, bySubstitution.get(task.functionArn)]).toEqual([state, task.step]);
    }
    // Every catalog task of this saga serves some state (no orphan function).
    const used = new Set(Object.values(tasks).map((task) => task.functionArn as string));
    expect([...bySubstitution.keys()].filter((substitution) => !used.has(substitution))).toEqual([]);
  });
});
