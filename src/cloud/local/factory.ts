/**
 * The local provider's cloud, for the ENI modes: the configured host link (`local.eni.link`) is the one ENI
 * (attached from the start: it is a link of the node), its vSwitch is `local.eni.subnet`, and its private IPs are
 * assigned from `local.eni.ips` — by the warm pool, as a real cloud would, after the configured latency
 * (`pool.localLatencyMs`, 0 by default; demos and benches set seconds). What is assigned survives a restart the
 * way a cloud's state does: the pool's saved ENIs and the leases' addresses are the local cloud's memory.
 */
import type { LocalEniConfig } from '../../config/daemon-config.js';
import type { PoolConfig } from '../../config/pool-config.js';
import type { IpAddr, MacAddr } from '../../lib/brand.js';
import { ExhaustedError, InvalidInputError } from '../../lib/errors.js';
import { setFromSpecs, setHas, setSize } from '../../ipam/range.js';
import { intToIp, ipToInt } from '../../lib/net.js';
import type { EniResource, FactoryLimits, FailureKind, ResourceFactory } from '../../pool/types.js';
import type { VSwitchView } from '../../pool/plan.js';

export const LOCAL_VSWITCH = 'local';

export interface LocalFactoryDeps {
  readonly eni: LocalEniConfig;
  /** The link's MAC (read from sysfs by the provider). */
  readonly mac: () => Promise<MacAddr>;
  /** Addresses of the range assigned before this start: the pool's saved ENIs and the leases/reservations. */
  readonly known: () => ReadonlySet<string>;
  readonly latency: PoolConfig['localLatencyMs'];
  readonly sleep?: (ms: number) => Promise<void>;
}

export function localEniId(eni: LocalEniConfig): string {
  return `eni-local-${eni.link}`;
}

export function createLocalFactory(d: LocalFactoryDeps): ResourceFactory {
  const range = setFromSpecs(d.eni.ips, 'local.eni.ips', d.eni.subnet);
  const sleep = d.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const id = localEniId(d.eni);
  let assigned: Set<IpAddr> | undefined;
  let created = false;
  const state = (): Set<IpAddr> => {
    if (assigned === undefined) {
      assigned = new Set([...d.known()].filter((ip) => setHas(range, ip)) as IpAddr[]);
      created = assigned.size > 0;
    }
    return assigned;
  };
  const take = (count: number): IpAddr[] => {
    const held = state();
    const out: IpAddr[] = [];
    for (const n of range.addrs) {
      if (out.length === count) break;
      const ip = intToIp(n);
      if (!held.has(ip)) out.push(ip);
    }
    if (out.length < count) throw new ExhaustedError(`local.eni.ips: ${String(setSize(range) - held.size)} of ${String(setSize(range))} addresses left, ${String(count)} asked`);
    for (const ip of out) held.add(ip);
    return out;
  };
  const resource = async (): Promise<EniResource> => {
    const ips = [...state()].sort((a, b) => ipToInt(a) - ipToInt(b));
    return { id, mac: await d.mac(), vSwitchId: LOCAL_VSWITCH, cidr: d.eni.subnet, gateway: d.eni.gateway, primaryIp: ips[0] ?? ('0.0.0.0' as IpAddr), ips, link: d.eni.link };
  };
  return {
    name: 'local',
    limits: (): Promise<FactoryLimits> => Promise.resolve({ maxEnis: 1, ipsPerEni: setSize(range) }),
    vSwitches: (): Promise<readonly VSwitchView[]> => Promise.resolve([{ id: LOCAL_VSWITCH, available: setSize(range) - state().size }]),
    listEnis: async () => (state().size > 0 || created ? [await resource()] : []),
    createEni: async (vSwitchId, count) => {
      if (vSwitchId !== LOCAL_VSWITCH) throw new InvalidInputError('vSwitchId', `the local provider has one vSwitch (${LOCAL_VSWITCH}); got ${vSwitchId}`);
      await sleep(d.latency.create);
      if (!created) {
        take(count);
        created = true;
      }
      return resource();
    },
    assignIps: async (eniId, count) => {
      if (eniId !== id) throw new InvalidInputError('eniId', `no ENI ${eniId} here (the local ENI is ${id})`);
      await sleep(d.latency.assign);
      return take(count);
    },
    unassignIps: async (_eniId, ips) => {
      await sleep(d.latency.unassign);
      for (const ip of ips) state().delete(ip);
    },
    deleteEni: async () => {
      await sleep(d.latency.unassign);
      state().clear();
      created = false; // the link stays (it is the node's); its addresses are free again
    },
    classify: (err: unknown): FailureKind => (err instanceof ExhaustedError ? 'vswitch-exhausted' : 'fatal'),
  };
}
