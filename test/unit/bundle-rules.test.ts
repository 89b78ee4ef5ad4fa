/**
 * What keeps the Lambda bundles lean (docs/capacity.md, "Lambda bundles"), checked on the sources so that
 * a merge that undoes it fails here rather than in `npm run bundles`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

const ROOT = new URL('../..', import.meta.url).pathname;
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const handlers = readdirSync(join(ROOT, 'functions/handlers')).filter((name) => name.endsWith('.ts'));

describe('lean bundles', () => {
  it('wires every saga task from the edges its catalog access grants, never from the saga with every edge', () => {
    const everyEdge = handlers.filter((file) =>
      /\bawsSagaDeps\b|\bawsRefundSagaDeps\b/.test(read(`functions/handlers/${file}`)),
    );
    expect(everyEdge).toEqual([]);
  });

  it('writes what every function loads (the environment and the fee table) with zod/mini only', () => {
    for (const file of ['functions/adapters/config.ts', 'schemas/settlement-fees.ts']) {
      const zodImports = [...read(file).matchAll(/from '(zod[^']*)'/g)].map((match) => match[1]);
      expect({
        file,
        zodImports: zodImports.filter((from) => from !== 'zod/mini' && from !== 'zod/locales'),
      }).toEqual({
        file,
        zodImports: [],
      });
    }
  });

  it('declares the project free of import side effects, so unused modules leave the bundles', () => {
    expect((JSON.parse(read('package.json')) as { sideEffects?: unknown }).sideEffects).toBe(false);
  });
});
