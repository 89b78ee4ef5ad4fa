/**
 * The shape of the source, from its static imports: no import cycle anywhere, no use case importing another
 * (what several share lives in functions/core/flows or the domain modules), and a core that knows nothing of
 * the adapters, handlers, CDK or local stack built around it. Each rule is also run on a small graph that
 * breaks it, so that a rule which could never fail would show.
 */
import path from 'node:path';
import {
  crossings,
  type ImportGraph,
  importCycles,
  scanImports,
  staticImports,
} from '../support/import-graph.js';

const ROOT = path.resolve(new URL('../..', import.meta.url).pathname);
/** Everything but the tests: Lambda code, CDK, schemas, the local stack, entry points and the benchmark. */
const SOURCE_DIRS = ['functions', 'lib', 'local', 'schemas', 'bin', 'bench'];

const USE_CASES = 'functions/core/use-cases/';
const isUseCase = (file: string) => file.startsWith(USE_CASES);
const isCore = (file: string) => file.startsWith('functions/core/');
const OUTSIDE_CORE = ['functions/adapters/', 'functions/handlers/', 'lib/', 'local/'];
const isOutsideCore = (file: string) => OUTSIDE_CORE.some((dir) => file.startsWith(dir));

/** A use case imports domain modules, flows, ports and errors: never another use case. */
const useCaseImports = (graph: ImportGraph) => crossings(graph, isUseCase, isUseCase);
/** The core is what the edges are built around: it imports none of them. */
const coreImportsOfEdges = (graph: ImportGraph) => crossings(graph, isCore, isOutsideCore);

const scanned = scanImports(ROOT, SOURCE_DIRS);

describe('the source tree', () => {
  it('reads every file it imports (an import that names no file would hide an edge)', () => {
    expect(scanned.graph.size).toBeGreaterThan(100);
    expect([...scanned.graph.keys()].filter(isUseCase).length).toBeGreaterThan(20);
    expect(scanned.unresolved).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(importCycles(scanned.graph)).toEqual([]);
  });

  it('has no use case that imports another use case', () => {
    expect(useCaseImports(scanned.graph)).toEqual([]);
  });

  it('has a core that imports no adapter, handler, CDK or local-stack module', () => {
    expect(coreImportsOfEdges(scanned.graph)).toEqual([]);
  });
});

describe('the rules, on graphs that break them', () => {
  const graph = (edges: Record<string, string[]>): ImportGraph => new Map(Object.entries(edges));

  it('finds every cycle, printed as the path that closes it', () => {
    const cycles = importCycles(
      graph({
        'a.ts': ['b.ts'],
        'b.ts': ['c.ts', 'd.ts'],
        'c.ts': ['a.ts'],
        'd.ts': [],
        'e.ts': ['e.ts'],
        'f.ts': ['g.ts'],
        'g.ts': ['f.ts', 'a.ts'],
        'h.ts': ['i.ts', 'j.ts'],
        'i.ts': ['h.ts'],
        'j.ts': ['h.ts'],
      }),
    );
    expect(cycles.sort()).toEqual([
      'a.ts → b.ts → c.ts → a.ts',
      'e.ts → e.ts',
      'f.ts → g.ts → f.ts',
      'h.ts → i.ts → h.ts (same knot: j.ts)',
    ]);
  });

  it('finds no cycle in a graph that only shares modules', () => {
    expect(importCycles(graph({ 'a.ts': ['b.ts', 'c.ts'], 'b.ts': ['c.ts'], 'c.ts': [] }))).toEqual([]);
  });

  it('refuses a use case importing a sibling, in its own group or another', () => {
    const refused = useCaseImports(
      graph({
        [`${USE_CASES}api/cancel-payment.ts`]: [
          `${USE_CASES}api/request-capture.ts`,
          'functions/core/flows/merchant-cancel.ts',
        ],
        [`${USE_CASES}payment-saga/resolve-action.ts`]: [
          `${USE_CASES}payment-saga/authorize.ts`,
          'functions/core/payment.ts',
        ],
        [`${USE_CASES}api/request-capture.ts`]: ['functions/core/flows/contention.ts'],
        'functions/handlers/api-cancel-payment.ts': [`${USE_CASES}api/cancel-payment.ts`],
      }),
    );
    expect(refused).toEqual([
      `${USE_CASES}api/cancel-payment.ts → ${USE_CASES}api/request-capture.ts`,
      `${USE_CASES}payment-saga/resolve-action.ts → ${USE_CASES}payment-saga/authorize.ts`,
    ]);
  });

  it('refuses a core module importing an adapter, a handler, the CDK or the local stack', () => {
    const refused = coreImportsOfEdges(
      graph({
        'functions/core/payment.ts': ['functions/adapters/dynamo-repository.ts', 'schemas/api.ts'],
        'functions/core/flows/notes.ts': ['local/stack.ts', 'functions/core/ids.ts'],
        'functions/core/views.ts': ['lib/stateless-stack.ts', 'functions/handlers/http.ts'],
        'functions/handlers/http.ts': ['functions/core/errors.ts', 'functions/adapters/container.ts'],
      }),
    );
    expect(refused).toEqual([
      'functions/core/flows/notes.ts → local/stack.ts',
      'functions/core/payment.ts → functions/adapters/dynamo-repository.ts',
      'functions/core/views.ts → functions/handlers/http.ts',
      'functions/core/views.ts → lib/stateless-stack.ts',
    ]);
  });

  it('reads every static import form, over several lines too, and no dynamic one', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      'import {',
      '  c,',
      '  type D,',
      "} from './c-and-d.js';",
      "import './side-effect.js';",
      "export { e } from './e.js';",
      "export * from './f.js';",
      "import * as z from 'zod';",
      "const later = await import('./dynamic.js');",
      "// import { g } from './in-a-comment.js';",
    ].join('\n');
    expect(staticImports('x.ts', text)).toEqual([
      './a.js',
      '../b.js',
      './c-and-d.js',
      './side-effect.js',
      './e.js',
      './f.js',
    ]);
  });
});
