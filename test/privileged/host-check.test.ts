/**
 * The end-of-run host check of `npm test` (scripts/host-check.ts) against the kernel: inside the throwaway netns
 * that `npm test` gives the privileged suites (their "host"), a created link, a changed sysctl, a rule, a route and
 * an `ip netns` name all show up in the diff, and nothing does once they are undone.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { diffSnapshots, snapshotHostNetwork } from '../../scripts/host-check.js';
import { sh, shTry } from '../helpers/exec.js';
import { rand } from '../helpers/names.js';
import { createNetns } from '../helpers/netns.js';
import { describePrivileged } from '../helpers/privilege.js';

const d = describePrivileged('host check on the kernel');
const SYSCTL = '/proc/sys/net/ipv4/conf/lo/log_martians';

d('the end-of-run host check on a real netns', () => {
  it('catches a created link, a changed sysctl, a rule, a route and a netns name; nothing once they are undone', () => {
    const tag = rand(6);
    const link = `hubchk${tag}`;
    const was = readFileSync(SYSCTL, 'utf8').trim();
    const before = snapshotHostNetwork();
    sh('ip', ['link', 'add', link, 'type', 'veth', 'peer', 'name', `${link}p`]);
    writeFileSync(SYSCTL, was === '0' ? '1' : '0');
    sh('ip', ['rule', 'add', 'to', '10.219.0.1/32', 'lookup', 'main', 'priority', '517']);
    sh('ip', ['route', 'add', 'blackhole', '10.219.0.2/32', 'table', '517']);
    const ns = createNetns(`hubchk-${tag}`);
    try {
      const changes = diffSnapshots(before, snapshotHostNetwork()).map((c) => `${c.section} ${c.kind} ${c.key}`);
      expect(changes).toEqual(
        expect.arrayContaining([
          `links added ${link}`,
          `links added ${link}p`,
          `sysctls added net.ipv4.conf.${link}.rp_filter`,
          'sysctls changed net.ipv4.conf.lo.log_martians',
          'rules added v4 {"priority":517,"src":"all","dst":"10.219.0.1","table":"main"}',
          expect.stringMatching(/^routes added v4 \{"type":"blackhole","dst":"10\.219\.0\.2","table":"517"/u),
          `netns added hubchk-${tag}`,
        ]),
      );
    } finally {
      ns.remove();
      shTry('ip', ['route', 'del', 'blackhole', '10.219.0.2/32', 'table', '517']);
      shTry('ip', ['rule', 'del', 'to', '10.219.0.1/32', 'priority', '517']);
      shTry('ip', ['link', 'del', link]);
      writeFileSync(SYSCTL, was);
    }
    expect(diffSnapshots(before, snapshotHostNetwork())).toEqual([]);
  });
});
