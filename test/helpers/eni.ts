/**
 * A stand-in ENI for the veth-policy-routing suites: a host veth `link` whose far end (`gw0`) sits in a "vSwitch"
 * namespace owning the gateway `<subnet3>.1/24`. The daemon's local provider is configured with it as its ENI.
 */
import { sh, shTry } from './exec.js';
import { createNetns, type TestNetns } from './netns.js';

export interface EniStandIn {
  readonly link: string;
  readonly gateway: string;
  readonly vswitch: TestNetns;
  /** 1000 + the link's ifindex (the ENI table of policy routing). */
  readonly table: number;
  /** The daemon's `local.eni` config for it, pod IPs `<subnet3>.10` to `<subnet3>.<lastIp>`. */
  eniConfig(lastIp?: number): { readonly link: string; readonly gateway: string; readonly subnet: string; readonly ips: string };
  remove(): void;
}

export function createEniStandIn(link: string, vswitchName: string, subnet3: string): EniStandIn {
  const vswitch = createNetns(vswitchName);
  sh('ip', ['link', 'add', link, 'type', 'veth', 'peer', 'name', 'gw0', 'netns', vswitch.name]);
  sh('ip', ['link', 'set', link, 'up']);
  sh('sysctl', ['-qw', `net.ipv4.conf.${link}.proxy_arp=1`, `net.ipv4.conf.${link}.rp_filter=0`]);
  vswitch.exec(['ip', 'addr', 'add', `${subnet3}.1/24`, 'dev', 'gw0']);
  vswitch.exec(['ip', 'link', 'set', 'gw0', 'up']);
  const gateway = `${subnet3}.1`;
  return {
    link,
    gateway,
    vswitch,
    table: 1000 + Number(sh('cat', [`/sys/class/net/${link}/ifindex`]).trim()),
    eniConfig: (lastIp = 40) => ({ link, gateway, subnet: `${subnet3}.0/24`, ips: `${subnet3}.10-${subnet3}.${String(lastIp)}` }),
    remove: () => {
      shTry('ip', ['link', 'del', link]);
      vswitch.remove();
    },
  };
}
