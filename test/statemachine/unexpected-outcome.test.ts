/**
 * An outcome no Choice knows (a step and the ASL out of contract) is never guessed into a branch: the real
 * payment ASL, run with the real handlers on the local stack's DynamoDB Local, KBank simulator and bus, but
 * with an Authorize whose answer is misspelt, ends in the UnexpectedOutcome Fail state with the event held;
 * the stack's reconciliation sweep resumes the saga, which publishes the event once and finishes the payment.
 */
import { readFileSync } from 'node:fs';
import { createKbankClient } from '../../functions/adapters/kbank-client.js';
import { CATALOG } from '../../functions/catalog.js';
import { DEFAULT_POLICY, type PaymentStep, startStep } from '../../functions/core/flows/payment-step.js';
import type { SagaTaskDeps } from '../../functions/core/flows/payment-task.js';
import { ulid } from '../../functions/core/ids.js';
import { newPayment } from '../../functions/core/payment.js';
import { systemClock } from '../../functions/core/ports.js';
import { PAYMENT_SAGA_TASKS, type PaymentSagaInput } from '../../functions/core/saga-contract.js';
import { authorize } from '../../functions/core/use-cases/payment-saga/authorize.js';
import { awaitAction } from '../../functions/core/use-cases/payment-saga/await-action.js';
import { awaitCapture } from '../../functions/core/use-cases/payment-saga/await-capture.js';
import { capture } from '../../functions/core/use-cases/payment-saga/capture.js';
import { failPayment } from '../../functions/core/use-cases/payment-saga/fail-payment.js';
import { inquireAuthorization } from '../../functions/core/use-cases/payment-saga/inquire-authorization.js';
import { reenter } from '../../functions/core/use-cases/payment-saga/reenter.js';
import { resolveAction } from '../../functions/core/use-cases/payment-saga/resolve-action.js';
import { verifyCost } from '../../functions/core/use-cases/payment-saga/verify-cost.js';
import { voidAuthorization } from '../../functions/core/use-cases/payment-saga/void-authorization.js';
import { type PaymentSagaTask, sagaTask } from '../../functions/handlers/saga.js';
import { type AslRunner, createAslRunner } from '../../local/asl-runner.js';
import { MAGIC_CARDS } from '../../local/kbank-simulator.js';
import { lambdaContext } from '../../local/lambda-context.js';
import { KBANK_SECRET, type LocalStack } from '../../local/stack.js';
import { startTestStack, tokenize } from '../support/stack.js';

const STEPS: PaymentStep[] = [
  reenter,
  verifyCost,
  authorize,
  inquireAuthorization,
  awaitAction,
  resolveAction,
  awaitCapture,
  capture,
  voidAuthorization,
  failPayment,
];

let stack: LocalStack;
let runner: AslRunner;
beforeAll(async () => {
  stack = await startTestStack();
  const deps: SagaTaskDeps = {
    repo: stack.repo,
    events: {
      publish: async (entries) => {
        stack.bus.putEvents(
          entries.map((e) => ({
            EventBusName: 'payments',
            Source: 'payments',
            DetailType: e.type,
            Detail: e.detail,
          })),
        );
      },
    },
    kbank: createKbankClient({ baseUrl: stack.kbankUrl, secretKey: KBANK_SECRET, timeoutMs: 2000 }),
    cost: {
      quote: () => Promise.reject(new Error('the payments here are verified before the saga starts')),
    },
    clock: systemClock,
    policy: DEFAULT_POLICY,
    tasks: {
      succeed: () => Promise.reject(new Error('no callback task runs here')),
      fail: () => Promise.reject(new Error('no callback task runs here')),
    },
  };
  const substitutions: Record<string, string> = { EventBusName: 'payments' };
  const lambdas: Record<string, (event: unknown) => Promise<unknown>> = {};
  for (const { functionArn, step: name } of Object.values(PAYMENT_SAGA_TASKS)) {
    const step = STEPS.find((candidate) => candidate.step === name);
    if (!step) throw new Error(`no step ${name}`);
    const fn = Object.entries(CATALOG).find(
      ([, entry]) => entry.kind === 'saga-task' && entry.step === name,
    )?.[0] as PaymentSagaTask;
    const handler = sagaTask(fn, step, () => deps);
    const arn = `arn:aws:lambda:us-east-1:000000000000:function:${name}`;
    substitutions[functionArn] = arn;
    // The one break: Authorize records the authorization, then answers an outcome no Choice has.
    lambdas[arn] = async (event) => {
      const result = (await handler(event, lambdaContext(name))) as { outcome: string };
      return name === 'authorize' && result.outcome === 'authorized'
        ? { ...result, outcome: 'authorised' }
        : result;
    };
  }
  runner = createAslRunner({
    definition: readFileSync(new URL('../../statemachines/payment.asl.json', import.meta.url), 'utf8'),
    substitutions,
    lambdas,
    eventBus: stack.bus,
    waitScale: 0,
    stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:out-of-contract',
  });
});
afterAll(async () => {
  await runner?.stop();
  await stack?.close();
});

