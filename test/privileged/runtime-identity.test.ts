/**
 * What non-Kubernetes runtimes (podman) pass in CNI_ARGS, through the real plugin binary and daemon (issue 13):
 * - `K8S_POD_NAME=<container name>` without K8S_POD_NAMESPACE is no pod identity: two containers named `web` (two
 *   podman stores, or `podman rename web web-old` and a new `web`) get host veths of their own, and DEL of one
 *   leaves the other working;
 * - `IP=` (`podman run --ip`, and the IP `podman network reload` re-ADDs) is given, or refused with an error that
 *   names the IP and why — never silently replaced by another address.
 */
import { existsSync } from 'node:fs';
import { callPlugin, PLUGIN, pluginStdin, startDaemon, type RunningDaemon } from '../helpers/hub.js';
import { diffHost, snapshotHost, type HostState } from '../helpers/host-state.js';
import { createNetns, type TestNetns } from '../helpers/netns.js';
import { sh } from '../helpers/exec.js';
import { rand, testSubnet } from '../helpers/names.js';
import { describePrivileged } from '../helpers/privilege.js';

const d = describePrivileged('runtime identity (CNI_ARGS without Kubernetes)', [existsSync(PLUGIN), `plugin binary missing at ${PLUGIN}: run npm run build`]);

interface Container {
  readonly id: string;
  readonly ns: TestNetns;
  readonly args: string;
  result?: { ips: { address: string }[]; interfaces: { name: string; sandbox?: string }[] };
}

d('runtime identity', () => {
  const tag = rand();
  const subnet = testSubnet('10.215').subnet3;
  let daemon: RunningDaemon;
  let before: HostState;
  const made: Container[] = [];

  const container = (id: string, args: string): Container => {
    const c: Container = { id: `${id}${tag}`, ns: createNetns(`hri-${tag}-${id}`), args };
    made.push(c);
    return c;
  };
  const cni = (command: 'ADD' | 'DEL' | 'CHECK', c: Container): ReturnType<typeof callPlugin> =>
    callPlugin(
      { command, containerId: c.id, netns: c.ns.path, ifName: 'eth0', args: c.args },
      pluginStdin(daemon.conflist(), command === 'ADD' || c.result === undefined ? {} : { prevResult: c.result }),
    );
  const add = (c: Container): string => {
    const r = cni('ADD', c);
    expect({ code: r.code, out: r.stdout }).toMatchObject({ code: 0 });
    c.result = r.json as NonNullable<Container['result']>;
    return c.result.ips[0]?.address.split('/')[0] ?? '';
  };
  const hostVeth = (c: Container): string => c.result?.interfaces[0]?.name ?? '';
  const pings = (from: TestNetns, ip: string): boolean => from.tryExec(['ping', '-c', '1', '-W', '2', ip]).code === 0;

  beforeAll(async () => {
    before = snapshotHost();
    daemon = await startDaemon({ mode: 'vpc', podCIDR: `${subnet}.0/24` });
  });

  afterAll(async () => {
    for (const c of made) {
      cni('DEL', c);
      c.ns.remove();
    }
    await daemon.stop();
    daemon.cleanup();
  });

  it('two containers with the same name and no namespace keep their own host veths; DEL of one leaves the other', () => {
    const first = container('web1', 'IgnoreUnknown=1;K8S_POD_NAME=web');
    const second = container('web2', 'IgnoreUnknown=1;K8S_POD_NAME=web');
    const ip1 = add(first);
    const ip2 = add(second);
    expect(hostVeth(first)).not.toBe(hostVeth(second));
    expect(pings(first.ns, ip2)).toBe(true);
    expect(pings(second.ns, ip1)).toBe(true);
    expect(cni('DEL', second).code).toBe(0);
    // the first container is intact: its eth0, its host veth and its traffic from the host
    expect(first.ns.ipJson<{ ifname: string }[]>(['link', 'show']).map((l) => l.ifname).sort()).toEqual(['eth0', 'lo']);
    expect(JSON.parse(sh('ip', ['-j', 'link', 'show', 'dev', hostVeth(first)]))).toHaveLength(1);
    expect(cni('CHECK', first).code).toBe(0);
    sh('ping', ['-c', '1', '-W', '2', ip1]);
    expect(cni('DEL', first).code).toBe(0);
  });

  it('IP= is given; a held, foreign or contradicting IP is refused naming it; a re-ADD after DEL gets it back', () => {
    const wanted = `${subnet}.77`;
    const a = container('ipa', `IgnoreUnknown=1;IP=${wanted}`);
    expect(add(a)).toBe(wanted);
    expect(a.ns.ipJson<{ addr_info: { local: string }[] }[]>(['-4', 'addr', 'show', 'dev', 'eth0'])[0]?.addr_info[0]?.local).toBe(wanted);

    const b = container('ipb', `IgnoreUnknown=1;IP=${wanted}/24`);
    const held = cni('ADD', b);
    expect(held.code).toBe(1);
    expect(held.json).toMatchObject({ code: 102, details: expect.stringContaining(`requested IP ${wanted} is held by container ${a.id}`) });

    const c = container('ipc', 'IgnoreUnknown=1;IP=192.0.2.9');
    const foreign = cni('ADD', c);
    expect(foreign.json).toMatchObject({ code: 7, details: expect.stringContaining("requested IP 192.0.2.9 is not in this node's pool") });
    // refused before anything was built: no pod link in the refused containers
    for (const x of [b, c]) expect(x.ns.ipJson<{ ifname: string }[]>(['link', 'show']).map((l) => l.ifname)).toEqual(['lo']);

    // podman network reload: DEL, then ADD of the same container with the IP it had (just released: cool-down)
    expect(cni('DEL', a).code).toBe(0);
    expect(add(a)).toBe(wanted);
    expect(cni('DEL', a).code).toBe(0);
  });

  it('leaves the host as it was', () => {
    expect(diffHost(before, snapshotHost())).toEqual({ added: [], removed: [] });
  });
});
