import { randomUUID } from 'node:crypto';
import { startLocalStack } from '../local/stack.ts';
import { tokenizeTestCard, MAGIC_CARDS } from '../local/kbank-simulator.ts';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const stack = await startLocalStack({ waitScale: 0, kbankTimeoutMs: Number(process.env.KT ?? 300), kbankHangMs: 1500, costTimeoutMs: 1000, tableName: `t-${randomUUID().slice(0,6)}` });
const h = monitorEventLoopDelay({ resolution: 10 }); h.enable();
const call = async (method: string, path: string, body?: unknown, key = randomUUID()) => {
  const r = await fetch(stack.apiUrl + path, { method, headers: { Authorization: `Bearer ${stack.merchant.apiKey}`, 'Idempotency-Key': key, ...(body ? { 'Content-Type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: r.status, body: await r.json() as any };
};
const token = await tokenizeTestCard(stack.kbankUrl, MAGIC_CARDS.mastercard.number, { publicKey: stack.kbankPublicKey });
const p = await call('POST', '/v1/payments', { amount: 10000, currency: 'THB', order: { id: 'o-' + randomUUID().slice(0, 6), lines: [{ sku: 'SKU-STICKER', quantity: 4, unit_amount: 2500 }] }, customer: { id: 'c1' }, payment_method: { type: 'card', token } });
await stack.runner.waitForExecution(p.body.id, 20000);
const t0 = Date.now();
const answers = await Promise.all(Array.from({ length: 50 }, async () => { const s = Date.now(); const a = await call('POST', `/v1/payments/${p.body.id}/refunds`, { amount: 300 }); return { ...a, ms: Date.now() - s }; }));
console.log('api done', Date.now() - t0, 'ms; max', Math.max(...answers.map(a => a.ms)), 'statuses', JSON.stringify(answers.reduce((m: any, a) => { m[a.status] = (m[a.status] ?? 0) + 1; return m; }, {})));
const accepted = answers.filter(a => a.status === 202);
const ex = await Promise.all(accepted.map(a => stack.refundRunner.waitForExecution(a.body.id, 60000)));
console.log('sagas done', Date.now() - t0, 'ms', JSON.stringify(ex.reduce((m: any, e) => { const k = e.status + ':' + e.enteredStates.join('>'); m[k] = (m[k] ?? 0) + 1; return m; }, {}), null, 1));
console.log('loop delay max ms', h.max / 1e6, 'p99', h.percentile(99) / 1e6);
const charge = stack.kbank.charges().find(c => c.referenceOrder.startsWith(p.body.id));
const pay = await stack.repo.get(p.body.id);
console.log('sim refunded', charge?.refundedAmount, 'ours', pay?.amountRefunded, 'pending', pay?.amountRefundPending);
await stack.close();
process.exit(0);
