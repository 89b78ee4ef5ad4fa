/** Free TCP ports for tests that need fixed ones across a restart (a stack killed and started again). */
import { createServer } from 'node:net';

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * The first of `count` consecutive ports, all free now, in 20000-29999 (away from the ports Node's fetch
 * refuses and from the local stack's defaults), starting at a random block so parallel runs (other
 * worktrees, other CI jobs on the host) rarely race for the same one.
 */
export async function freePortBlock(count: number): Promise<number> {
  const blocks = 1000;
  const start = Math.floor(Math.random() * blocks);
  for (let i = 0; i < blocks; i++) {
    const base = 20000 + ((start + i) % blocks) * 10;
    const ports = Array.from({ length: count }, (_, k) => base + k);
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports in 20000-29999`);
}
