/** `npm run shop`: the example shop against the running local stack (`npm start` first). */
import { readFileSync } from 'node:fs';
import { startShop } from './server.js';

const stackFile = new URL('../../.local/stack.json', import.meta.url);
let stack: { apiUrl: string; apiKey: string; kbankUrl: string; kbankPublicKey: string };
try {
  stack = JSON.parse(readFileSync(stackFile, 'utf8'));
} catch {
  console.error('No .local/stack.json: start the local stack first (npm start), then npm run shop.');
  process.exit(1);
}
const shop = await startShop({
  apiUrl: process.env.PAYMENTS_API_URL ?? stack.apiUrl,
  apiKey: process.env.PAYMENTS_API_KEY ?? stack.apiKey,
  kbankUrl: process.env.KBANK_URL ?? stack.kbankUrl,
  kbankPublicKey: process.env.KBANK_PUBLIC_KEY ?? stack.kbankPublicKey,
  port: Number(process.env.SHOP_PORT ?? 3008),
});
console.log(
  `Example shop on ${shop.url} (payments API ${stack.apiUrl}). Test cards: docs/kbank-simulator.md. Ctrl-C stops it.`,
);
process.on('SIGINT', () => void shop.close().then(() => process.exit(0)));
process.on('SIGTERM', () => void shop.close().then(() => process.exit(0)));
