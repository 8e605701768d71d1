/**
 * ipvlan on a kernel without it: the real daemon (real sysfs, real modprobe) refuses to start in ipvlan mode with a
 * ConfigError naming the kernel and the module, before it builds anything (no host slave, no socket, no conflist).
 * This machine's kernel has no ipvlan; on one that has it the suite skips (the VM suite covers the positive case).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDaemonConfig } from '../../src/config/daemon-config.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { ConfigError } from '../../src/lib/errors.js';
import { nodeAdapters } from '../../src/main/adapters.js';
import { sh } from '../helpers/exec.js';
import { rand } from '../helpers/names.js';
import { describePrivileged } from '../helpers/privilege.js';
import { tempDir } from '../helpers/tmp.js';
import { hostHasIpvlan } from '../helpers/vm.js';

describePrivileged('ipvlan refusal on a kernel without ipvlan', [!hostHasIpvlan(), 'this kernel has ipvlan (test/vm covers it)'])('ipvlan refused on this kernel', () => {
  const eni = `iv${rand(4)}`;
  beforeAll(() => {
    sh('ip', ['link', 'add', eni, 'type', 'veth', 'peer', 'name', `${eni}p`]);
  });
  afterAll(() => {
    sh('ip', ['link', 'del', eni]);
  });

  it('the daemon does not start: ConfigError at mode naming the kernel release and modprobe\'s failure; nothing built', async () => {
    const dir = tempDir('hub-iv-');
    const cfg = parseDaemonConfig({
      mode: 'ipvlan',
      socket: join(dir, 'run', 'daemon.sock'),
      stateDir: join(dir, 'state'),
      cniConfDir: join(dir, 'net.d'),
      cniLogFile: join(dir, 'log', 'cni.log'), // not /var/log on the test host (the daemon creates the directory)
      httpListen: '',
      local: { eni: { link: eni, gateway: '192.168.77.253', ips: '192.168.77.11-192.168.77.20', subnet: '192.168.77.0/24' } },
      ipvlan: { hostIp: '172.31.5.10', serviceCidr: '10.96.0.0/16' },
    });
    const d = new Daemon(cfg, nodeAdapters());
    const err = await d.start().catch((e: unknown) => e);
    const release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(new RegExp(`^mode: ipvlan cannot run on this node: kernel ${release.replace(/[.+]/gu, '\\$&')} has no ipvlan driver: .*modprobe ipvlan. failed`, 'u'));
    console.log(`refused: ${(err as Error).message}`);
    const ifindex = readFileSync(`/sys/class/net/${eni}/ifindex`, 'utf8').trim();
    expect(existsSync(`/sys/class/net/ipvl_${ifindex}`)).toBe(false);
    expect(existsSync(cfg.socket)).toBe(false);
    expect(existsSync(join(cfg.cniConfDir, cfg.conflistName))).toBe(false);
    expect(sh('tc', ['qdisc', 'show', 'dev', eni])).not.toMatch(/clsact/u);
  });
});
