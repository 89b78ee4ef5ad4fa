/**
 * Lambda code imports zod as a namespace (`import * as z`): the named form pulls every locale into each
 * bundle (≈ 350 KB more per function, measured by `npm run bundles`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name).slice(ROOT.length));
}

it('imports zod as a namespace in everything a Lambda may bundle', () => {
  const named = [...sources('functions'), ...sources('schemas')].filter((file) =>
    /import \{ z \} from 'zod'/.test(readFileSync(join(ROOT, file), 'utf8')),
  );
  // schemas/openapi.ts builds the document at build time only; it never reaches a bundle.
  expect(named).toEqual(['schemas/openapi.ts']);
});
