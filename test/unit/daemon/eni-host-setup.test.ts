/** Per-ENI host setup: the mode's node plan for each new secondary ENI, once per ENI/link/mode, retried after a failure, forgotten when the ENI is gone. */
import type { CloudProvider, LocalFacts } from '../../../src/cloud/types.js';
import type { Cidr, IfName, IpAddr, MacAddr } from '../../../src/lib/brand.js';
import { UnavailableError } from '../../../src/lib/errors.js';
import { silentLogger } from '../../../src/lib/log.js';
import type { EniFacts } from '../../../src/modes/types.js';
import type { Executor } from '../../../src/netlink/executor.js';
import type { Plan } from '../../../src/netlink/ops.js';
import type { EniResource } from '../../../src/pool/types.js';
import { EniHostSetup, eniHostPlan } from '../../../src/daemon/eni-host-setup.js';

const eni: EniResource = { id: 'eni-2', mac: '02:16:3e:00:00:02' as MacAddr, vSwitchId: 'vsw-b', cidr: '192.168.11.0/24' as Cidr, gateway: '192.168.11.253' as IpAddr, primaryIp: '192.168.11.5' as IpAddr, ips: ['192.168.11.5' as IpAddr] };
const facts: EniFacts = { link: 'eth1' as IfName, ifindex: 7, gateway: eni.gateway, table: 1007 };
const provider = (mode: CloudProvider['mode']) => ({ mode }) as CloudProvider;

function recorder(failFirst = 0) {
  const plans: Plan[] = [];
  let fails = failFirst;
  const executor: Executor = {
    apply: async (plan) => {
      await new Promise((r) => setImmediate(r));
      if (fails-- > 0) throw new Error('RTNETLINK answers: Network is down');
      plans.push(plan);
      return { applied: plan.length, tolerated: 0, steps: plan.length };
    },
    teardown: () => Promise.reject(new Error('unused')),
  };
  return { plans, executor };
}

describe('eniHostPlan', () => {
  it('veth-policy-routing: link up, then the node plan for this ENI (its table\'s default route via the vSwitch gateway)', () => {
    const plan = eniHostPlan('veth-policy-routing', 'cali', {}, eni, facts);
    expect(plan[0]).toEqual({ kind: 'link.up', ns: { kind: 'host' }, name: 'eth1' });
    expect(plan).toContainEqual({ kind: 'route.replace', ns: { kind: 'host' }, dst: 'default', via: '192.168.11.253', dev: 'eth1', onlink: true, table: 1007, shared: true });
  });

  it('ipvlan: the host slave of this ENI shares its MAC (not the primary ENI\'s); eni and vpc modes: nothing', () => {
    const local: LocalFacts = { ipvlan: { eniMac: '02:16:3e:00:00:01' as MacAddr, hostIp: '192.168.10.5' as IpAddr, redirectCidrs: ['10.96.0.0/16' as Cidr], mtu: 1500 } };
    const plan = eniHostPlan('ipvlan', 'cali', local, eni, facts);
    expect(plan).toContainEqual(expect.objectContaining({ kind: 'link.ipvlan', parent: 'eth1', mac: eni.mac }));
    expect(eniHostPlan('eni', 'cali', {}, eni, facts)).toEqual([]);
    expect(eniHostPlan('vpc', 'cali', {}, eni, facts)).toEqual([]);
  });
});

describe('EniHostSetup', () => {
  it('once per ENI (concurrent grants share it); again for a new link or mode; retried after a failure; forgotten when gone', async () => {
    const r = recorder(1);
    const s = new EniHostSetup(() => r.executor, () => 'cali', silentLogger);
    await expect(s.ensure(provider('veth-policy-routing'), {}, eni, facts)).rejects.toBeInstanceOf(UnavailableError);
    await Promise.all([s.ensure(provider('veth-policy-routing'), {}, eni, facts), s.ensure(provider('veth-policy-routing'), {}, eni, facts)]);
    expect(r.plans).toHaveLength(1);
    await s.ensure(provider('veth-policy-routing'), {}, eni, { ...facts, ifindex: 9, table: 1009 }); // re-attached
    expect(r.plans).toHaveLength(2);
    expect(s.retain(new Set(['eni-other']))).toEqual(['eni-2']);
    expect(s.size).toBe(0);
    await s.ensure(provider('veth-policy-routing'), {}, eni, facts);
    expect(r.plans).toHaveLength(3);
  });
});
