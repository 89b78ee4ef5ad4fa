/**
 * The static import graph of the project's TypeScript source (import and export-from declarations, type-only
 * ones included, parsed by the TypeScript compiler), and the rules test/unit/module-structure.test.ts holds
 * it to: no cycle, and no edge from one group of files into another.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** File → the project files it imports; every path relative to the root, with forward slashes. */
export type ImportGraph = Map<string, string[]>;

export interface ScannedGraph {
  graph: ImportGraph;
  /** Relative specifiers that name no file (`from.ts: ./missing.js`): the graph would miss an edge. */
  unresolved: string[];
}

/** The relative specifiers a module imports or re-exports statically (not `import()` calls). */
export function staticImports(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const specifiers: string[] = [];
  for (const statement of source.statements) {
    if (
      (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) &&
      statement.moduleSpecifier &&
      ts.isStringLiteral(statement.moduleSpecifier)
    ) {
      specifiers.push(statement.moduleSpecifier.text);
    }
  }
  return specifiers.filter((specifier) => specifier.startsWith('.'));
}

function tsFiles(root: string, dir: string): string[] {
  const absolute = path.join(root, dir);
  if (!existsSync(absolute)) return [];
  return readdirSync(absolute, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .sort();
}

/** How nodenext resolves our specifiers: `./x.js` is `./x.ts`; JSON and directories as written. */
function resolve(root: string, from: string, specifier: string): string | null {
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  const candidates = [target.replace(/\.js$/, '.ts'), target, `${target}/index.ts`];
  for (const candidate of candidates) {
    const absolute = path.join(root, candidate);
    if (existsSync(absolute) && statSync(absolute).isFile()) return candidate;
  }
  return null;
}

/** The graph of every .ts file under `dirs` (and of the files they import, wherever those are). */
export function scanImports(root: string, dirs: readonly string[]): ScannedGraph {
  const graph: ImportGraph = new Map();
  const unresolved: string[] = [];
  const pending = dirs.flatMap((dir) => tsFiles(root, dir));
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (graph.has(file)) continue;
    const edges: string[] = [];
    graph.set(file, edges);
    if (!file.endsWith('.ts')) continue;
    for (const specifier of staticImports(file, readFileSync(path.join(root, file), 'utf8'))) {
      const target = resolve(root, file, specifier);
      if (!target) {
        unresolved.push(`${file}: ${specifier}`);
        continue;
      }
      if (!edges.includes(target)) edges.push(target);
      if (!graph.has(target)) pending.push(target);
    }
  }
  return { graph, unresolved };
}

/**
 * Every import cycle, one per strongly connected component (Tarjan), each printed as the path that closes
 * it (`a.ts → b.ts → a.ts`) and the component's other files. A file importing itself is a cycle too.
 */
export function importCycles(graph: ImportGraph): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;

  const visit = (file: string): void => {
    index.set(file, counter);
    low.set(file, counter);
    counter++;
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(file, Math.min(low.get(file) as number, index.get(next) as number));
      }
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      const selfImport = component.length === 1 && (graph.get(file) ?? []).includes(file);
      if (component.length > 1 || selfImport) components.push(component);
    }
  };
  for (const file of [...graph.keys()].sort()) if (!index.has(file)) visit(file);

  return components.map((component) => {
    const route = cyclePath(graph, new Set(component));
    const others = component.filter((file) => !route.includes(file)).sort();
    // One path per knot; the knot's other files are named too, since each of them is on some cycle.
    return others.length ? `${route.join(' → ')} (same knot: ${others.join(', ')})` : route.join(' → ');
  });
}

/** A shortest path from the component's first file (by name) back to itself, inside the component. */
function cyclePath(graph: ImportGraph, members: Set<string>): string[] {
  const start = [...members].sort()[0] as string;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift() as string;
    for (const next of graph.get(file) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const route = [start];
        for (let at: string | undefined = file; at !== undefined && at !== start; at = previous.get(at)) {
          route.splice(1, 0, at);
        }
        return [...route, start];
      }
      if (!previous.has(next)) {
        previous.set(next, file);
        queue.push(next);
      }
    }
  }
  return [start, start];
}

/**
 * The edges from files matching `from` into files matching `into`, as `importer → imported`; `allow` drops
 * edges that the rule does not forbid.
 */
export function crossings(
  graph: ImportGraph,
  from: (file: string) => boolean,
  into: (file: string) => boolean,
  allow: (importer: string, imported: string) => boolean = () => false,
): string[] {
  const found: string[] = [];
  for (const [importer, imported] of graph) {
    if (!from(importer)) continue;
    for (const target of imported) {
      if (into(target) && !allow(importer, target)) found.push(`${importer} → ${target}`);
    }
  }
  return found.sort();
}
