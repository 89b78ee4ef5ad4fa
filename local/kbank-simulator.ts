/** In-process KBank KPGW simulator: the HTTP protocol, magic test cards and test controls (docs/kbank-simulator.md). */
import type http from 'node:http';
import { resolve as resolvePath } from 'node:path';
import { refresh } from './kbank-simulator/charges.js';
import type { SimContext } from './kbank-simulator/context.js';
import { faultsFor, setFaults } from './kbank-simulator/faults.js';
import { StateJournal } from './kbank-simulator/journal.js';
import { Notifier } from './kbank-simulator/notify.js';
import { createOrphan, forgetCharge, unlistCharge } from './kbank-simulator/reconciliation.js';
import { errorReply, type Reply, SimError } from './kbank-simulator/replies.js';
import { route } from './kbank-simulator/routes.js';
import { SimState } from './kbank-simulator/state.js';
import {
  type KbankSimulator,
  type KbankSimulatorOptions,
  SIMULATOR_DEFAULTS,
} from './kbank-simulator/types.js';
import { startSimServer } from './sim-http.js';

export { luhnValid, MAGIC_CARDS, type MagicCard, tokenizeTestCard } from './kbank-simulator/test-cards.js';
export {
  type KbankSimulator,
  type KbankSimulatorOptions,
  type NotifyFaults,
  SIMULATOR_DEFAULTS,
  type SimBehaviour,
  type SimCharge,
  type SimDelivery,
  type SimOrphanRequest,
  type SimRefund,
  type SimSourceType,
  TOKEN_TTL_MS,
} from './kbank-simulator/types.js';

export async function startKbankSimulator(options: KbankSimulatorOptions = {}): Promise<KbankSimulator> {
  const state = new SimState();
  const statePath = options.statePath === undefined ? undefined : resolvePath(options.statePath);
  const journal = statePath === undefined ? undefined : StateJournal.open(state, statePath);
  const commit = journal ? () => journal.commit() : () => state.settle();
  const secretKey = options.secretKey ?? SIMULATOR_DEFAULTS.secretKey;
  const ctx: SimContext = {
    config: {
      secretKey,
      publicKey: options.publicKey ?? SIMULATOR_DEFAULTS.publicKey,
      hangMs: options.hangMs ?? SIMULATOR_DEFAULTS.hangMs,
      slowMs: options.slowMs ?? SIMULATOR_DEFAULTS.slowMs,
      qrExpiryMs: options.qrExpiryMs ?? SIMULATOR_DEFAULTS.qrExpiryMs,
      promptPay: { ...SIMULATOR_DEFAULTS.promptPay, ...options.promptPay },
    },
    now: options.now ?? (() => new Date()),
    state,
    notifier: new Notifier({
      secretKey,
      deliveryTimeoutMs: options.deliveryTimeoutMs ?? SIMULATOR_DEFAULTS.deliveryTimeoutMs,
      notifyUrl: options.notifyUrl,
      browserReturnUrl: options.browserReturnUrl,
      faultsFor: (charge) => faultsFor(state, charge),
      beforeSend: () => commit(),
    }),
    commit,
    url: '',
  };

  /** The route's answer, once every change it made is durable: what it reports must survive a SIGKILL right after. */
  async function handle(req: http.IncomingMessage): Promise<Reply> {
    let reply: Reply;
    try {
      reply = await route(ctx, req);
    } catch (error) {
      reply =
        error instanceof SimError
          ? errorReply(error.status, error.code, error.message)
          : errorReply(500, 'internal_error', 'simulator failure');
    }
    try {
      commit();
    } catch {
      return errorReply(500, 'internal_error', 'simulator failure');
    }
    return reply;
  }

  let server: Awaited<ReturnType<typeof startSimServer>>;
  try {
    server = await startSimServer({
      port: options.port ?? 0,
      host: options.host ?? SIMULATOR_DEFAULTS.host,
      handle,
      failure: errorReply(500, 'internal_error', 'simulator failure'),
    });
  } catch (error) {
    journal?.close();
    throw error;
  }
  ctx.url = server.url;

  let closing: Promise<void> | undefined;
  return {
    url: server.url,
    close() {
      closing ??= (async () => {
        ctx.notifier.dropHeld();
        try {
          await server.close();
        } finally {
          journal?.close();
        }
      })();
      return closing;
    },
    charges: () => [...state.charges()].map((charge) => structuredClone(refresh(ctx, charge))),
    reset() {
      state.clear();
      ctx.notifier.clear();
      // The empty state replaces the snapshot and the journal at once.
      journal?.compact();
    },
    setNotifyUrl(next) {
      ctx.notifier.notifyUrl = next;
    },
    setBrowserReturnUrl(next) {
      ctx.notifier.browserReturnUrl = next;
    },
    setFaults(faults, target) {
      setFaults(ctx, faults, target && ('orderId' in target ? target.orderId : target.chargeId));
      commit();
    },
    deliveries: () => ctx.notifier.deliveries(),
    flushNotifies: () => ctx.notifier.flush(),
    createOrphan: (request) => createOrphan(ctx, request),
    unlistCharge: (chargeId) => unlistCharge(ctx, chargeId),
    forgetCharge: (chargeId) => forgetCharge(ctx, chargeId),
  };
}
