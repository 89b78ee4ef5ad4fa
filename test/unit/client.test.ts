import { readFileSync } from 'node:fs';
import {
  asFile,
  COLLECTION_PATH,
  ENVIRONMENT_PATH,
  generateCollection,
  WALKTHROUGH,
} from '../../clients/postman/generate.js';
import { generateClientSchema, SCHEMA_PATH } from '../../clients/typescript/generate.js';
import { answer, must, ProblemError } from '../../clients/typescript/index.js';

describe('typed client', () => {
  it('is generated from the committed OpenAPI document (run `npm run openapi` after changing it)', async () => {
    expect(readFileSync(SCHEMA_PATH, 'utf8')).toEqual(await generateClientSchema());
  }, 60_000);

  it('has a Postman collection made from the committed document (run `npm run openapi` after changing it)', async () => {
    const { collection, environment } = await generateCollection();
    expect(readFileSync(COLLECTION_PATH, 'utf8')).toEqual(asFile(collection));
    expect(readFileSync(ENVIRONMENT_PATH, 'utf8')).toEqual(asFile(environment));
    // The walkthrough first, then every operation of the document in the reference folders.
    expect(collection.item[0].name).toBe(WALKTHROUGH);
    const document = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));
    const operations = Object.values(document.paths).flatMap((path) => Object.keys(path as object));
    const reference = collection.item
      .slice(1)
      .flatMap((folder: { item?: unknown[] }) => folder.item ?? [folder]);
    expect(reference).toHaveLength(operations.length);
    expect(JSON.stringify(environment)).not.toMatch(/sk_(test|live)_/);
  }, 60_000);

  const problem = { type: '/problems/no_qr', title: 'Conflict', status: 409, code: 'no_qr', detail: 'paid' };

  it('answers a success with its data and whether it was replayed under its Idempotency-Key', () => {
    const response = new Response('{}', { status: 201, headers: { 'Idempotent-Replayed': 'true' } });
    expect(answer({ data: { id: 'pay_1' }, response })).toEqual({
      ok: true,
      status: 201,
      data: { id: 'pay_1' },
      replayed: true,
    });
    expect(answer({ data: 1, response: new Response('1', { status: 200 }) })).toMatchObject({
      replayed: false,
    });
  });

  it('answers a refusal with its problem, and must() throws it as a ProblemError', () => {
    const response = new Response(JSON.stringify(problem), { status: 409 });
    expect(answer({ error: problem, response })).toEqual({ ok: false, status: 409, problem });
    const thrown = (() => {
      try {
        must({ error: problem, response });
      } catch (error) {
        return error;
      }
    })() as ProblemError;
    expect(thrown).toBeInstanceOf(ProblemError);
    expect([thrown.name, thrown.status, thrown.code, thrown.message]).toEqual([
      'ProblemError',
      409,
      'no_qr',
      '409 no_qr: paid',
    ]);
  });

  it('turns an answer that is not a problem (a proxy’s page) into one', () => {
    const result = answer({ error: '<html>Bad Gateway</html>', response: new Response('', { status: 502 }) });
    expect(result).toMatchObject({
      ok: false,
      status: 502,
      problem: { status: 502, code: 'unexpected_response' },
    });
  });
});
