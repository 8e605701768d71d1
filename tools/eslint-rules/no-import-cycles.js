/**
 * ESLint rule `terway/no-import-cycles`, on the files under `root` (default `src`, relative to ESLint's cwd):
 *
 * - a module cycle: this file can reach itself through imports of files under root;
 * - a folder cycle: this file's folder (root's top-level folder: `src/modes`) imports another folder that imports
 *   it back, through any files (`modes/common/bandwidth.ts → bandwidth/names.ts` while
 *   the former `bandwidth/reconciler.ts → modes/…` made a folder cycle though no module was on a module cycle).
 *
 * Every reference counts, `import type` and `import()` included: a cycle through type-only imports is harmless at
 * runtime but is still two modules (or layers) that know each other, and a dynamic import is still a dependency.
 * Reported on each import that starts a cycle, with the shortest one. The graph is read from disk with
 * ../import-graph.js (the linted text for this file).
 */
import { relative, resolve, sep } from 'node:path';
import { edgesOfText, folderGraph, folderPath, shortestPath, topFolder } from '../import-graph.js';

/** @type {import('eslint').Rule.RuleModule} */
export const noImportCycles = {
  meta: {
    type: 'problem',
    docs: { description: 'disallow import cycles among the modules, and among the top-level folders, under a root folder (type-only imports count)' },
    schema: [{ type: 'object', properties: { root: { type: 'string' } }, additionalProperties: false }],
    messages: {
      cycle: 'Import cycle: {{cycle}}. Move the shared part down a layer or invert the dependency.',
      folderCycle: 'Folder import cycle: {{cycle}} ({{via}}). Move the shared part down a layer or invert the dependency.',
    },
  },
  create(context) {
    const cwd = context.cwd;
    const root = resolve(cwd, context.options[0]?.root ?? 'src');
    const file = resolve(cwd, context.filename);
    if (!file.startsWith(`${root}${sep}`)) return {};
    const rel = (f) => relative(cwd, f);
    const at = (e) => ({ start: { line: e.line, column: 0 }, end: { line: e.line, column: 1 } });
    return {
      Program() {
        const edges = edgesOfText(file, context.sourceCode.text).filter((e) => e.target !== undefined && e.target.startsWith(`${root}${sep}`));
        const seen = new Set();
        for (const e of edges) {
          if (seen.has(e.target)) continue;
          seen.add(e.target);
          const path = shortestPath(file, file, root, [e]);
          if (path !== undefined) context.report({ loc: at(e), messageId: 'cycle', data: { cycle: path.map(rel).join(' → ') } });
        }
        const mine = topFolder(root, file);
        const foreign = edges.filter((e) => topFolder(root, e.target) !== mine);
        if (foreign.length === 0) return;
        const graph = folderGraph(root, { file, edges });
        const folders = new Set();
        for (const e of foreign) {
          const theirs = topFolder(root, e.target);
          if (folders.has(theirs)) continue;
          folders.add(theirs);
          const back = folderPath(graph, theirs, mine);
          if (back === undefined) continue;
          const cycle = [mine, ...back];
          const via = cycle.slice(1).map((to, i) => {
            const [a, b] = i === 0 ? [file, e.target] : (graph.get(cycle[i])?.get(to) ?? ['?', '?']);
            return `${rel(a)} → ${rel(b)}`;
          });
          context.report({ loc: at(e), messageId: 'folderCycle', data: { cycle: cycle.map((f) => rel(resolve(root, f))).join(' → '), via: via.join('; ') } });
        }
      },
    };
  },
};
