/**
 * The catalog against everything that names a function on its own: the handler files, the `${…}` of both
 * ASL files and the OpenAPI document, each in both directions (the CDK routes: test/infra/catalog.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { CATALOG, FUNCTION_NAMES, functionsOf, type SagaName, sagaTasksOf } from '../../functions/catalog.js';
import { buildOpenApi } from '../../schemas/openapi.js';

const HANDLERS_DIR = new URL('../../functions/handlers/', import.meta.url);
const ASL: Record<SagaName, string> = {
  payment: readFileSync(new URL('../../statemachines/payment.asl.json', import.meta.url), 'utf8'),
  refund: readFileSync(new URL('../../statemachines/refund.asl.json', import.meta.url), 'utf8'),
};
/** Substituted by the stacks for every saga, not by a function. */
const SHARED_SUBSTITUTIONS = ['EventBusName'];

type Parameter = { name: string; in: string };

const substitutionsIn = (definition: string) =>
  new Set([...definition.matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((match) => match[1] as string));

describe('the catalog and the handler modules', () => {
  const files = readdirSync(HANDLERS_DIR)
    .filter((file) => file.endsWith('.ts'))
    .map((file) => file.replace(/\.ts$/, ''));

  it.each(FUNCTION_NAMES)('%s has its module, exporting handler and createHandler', async (name) => {
    expect(files).toContain(name);
    const module = (await import(`../../functions/handlers/${name}.js`)) as Record<string, unknown>;
    expect(typeof module.handler).toBe('function');
    expect(typeof module.createHandler).toBe('function');
  });

  it('has an entry for every module that exports a Lambda handler (the others are shared kits)', async () => {
    const unlisted: string[] = [];
    for (const file of files) {
      const module = (await import(`../../functions/handlers/${file}.js`)) as Record<string, unknown>;
      if ('handler' in module && !(file in CATALOG)) unlisted.push(file);
    }
    expect(unlisted).toEqual([]);
    // Control: the kits really are modules without a handler, so the check above is not vacuous.
    expect(files.filter((file) => !(file in CATALOG)).sort()).toEqual([
      'http',
      'http-request',
      'idempotency',
      'logger',
      'payment-list',
      'points-api',
      'problem-pages',
      'refund-task',
      'saga',
      'settlement-api',
      'sqs-batch',
      'webhook-api',
    ]);
  });
});

describe.each(['payment', 'refund'] as const)('the catalog and statemachines/%s.asl.json', (saga) => {
  const used = substitutionsIn(ASL[saga]);
  const tasks = sagaTasksOf(saga);

  it('has a task entry for every ${…FunctionArn} of the definition', () => {
    const declared = new Set(tasks.map((task) => task.substitution as string));
    const undeclared = [...used].filter((key) => !declared.has(key) && !SHARED_SUBSTITUTIONS.includes(key));
    expect(undeclared).toEqual([]);
    expect(used.size).toBeGreaterThan(SHARED_SUBSTITUTIONS.length);
  });

  it('has no task entry the definition does not use', () => {
    expect(tasks.filter((task) => !used.has(task.substitution)).map((task) => task.name)).toEqual([]);
  });
});

describe('the catalog and the OpenAPI document', () => {
  const paths = buildOpenApi().paths as Record<string, Record<string, { security?: unknown[] }>>;
  const documented = Object.entries(paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
  );
  const routes = functionsOf('api').map(({ route }) => `${route.method} ${route.path}`);

  it('documents exactly the routes of the API functions', () => {
    expect([...documented].sort()).toEqual([...routes].sort());
    expect(new Set(routes).size).toBe(routes.length);
  });

  it("declares exactly each route's path parameters", () => {
    for (const { name, route } of functionsOf('api')) {
      const operation = paths[route.path]?.[route.method.toLowerCase()] as { parameters?: Parameter[] };
      const declared = (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      const inPath = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      expect({ name, parameters: declared.sort() }).toEqual({ name, parameters: inPath.sort() });
    }
  });

  it('asks for the bearer key exactly on the routes behind the authorizer', () => {
    for (const { name, route } of functionsOf('api')) {
      const operation = paths[route.path]?.[route.method.toLowerCase()];
      expect({ name, public: operation?.security?.length === 0 }).toEqual({
        name,
        public: route.auth === 'none',
      });
    }
  });
});

describe('the catalog itself', () => {
  it('says why each public route may be public, and only those', () => {
    for (const { name, route } of functionsOf('api')) {
      expect({ name, reason: Boolean(route.publicBecause) }).toEqual({ name, reason: route.auth === 'none' });
    }
  });

  it('has one authorizer for the API and one consumer for the notification queue', () => {
    expect(functionsOf('authorizer')).toHaveLength(1);
    expect(functionsOf('queue-consumer').filter((fn) => fn.queue === 'notifications')).toHaveLength(1);
  });

  it('gives each saga task its own substitution', () => {
    const keys = functionsOf('saga-task').map((task) => task.substitution);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
