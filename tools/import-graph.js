/**
 * The static import graph of TypeScript sources, read with the TypeScript compiler's parser (no type checking):
 * shared by the lint rule against import cycles (./eslint-rules/no-import-cycles.js) and the plugin bundle test
 * (test/unit/lint/plugin-bundle.test.ts). Only relative specifiers are resolved (`./x.js` → `x.ts`, `x/index.ts`);
 * anything else (node:*, packages) is an external module.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/**
 * Every module reference of a source text: import/export … from, side-effect imports, `import()` calls and
 * `import('x').T` types. `typeOnly` is true when the reference is erased from the JavaScript (`import type`,
 * `export type … from`, `import('x').T` in a type position).
 */
export function importsOf(fileName, text) {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out = [];
  const add = (lit, typeOnly, dynamic) => {
    out.push({ specifier: lit.text, typeOnly, dynamic, line: sf.getLineAndCharacterOfPosition(lit.getStart(sf)).line + 1 });
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier, node.importClause?.isTypeOnly === true, false);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier, node.isTypeOnly, false);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      add(node.moduleReference.expression, node.isTypeOnly, false);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] !== undefined && ts.isStringLiteralLike(node.arguments[0])) {
      add(node.arguments[0], false, true);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal, true, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The source file a relative specifier names (absolute path), or undefined when it is not relative or not found. */
export function resolveLocal(fromFile, specifier) {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return undefined;
  const base = resolve(dirname(fromFile), specifier);
  const candidates = [base.replace(/\.(m|c)?js$/u, '.$1ts'), base, `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

/** Per file (absolute path): its size+mtime and its references, so one lint run reads each file once. */
const cache = new Map();

/** The references of a file on disk, each with `target` (the resolved local file) when it is relative. */
export function edgesOf(file) {
  const st = statSync(file);
  const stamp = `${String(st.size)}:${String(st.mtimeMs)}`;
  const hit = cache.get(file);
  if (hit !== undefined && hit.stamp === stamp) return hit.edges;
  const edges = edgesOfText(file, readFileSync(file, 'utf8'));
  cache.set(file, { stamp, edges });
  return edges;
}

export function edgesOfText(file, text) {
  return importsOf(file, text).map((ref) => ({ ...ref, target: resolveLocal(file, ref.specifier) }));
}

/**
 * The modules reachable from `entry`, following local references (type-only ones too unless `runtimeOnly`; dynamic
 * `import()` ones too unless `staticOnly`: what loading the entry loads at once):
 * `files` (absolute paths, entry first), `external` (specifier → the files importing it) and `unresolved`
 * (relative specifiers that name no file, as `file: specifier`).
 */
export function reachableFrom(entry, { runtimeOnly = false, staticOnly = false } = {}) {
  const files = [];
  const external = new Map();
  const unresolved = [];
  const seen = new Set([entry]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift();
    files.push(file);
    for (const e of edgesOf(file)) {
      if ((runtimeOnly || staticOnly) && e.typeOnly) continue;
      if (staticOnly && e.dynamic) continue;
      if (e.target !== undefined) {
        if (!seen.has(e.target)) {
          seen.add(e.target);
          queue.push(e.target);
        }
      } else if (e.specifier.startsWith('.')) {
        unresolved.push(`${file}: ${e.specifier}`);
      } else {
        const by = external.get(e.specifier) ?? [];
        by.push(file);
        external.set(e.specifier, by);
      }
    }
  }
  return { files, external, unresolved };
}

/**
 * The shortest import path from `from` back to `to` through files under `root` (a list of files starting with
 * `from` and ending with `to`), or undefined. `firstEdges` replaces the references of `from` (the text being linted).
 */
export function shortestPath(from, to, root, firstEdges) {
  const inRoot = (f) => f === root || f.startsWith(`${root}/`);
  const prev = new Map();
  const queue = [];
  for (const e of firstEdges) {
    if (e.target === undefined || !inRoot(e.target) || prev.has(e.target)) continue;
    prev.set(e.target, from);
    queue.push(e.target);
  }
  while (queue.length > 0) {
    const file = queue.shift();
    if (file === to) {
      const path = [file];
      for (let f = prev.get(file); f !== from; f = prev.get(f)) path.unshift(f);
      return [from, ...path];
    }
    for (const e of edgesOf(file)) {
      if (e.target === undefined || !inRoot(e.target) || prev.has(e.target)) continue;
      prev.set(e.target, file);
      queue.push(e.target);
    }
  }
  return undefined;
}

/** Every .ts file under `dir` (absolute paths, sorted). */
export function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((d) => {
      const p = join(dir, d.name);
      if (d.isDirectory()) return sourceFiles(p);
      return d.isFile() && d.name.endsWith('.ts') ? [p] : [];
    })
    .sort();
}

/** The top-level folder of `file` under `root` (`src/gc/plan.ts` → `gc`); a file directly in root is its own. */
export function topFolder(root, file) {
  return relative(root, file).split(sep)[0];
}

/**
 * The graph of root's top-level folders: folder → (folder it imports → one witness import `[from, to]`).
 * `override` replaces the references of one file (the text being linted).
 */
export function folderGraph(root, override) {
  const graph = new Map();
  for (const file of sourceFiles(root)) {
    const edges = override !== undefined && override.file === file ? override.edges : edgesOf(file);
    const a = topFolder(root, file);
    for (const e of edges) {
      if (e.target === undefined || !e.target.startsWith(`${root}${sep}`)) continue;
      const b = topFolder(root, e.target);
      if (a === b) continue;
      const out = graph.get(a) ?? new Map();
      if (!out.has(b)) out.set(b, [file, e.target]);
      graph.set(a, out);
    }
  }
  return graph;
}

/** The shortest folder path from `from` to `to` in a folderGraph (both ends included), or undefined. */
export function folderPath(graph, from, to) {
  const prev = new Map([[from, undefined]]);
  const queue = [from];
  while (queue.length > 0) {
    const f = queue.shift();
    if (f === to) {
      const path = [];
      for (let x = f; x !== undefined; x = prev.get(x)) path.unshift(x);
      return path;
    }
    for (const next of (graph.get(f) ?? new Map()).keys()) {
      if (prev.has(next)) continue;
      prev.set(next, f);
      queue.push(next);
    }
  }
  return undefined;
}