it('ends in UnexpectedOutcome with the payment due, and the sweep resumes the saga from the record', async () => {
  const { payment, audit } = newPayment(
    {
      id: `pay_${ulid()}`,
      merchantId: stack.merchant.id,
      amount: 72500,
      currency: 'THB',
      captureMethod: 'automatic',
      order: { id: `order-${ulid()}`, lines: [{ sku: 'SKU-TSHIRT', quantity: 1, unitAmount: 72500 }] },
      customer: { id: 'cus-42' },
      paymentMethod: { type: 'card', token: await tokenize(stack, MAGIC_CARDS.visa.number) },
      verifiedAt: new Date().toISOString(),
    },
    new Date(),
  );
  await stack.repo.create(payment, audit);
  runner.startExecution(payment.id, {
    paymentId: payment.id,
    captureMethod: 'automatic',
    captureWindowSeconds: 600,
    step: startStep(payment, true),
  } satisfies PaymentSagaInput);
  const failed = await runner.waitForExecution(payment.id, 20_000);
  expect(failed).toMatchObject({ status: 'FAILED', error: 'UnexpectedOutcome', cause: 'authorised' });
  // Nothing guessed: no inquiry, no void, no capture.
  expect(failed.enteredStates.slice(-4)).toEqual([
    'Authorize',
    'AuthorizationOutcome',
    'HandOverUnexpectedOutcome',
    'UnexpectedOutcome',
  ]);
  // Authorize published its event with its change: nothing is held, the payment is made due.
  const held = await stack.repo.get(payment.id);
  expect(held).toMatchObject({ status: 'processing', amountAuthorized: 72500 });
  expect(held?.undeliveredEvents).toBeUndefined();
  expect(stack.bus.events({ paymentId: payment.id }).map((event) => event.detailType)).toEqual([
    'payment.created',
    'payment.authorized',
  ]);
  expect((await stack.repo.listDue('9999-12-31', 1000)).some((item) => item.paymentId === payment.id)).toBe(
    true,
  );

  // The stack's own saga (in contract) takes over where the record stands.
  expect(await stack.sweep()).toMatchObject({ restarted: 1, errors: 0 });
  const resumed = await stack.runner.waitForExecution(payment.id, 20_000);
  expect(resumed.status).toBe('SUCCEEDED');
  expect(await stack.repo.get(payment.id)).toMatchObject({ status: 'succeeded', amountCaptured: 72500 });
  // The resumed run inquires (the record alone cannot tell that the event left) and announces the
  // authorization again, under the version the sweep's restart recorded, before the capture.
  const types = stack.bus.events({ paymentId: payment.id }).map((event) => event.detailType);
  expect(types).toEqual(['payment.created', 'payment.authorized', 'payment.authorized', 'payment.captured']);
  const charges = stack.kbank.charges().filter((c) => c.referenceOrder.startsWith(payment.id));
  expect(charges).toHaveLength(1);
  expect(charges[0]?.state).toBe('Settled');
});
