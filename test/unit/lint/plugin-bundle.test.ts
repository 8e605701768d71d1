/**
 * The plugin's bundle (src/main/cni.ts, built with `bun build --compile`) imports nothing beyond an allow-list: its
 * start-up is every pod's cost, and the daemon's code (its HTTP server, SQLite, Kubernetes, SDKs) must never ride along.
 * Checked twice: with the bundler's own module graph (`bun build --metafile`, what goes into the binary) and with
 * the TypeScript parser's (tools/import-graph.js, static and dynamic imports, type-only ones erased).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { reachableFrom } from '../../../tools/import-graph.js';

const ROOT = resolve(process.cwd());
const ENTRY = 'src/main/cni.ts';

/** Built-in modules the plugin may load (node: prefix as written in the source; bun:ffi for rtnetlink, src/netlink/rtnl). */
const ALLOWED_EXTERNAL = ['bun:ffi', 'node:fs', 'node:fs/promises', 'node:path'];
/** src folders the plugin may reach; of src/main only its own entry. */
const ALLOWED_FOLDERS = ['bandwidth', 'cni', 'lib', 'modes', 'netlink', 'rpc'];
const FORBIDDEN_FOLDERS = ['daemon', 'k8s', 'cloud', 'policy', 'templates', 'store', 'gc', 'device-plugin', 'config', 'ipam'];

interface Graph {
  /** src files, relative to the repo. */
  readonly files: readonly string[];
  /** external specifier → the files importing it */
  readonly external: ReadonlyMap<string, readonly string[]>;
}

interface Metafile {
  readonly inputs: Record<string, { readonly imports: readonly { readonly path: string; readonly original?: string; readonly external?: boolean }[] }>;
}

function bunGraph(): Graph {
  const out = mkdtempSync(join(tmpdir(), 'hub-bundle-'));
  try {
    const meta = join(out, 'meta.json');
    const r = spawnSync(join(ROOT, 'node_modules/.bin/bun'), ['build', '--target=bun', ENTRY, '--outdir', out, `--metafile=${meta}`], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bun build failed (${String(r.status)}): ${r.stderr}`);
    const m = JSON.parse(readFileSync(meta, 'utf8')) as Metafile;
    const external = new Map<string, string[]>();
    for (const [file, input] of Object.entries(m.inputs)) {
      for (const i of input.imports) {
        if (i.external !== true) continue;
        const name = i.original ?? i.path;
        external.set(name, [...(external.get(name) ?? []), file]);
      }
    }
    return { files: Object.keys(m.inputs).sort(), external };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function tsGraph(): Graph {
  const r = reachableFrom(join(ROOT, ENTRY), { runtimeOnly: true });
  if (r.unresolved.length > 0) throw new Error(`unresolved imports: ${r.unresolved.join(', ')}`);
  const rel = (f: string): string => relative(ROOT, f);
  return { files: r.files.map(rel).sort(), external: new Map([...r.external].map(([k, v]) => [k, v.map(rel)])) };
}

/** What is outside the allow-lists, printed with who imports it. */
function violations(g: Graph): string[] {
  const bad: string[] = [];
  for (const [name, by] of g.external) {
    if (!ALLOWED_EXTERNAL.includes(name)) bad.push(`external ${name} (imported by ${by.join(', ')})`);
  }
  for (const f of g.files) {
    const [top, folder] = f.split('/');
    const ok = top === 'src' && (f === ENTRY || (folder !== undefined && ALLOWED_FOLDERS.includes(folder)));
    if (!ok) bad.push(`file ${f}`);
  }
  return bad;
}

function describeGraph(g: Graph): string {
  return `${String(g.files.length)} modules:\n  ${g.files.join('\n  ')}\nexternal: ${[...g.external.keys()].sort().join(', ')}`;
}

describe('the plugin bundle', () => {
  for (const [name, graph] of [['bun build --metafile', bunGraph], ['TypeScript import graph', tsGraph]] as const) {
    it(`${name}: only allow-listed built-ins and plugin-side src folders`, () => {
      const g = graph();
      const bad = violations(g);
      if (bad.length > 0) console.error(`plugin bundle beyond its allow-list:\n  ${bad.join('\n  ')}\n${describeGraph(g)}`);
      expect(bad).toEqual([]);
      expect(g.files).toContain(ENTRY);
      expect(g.files.some((f) => FORBIDDEN_FOLDERS.some((d) => f.startsWith(`src/${d}/`)))).toBe(false);
    });
  }

  it('both graphs agree (the TypeScript graph misses nothing the bundler takes)', () => {
    const b = bunGraph();
    const t = tsGraph();
    expect(b.files.filter((f) => !t.files.includes(f))).toEqual([]);
    // bun names a node: built-in by the specifier written in the source
    expect([...b.external.keys()].filter((k) => !t.external.has(k))).toEqual([]);
  });

  it('the check can fail: a graph with a daemon file or a package is reported', () => {
    const g: Graph = { files: [ENTRY, 'src/cni/add.ts', 'src/store/store.ts'], external: new Map([['node:fs', ['src/main/cni.ts']], ['better-sqlite3', ['src/store/store.ts']]]) };
    expect(violations(g)).toEqual(['external better-sqlite3 (imported by src/store/store.ts)', 'file src/store/store.ts']);
  });
});
