/**
 * The local provider's cloud for exclusive ENIs (`mode: eni`): a fixed list of links already on the node
 * (`local.enis`, each known by its MAC, with its one IP, vSwitch subnet and gateway) stands in for the secondary
 * ENIs a cloud would create and attach. "Creating" an ENI takes the first configured one of that vSwitch the pool
 * does not hold yet (after `pool.localLatencyMs.create`); "deleting" gives it back to the list (the link stays: it is
 * the node's). What the pool holds survives a restart the way a cloud's state does: the pool's saved ENIs and the
 * leases' addresses are the local cloud's memory. The capacity is the list's length, one IP per ENI.
 */
import type { LocalExclusiveEni } from '../../config/daemon-config.js';
import type { PoolConfig } from '../../config/pool-config.js';
import { ExhaustedError, InvalidInputError } from '../../lib/errors.js';
import type { VSwitchView } from '../../pool/plan.js';
import type { EniResource, FactoryLimits, FailureKind, ResourceFactory } from '../../pool/types.js';

export interface LocalEniFactoryDeps {
  readonly enis: readonly LocalExclusiveEni[];
  /** Addresses held before this start: the pool's saved ENIs and the leases/reservations. */
  readonly known: () => ReadonlySet<string>;
  readonly latency: PoolConfig['localLatencyMs'];
  readonly sleep?: (ms: number) => Promise<void>;
}

export const localVSwitchOf = (e: Pick<LocalExclusiveEni, 'subnet'>): string => `local-${e.subnet}`;
export const localExclusiveEniId = (e: Pick<LocalExclusiveEni, 'mac'>): string => `eni-local-${e.mac.replaceAll(':', '').toLowerCase()}`;

function resourceOf(e: LocalExclusiveEni): EniResource {
  return { id: localExclusiveEniId(e), mac: e.mac, vSwitchId: localVSwitchOf(e), cidr: e.subnet, gateway: e.gateway, primaryIp: e.ip, ips: [e.ip] };
}

export function createLocalEniFactory(d: LocalEniFactoryDeps): ResourceFactory {
  const sleep = d.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let held: Set<string> | undefined; // ENI ids the pool holds
  const tokens = new Map<string, string>(); // client token → ENI id: a retried create returns the same ENI
  const state = (): Set<string> => {
    if (held === undefined) {
      const known = d.known();
      held = new Set(d.enis.filter((e) => known.has(e.ip)).map(localExclusiveEniId));
    }
    return held;
  };
  const byId = (id: string): LocalExclusiveEni | undefined => d.enis.find((e) => localExclusiveEniId(e) === id);
  const vSwitches = [...new Set(d.enis.map(localVSwitchOf))];
  return {
    name: 'local',
    limits: (): Promise<FactoryLimits> => Promise.resolve({ maxEnis: d.enis.length, ipsPerEni: 1 }),
    vSwitches: (): Promise<readonly VSwitchView[]> =>
      Promise.resolve(vSwitches.map((id) => ({ id, available: d.enis.filter((e) => localVSwitchOf(e) === id && !state().has(localExclusiveEniId(e))).length }))),
    listEnis: () => Promise.resolve(d.enis.filter((e) => state().has(localExclusiveEniId(e))).map(resourceOf)),
    createEni: async (vSwitchId, count, token) => {
      if (count !== 1) throw new InvalidInputError('count', `a local exclusive ENI has exactly one IP; ${String(count)} asked`);
      if (!vSwitches.includes(vSwitchId)) throw new InvalidInputError('vSwitchId', `no local.enis entry on vSwitch ${vSwitchId} (have ${vSwitches.join(', ')})`);
      await sleep(d.latency.create);
      const again = byId(tokens.get(token) ?? '');
      if (again !== undefined) {
        state().add(localExclusiveEniId(again));
        return resourceOf(again);
      }
      const free = d.enis.find((e) => localVSwitchOf(e) === vSwitchId && !state().has(localExclusiveEniId(e)));
      if (free === undefined) throw new ExhaustedError(`local.enis: every ENI of vSwitch ${vSwitchId} is in the pool already`);
      const id = localExclusiveEniId(free);
      state().add(id);
      tokens.set(token, id);
      return resourceOf(free);
    },
    assignIps: (eniId) => Promise.reject(new InvalidInputError('eniId', `${eniId}: a local exclusive ENI has exactly one IP; none can be added`)),
    unassignIps: () => Promise.resolve(),
    deleteEni: async (eniId) => {
      await sleep(d.latency.unassign);
      state().delete(eniId); // NotFound counts as success
    },
    classify: (err: unknown): FailureKind => (err instanceof ExhaustedError ? 'vswitch-exhausted' : 'fatal'),
  };
}

