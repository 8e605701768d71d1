/**
 * The layering rules (tools/eslint-rules/layering.js) can fail: run through ESLint's API on a small fixture tree
 * with module cycles (value and type-only), a folder cycle and forbidden imports of src/daemon, they report each; on the real
 * src/** they report nothing; and the project's eslint.config.js applies them.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { layering } from '../../../tools/eslint-rules/layering.js';

const ROOT = resolve(process.cwd());

/** Parser only, no type information: the layering rules need none. */
const base: Linter.Config[] = [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...layering];

interface Finding {
  readonly file: string;
  readonly rule: string | null;
  readonly message: string;
}

async function lint(cwd: string, patterns: string[]): Promise<Finding[]> {
  const eslint = new ESLint({ cwd, overrideConfigFile: true, overrideConfig: base });
  const results = await eslint.lintFiles(patterns);
  return results.flatMap((r) => r.messages.map((m) => ({ file: r.filePath.slice(cwd.length + 1), rule: m.ruleId, message: m.message })));
}

function writeTree(dir: string, files: Readonly<Record<string, string>>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
}

describe('layering lint rules', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hub-lint-'));
    writeTree(dir, {
      // a value cycle of three
      'src/ring/a.ts': "import { b } from './b.js';\nexport const a = (): number => b() + 1;\n",
      'src/ring/b.ts': "import { c } from './c.js';\nexport const b = (): number => c();\n",
      'src/ring/c.ts': "import { a } from './a.js';\nexport const c = (): number => a();\n",
      // a cycle closed by a type-only import: counted
      'src/types/x.ts': "import type { Y } from './y.js';\nexport interface X { readonly y?: Y }\n",
      'src/types/y.ts': "import type { X } from './x.js';\nexport interface Y { readonly x?: X }\n",
      // a folder cycle with no module cycle: up/u → down/d, down/e → up/v
      'src/up/u.ts': "import { d } from '../down/d.js';\nexport const u = d;\n",
      'src/up/v.ts': 'export const v = 1;\n',
      'src/down/d.ts': 'export const d = 1;\n',
      'src/down/e.ts': "import { v } from '../up/v.js';\nexport const e = v;\n",
      // a chain, no cycle
      'src/chain/p.ts': "import { q } from './q.js';\nexport const p = q;\n",
      'src/chain/q.ts': 'export const q = 1;\n',
      // src/daemon may be imported by src/main and by itself only (type-only imports too)
      'src/daemon/service.ts': "import { helper } from './helper.js';\nexport class Service { readonly n = helper(); }\n",
      'src/daemon/helper.ts': 'export const helper = (): number => 1;\n',
      'src/main/daemon.ts': "import { Service } from '../daemon/service.js';\nexport const s = new Service();\n",
      'src/gc/component.ts': "import type { Service } from '../daemon/service.js';\nexport type S = Service;\n",
      'src/store/store.ts': "import { helper } from '../daemon/helper.js';\nexport const n = helper();\n",
      'src/cni/add.ts': "import { Service } from '../daemon/service.js';\nexport const t = Service;\n",
    });
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports every file on an import cycle, with the cycle, type-only imports included; a chain passes', async () => {
    const found = (await lint(dir, ['src'])).filter((f) => f.rule === 'terway/no-import-cycles' && f.message.startsWith('Import cycle'));
    expect(found.map((f) => f.file).sort()).toEqual(['src/ring/a.ts', 'src/ring/b.ts', 'src/ring/c.ts', 'src/types/x.ts', 'src/types/y.ts']);
    expect(found.find((f) => f.file === 'src/ring/a.ts')?.message).toContain('src/ring/a.ts → src/ring/b.ts → src/ring/c.ts → src/ring/a.ts');
    expect(found.find((f) => f.file === 'src/types/x.ts')?.message).toContain('src/types/x.ts → src/types/y.ts → src/types/x.ts');
  });

  it('reports a cycle between top-level folders even when no module is on a module cycle', async () => {
    const found = (await lint(dir, ['src'])).filter((f) => f.rule === 'terway/no-import-cycles' && f.message.startsWith('Folder import cycle'));
    expect(found.map((f) => f.file).sort()).toEqual(['src/down/e.ts', 'src/up/u.ts']);
    expect(found.find((f) => f.file === 'src/up/u.ts')?.message).toContain('src/up → src/down → src/up (src/up/u.ts → src/down/d.ts; src/down/e.ts → src/up/v.ts)');
  });

  it('reports src/daemon imports from anywhere but src/main and src/daemon itself', async () => {
    const found = (await lint(dir, ['src'])).filter((f) => f.rule === 'no-restricted-imports');
    expect(found.map((f) => f.file).sort()).toEqual(['src/cni/add.ts', 'src/gc/component.ts', 'src/store/store.ts']);
    expect(found.find((f) => f.file === 'src/gc/component.ts')?.message).toContain('Only src/main may import src/daemon');
  });

  it('the real src/** tree is clean', async () => {
    const found = await lint(ROOT, ['src']);
    if (found.length > 0) console.error(found);
    expect(found).toEqual([]);
  });

  it("the project's eslint.config.js applies them to src/**", async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const forGc = (await eslint.calculateConfigForFile(join(ROOT, 'src/gc/component.ts'))) as Linter.Config;
    expect(forGc.rules?.['terway/no-import-cycles']).toEqual([2, { root: 'src' }]);
    expect(JSON.stringify(forGc.rules?.['no-restricted-imports'])).toContain('**/daemon/**');
    const forMain = (await eslint.calculateConfigForFile(join(ROOT, 'src/main/daemon.ts'))) as Linter.Config;
    expect(JSON.stringify(forMain.rules?.['no-restricted-imports'])).not.toContain('**/daemon/**');
  });
});
