/**
 * The README's first command on a "fresh machine": `bun scripts/demo.ts` end to end with ping, iperf3 and podman
 * out of PATH (a shadow PATH of symlinks to every other command) and installing turned off
 * (TERWAY_HUB_NO_INSTALL=1). It must exit 0 having measured a real matrix (the policy's denial included), shaping
 * near the annotations' rates, and end with the host-restored line; the netns it ran in keeps no demo netns/link.
 */
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { CLI, PLUGIN, ROOT } from '../helpers/hub.js';
import { hasCommand, sh, shTry } from '../helpers/exec.js';
import { describePrivileged } from '../helpers/privilege.js';
import { tempDir } from '../helpers/tmp.js';
import { BUN } from '../../scripts/demo/agent.js';

const d = describePrivileged(
  'the demo on a machine without ping, iperf3 or podman',
  [existsSync(PLUGIN) && existsSync(CLI), `${PLUGIN} or ${CLI} missing: run npm run build`],
  [hasCommand('nft'), 'nft not installed (apt-get install -y nftables): the demo needs it and installing is off here'],
);

const HIDDEN = new Set(['ping', 'ping4', 'ping6', 'iperf', 'iperf3', 'podman']);

/** One directory holding a symlink to every command on PATH (first one wins) except HIDDEN. */
function shadowPath(): string {
  const dir = join(tempDir('dm-path-'), 'bin');
  mkdirSync(dir);
  const seen = new Set<string>();
  for (const p of (process.env.PATH ?? '').split(delimiter)) {
    if (p === '' || !existsSync(p)) continue;
    for (const name of readdirSync(p)) {
      if (HIDDEN.has(name) || seen.has(name)) continue;
      seen.add(name);
      symlinkSync(join(p, name), join(dir, name));
    }
  }
  return dir;
}

d('npm run demo (after the build) on a fresh machine', () => {
  it('shows every section, enforces the policy, measures shaping, and restores the host', () => {
    const path = shadowPath();
    expect(shTry('sh', ['-c', 'command -v ping iperf3 podman'], { env: { PATH: path } }).stdout).toBe('');
    const t0 = Date.now();
    const r = shTry(BUN, [join(ROOT, 'scripts', 'demo.ts')], { env: { ...process.env, PATH: path, TERWAY_HUB_NO_INSTALL: '1' }, timeoutMs: 150_000 });
    const seconds = (Date.now() - t0) / 1000;
    const out = `${r.stdout}${r.stderr}`;
    if (r.code !== 0) console.error(out);
    expect(r.code).toBe(0);
    expect(seconds).toBeLessThan(90);
    expect(out).toMatch(/outside\/stranger refused +connects/u); // after the policy: stranger → web denied, → client open
    expect(out).toMatch(/^ {3}shop\/client → shop\/web +\d+\.\d Mbit\/s .*= \d+ % of the configured 20\.0 Mbit\/s$/mu);
    expect(out).toMatch(/policy verify +→ OK/u);
    expect(out).toMatch(/host state restored exactly/u);
    expect(out).toMatch(/^demo OK in /mu);
    expect(sh('ip', ['netns', 'list'])).not.toMatch(/^dm-/mu);
    expect(sh('ip', ['-o', 'link', 'show'])).not.toMatch(/ dm(v|-eni)/u);
  }, 180_000);
});
