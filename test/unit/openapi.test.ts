import { readFileSync } from 'node:fs';
import { buildOpenApi } from '../../schemas/openapi.js';

describe('OpenAPI document', () => {
  it('matches the zod schemas (run `npm run openapi` after changing them)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(buildOpenApi())));
  });

  it('references only components it defines', () => {
    const doc = JSON.stringify(buildOpenApi());
    const defined = Object.keys((buildOpenApi().components as { schemas: object }).schemas);
    const referenced = [...doc.matchAll(/#\/components\/schemas\/([A-Za-z]+)/g)].map((m) => m[1]);
    for (const name of referenced) expect(defined).toContain(name);
  });
});
