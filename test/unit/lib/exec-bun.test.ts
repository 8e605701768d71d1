/** The plugin's Bun.spawn runner, run under bun itself (jest runs on Node, where the runner is absent). */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBunRunner } from '../../../src/lib/exec-bun.js';
import { tempDir } from '../../helpers/tmp.js';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
const bun = join(root, 'node_modules', '.bin', 'bun');

describe('createBunRunner', () => {
  it('is undefined outside bun', () => {
    expect(createBunRunner()).toBeUndefined();
  });

  const d = existsSync(bun) ? it : it.skip;
  if (!existsSync(bun)) console.warn(`SKIP: no bun at ${bun}`);
  d('passes stdin, returns stdout/stderr/exit code, and rejects with ExecError when the command cannot start', () => {
    const dir = tempDir('hub-bunrun-');
    try {
      const script = join(dir, 'probe.ts');
      writeFileSync(
        script,
        `import { createBunRunner } from ${JSON.stringify(join(root, 'src/lib/exec-bun.ts'))};
const r = createBunRunner();
if (r === undefined) throw new Error('no runner under bun');
const ok = await r.run({ file: 'sh', args: ['-c', 'cat; echo oops >&2; exit 3'], stdin: 'in-put' });
let missing = '';
try { await r.run({ file: '/nonexistent/terway-hub-tool', args: [] }); } catch (e) { missing = (e as Error).name; }
const ac = new AbortController();
const slow = r.run({ file: 'sleep', args: ['5'] }, ac.signal);
setTimeout(() => ac.abort(), 50);
let aborted = '';
try { await slow; } catch (e) { aborted = (e as Error).name; }
console.log(JSON.stringify({ ok, missing, aborted }));
`,
      );
      const out = spawnSync(bun, [script], { encoding: 'utf8', timeout: 20_000 });
      expect(out.status).toBe(0);
      expect(JSON.parse(out.stdout)).toEqual({ ok: { stdout: 'in-put', stderr: 'oops\n', exitCode: 3 }, missing: 'ExecError', aborted: 'ExecError' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
