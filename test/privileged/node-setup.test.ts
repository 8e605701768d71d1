/**
 * `terway-hub node-setup` (the DaemonSet's privileged init step) for real, in a throwaway netns (prefix `nd`) with a
 * veth standing in for the ENI: it sets ip_forward and rp_filter and adds the ENI table's default route; run
 * again under a read-only /proc/sys whose values are already right it succeeds without writing; under a read-only
 * /proc/sys with a wrong value it exits 1 naming that sysctl, and the ENI route is still added.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shTry } from '../helpers/exec.js';
import { rand } from '../helpers/names.js';
import { createNetns, type TestNetns } from '../helpers/netns.js';
import { describePrivileged } from '../helpers/privilege.js';
import { tempDir } from '../helpers/tmp.js';

const d = describePrivileged('node-setup CLI in a netns');
const BUN = join(process.cwd(), 'node_modules', '.bin', 'bun');
const CLI = join(process.cwd(), 'src', 'main', 'cli.ts');

interface Outcome {
  readonly ok: boolean;
  readonly mode: string;
  readonly applied: number;
  readonly alreadySet: readonly string[];
  readonly failures: readonly { op: string; error: string }[];
}

d('terway-hub node-setup', () => {
  let ns: TestNetns | undefined;
  afterEach(() => {
    ns?.remove();
    ns = undefined;
  });

  it('applies sysctls and the ENI route; a read-only /proc/sys with the right values is success; a wrong one fails named, the route still added', () => {
    const tag = rand(5);
    const n = createNetns(`nd${tag}`);
    ns = n;
    const eni = `nd${tag}e`;
    n.exec(['ip', 'link', 'add', eni, 'type', 'veth', 'peer', 'name', `nd${tag}p`]); // no dummy module everywhere
    n.exec(['ip', 'link', 'set', `nd${tag}p`, 'up']);
    n.exec(['ip', 'addr', 'add', '192.168.79.5/24', 'dev', eni]);
    n.exec(['ip', 'link', 'set', eni, 'up']);
    const ifindex = n.exec(['cat', `/sys/class/net/${eni}/ifindex`]).trim();
    const table = String(1000 + Number(ifindex));
    n.exec(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=0', 'net.ipv4.conf.all.rp_filter=1', 'net.ipv4.conf.default.rp_filter=1']);

    const dir = tempDir('hub-nd-setup-');
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({
      mode: 'veth-policy-routing', socket: join(dir, 'd.sock'), stateDir: join(dir, 'state'), cniConfDir: join(dir, 'net.d'), httpListen: '', logLevel: 'error',
      local: { eni: { link: eni, gateway: '192.168.79.1', subnet: '192.168.79.0/24', ips: '192.168.79.10-192.168.79.20' } },
    }));
    const sysctl = (key: string): string => n.exec(['sysctl', '-n', key]).trim();
    const route = (): string => n.exec(['ip', 'route', 'show', 'table', table]).trim();
    const nodeSetup = (readOnlyProcSys: boolean) => {
      // read-only /proc/sys as in an unprivileged container: a private mount namespace with /proc/sys bound read-only
      const argv = readOnlyProcSys
        ? ['netns', 'exec', n.name, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind -o ro /proc/sys /proc/sys && exec "$@"', 'sh', BUN, CLI, 'node-setup', '--config', config, '--json']
        : ['netns', 'exec', n.name, BUN, CLI, 'node-setup', '--config', config, '--json'];
      const r = shTry('ip', argv);
      return { code: r.code, out: r.stdout.trim() === '' ? undefined : (JSON.parse(r.stdout) as Outcome), stderr: r.stderr };
    };

    const first = nodeSetup(false);
    expect(first.stderr).not.toMatch(/"level":"error"/u);
    expect(first.code).toBe(0);
    expect(first.out).toMatchObject({ ok: true, mode: 'veth-policy-routing', failures: [], alreadySet: [] });
    expect(first.out?.applied).toBe(4);
    expect([sysctl('net.ipv4.ip_forward'), sysctl('net.ipv4.conf.all.rp_filter'), sysctl('net.ipv4.conf.default.rp_filter')]).toEqual(['1', '0', '0']);
    expect(route()).toBe(`default via 192.168.79.1 dev ${eni} onlink`);
    console.log(`node-setup: ${JSON.stringify(first.out)}`);

    // the unprivileged daemon's view: /proc/sys read-only, values already right → success, nothing written
    const ro = nodeSetup(true);
    expect(ro.code).toBe(0);
    expect(ro.out).toMatchObject({ ok: true, failures: [], alreadySet: ['net.ipv4.ip_forward', 'net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.default.rp_filter'] });

    // read-only and ip_forward wrong: exit 1 naming it, and the ENI route (deleted first) is still added
    n.exec(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=0']);
    n.exec(['ip', 'route', 'del', 'default', 'table', table]);
    expect(route()).toBe('');
    const bad = nodeSetup(true);
    expect(bad.code).toBe(1);
    expect(bad.out?.ok).toBe(false);
    expect(bad.out?.failures.map((f) => f.op)).toEqual(['sysctl net.ipv4.ip_forward=1']);
    expect(bad.out?.failures[0]?.error).toMatch(/EROFS|read-only/iu);
    expect(route()).toBe(`default via 192.168.79.1 dev ${eni} onlink`);
    expect(sysctl('net.ipv4.ip_forward')).toBe('0');
    console.log(`node-setup under a read-only /proc/sys: exit ${String(bad.code)}: ${JSON.stringify(bad.out?.failures)}`);
  });
});
