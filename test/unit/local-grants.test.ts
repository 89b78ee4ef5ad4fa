/** The local stack's IAM: a function reaches the edges its catalog entry grants, and is refused the others on use. */
import { describe, expect, it } from '@jest/globals';
import { composeDependencies, type Edges } from '../../functions/adapters/dependencies.js';
import type { DynamoTable } from '../../functions/adapters/dynamo-repository.js';
import { CATALOG, type FunctionName } from '../../functions/catalog.js';
import type { Kbank, NotificationQueue } from '../../functions/core/ports.js';
import { AccessDeniedError, grantedEdges } from '../../local/grants.js';

/** Edges that record what reached them. */
function recordingEdges() {
  const reached: string[] = [];
  const port = <T>(edge: string) =>
    new Proxy({}, { get: (_t, method) => async () => reached.push(`${edge}.${String(method)}`) }) as T;
  const edges: Edges = {
    clock: { now: () => new Date('2026-11-22T04:00:00.000Z') },
    ids: (prefix) => `${prefix}_1`,
    settings: () => ({}),
    table: () => port<DynamoTable>('table'),
    kbank: () => port<Kbank>('kbank'),
    kbankSecret: async () => {
      reached.push('kbankSecret');
      return 'skey_test';
    },
    cost: () => port('cost'),
    paymentRuns: () => port('paymentRuns'),
    refundRuns: () => port('refundRuns'),
    tasks: () => port('tasks'),
    notifications: () => port<NotificationQueue>('notifications'),
    events: () => port('events'),
    settlements: () => port('settlements'),
    points: () => port('points'),
    webhooks: () => port('webhooks'),
    webhookSecrets: () => port('webhookSecrets'),
    webhookQueue: () => port('webhookQueue'),
    webhookSender: () => port('webhookSender'),
  };
  return { edges, reached };
}

const granted = (edges: Edges, name: FunctionName) => grantedEdges(edges, name, CATALOG[name].access);

describe('grantedEdges', () => {
  it('passes the granted edges through and refuses the others when they are called', async () => {
    const { edges, reached } = recordingEdges();
    const browserReturn = granted(edges, 'api-kbank-return');
    await browserReturn.notifications().send({} as never);
    await expect(browserReturn.table().get('pay_1')).rejects.toThrow(AccessDeniedError);
    await expect(browserReturn.table().get('pay_1')).rejects.toThrow(
      'api-kbank-return may not use table: its entry in functions/catalog.ts does not grant it',
    );
    await expect(browserReturn.kbankSecret()).rejects.toThrow('may not use kbankSecret');
    expect(reached).toEqual(['notifications.send']);
  });

  it('lets a bundle that holds a refused port be built; only a call on it fails', async () => {
    const { edges, reached } = recordingEdges();
    const saga = composeDependencies(granted(edges, 'saga-fail-payment')).saga();
    await saga.repo.get('pay_1');
    await expect(saga.kbank.voidCharge('chrg_1', 'test')).rejects.toThrow('may not use kbank');
    await expect(saga.tasks.succeed('token', {})).rejects.toThrow('saga-fail-payment may not use tasks');
    expect(reached).toEqual(['table.get']);
  });

  it('grants the sweep both sagas and KBank, and the KBank tasks KBank and its secret', async () => {
    const { edges, reached } = recordingEdges();
    const sweep = granted(edges, 'ops-sweep');
    await sweep.paymentRuns().start('pay_1', {});
    await sweep.refundRuns().start('re_1', {});
    await expect(sweep.events().publish([])).rejects.toThrow(AccessDeniedError);
    const webhook = granted(edges, 'api-kbank-webhook');
    await expect(webhook.kbankSecret()).resolves.toBe('skey_test');
    await expect(webhook.paymentRuns().start('pay_1', {})).rejects.toThrow(AccessDeniedError);
    expect(reached).toEqual(['paymentRuns.start', 'refundRuns.start', 'kbankSecret']);
  });

  it('lets the webhook delivery read signing secrets but not write them; the registry writes them and sends nothing', async () => {
    const { edges, reached } = recordingEdges();
    const deliver = granted(edges, 'webhooks-deliver');
    await deliver.webhookSecrets().get('we_1');
    await deliver.webhookSender().post('http://127.0.0.1:1/', '{}', {}, 1000);
    await expect(deliver.webhookSecrets().put('we_1', { current: 'whsec_x' })).rejects.toThrow(
      'webhooks-deliver may not use webhookSecrets',
    );
    await expect(deliver.webhookSecrets().delete('we_1')).rejects.toThrow(AccessDeniedError);
    const registry = granted(edges, 'api-create-webhook-endpoint');
    await registry.webhookSecrets().put('we_1', { current: 'whsec_x' });
    await expect(registry.webhookSender().post('http://127.0.0.1:1/', '{}', {}, 1000)).rejects.toThrow(
      AccessDeniedError,
    );
    await expect(granted(edges, 'api-list-webhook-endpoints').webhookSecrets().get('we_1')).rejects.toThrow(
      AccessDeniedError,
    );
    expect(reached).toEqual(['webhookSecrets.get', 'webhookSender.post', 'webhookSecrets.put']);
  });

  it('hands out refused ports that are not thenables, so awaiting one is harmless', async () => {
    const { edges } = recordingEdges();
    const refused = granted(edges, 'api-health').table();
    await expect(Promise.resolve(refused)).resolves.toBe(refused);
  });
});
