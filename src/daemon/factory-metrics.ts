/**
 * The pool's cloud calls, observed: a ResourceFactory wrapped so that every call the pool (or its recovery) makes
 * is timed and its effect counted (IPs asked for, IPs given back), without the pool knowing (src/pool stays free of
 * metrics). The wrapper also remembers what it learnt of the factory's limits and ENIs' MACs for the gauges.
 */
import type { IpAddr } from '../lib/brand.js';
import type { EniResource, FactoryLimits, ResourceFactory } from '../pool/types.js';

export type FactoryCallKind = 'create-eni' | 'assign' | 'unassign' | 'delete-eni';

export interface FactoryCall {
  readonly call: FactoryCallKind;
  readonly ok: boolean;
  readonly seconds: number;
  /** The ENI's MAC when known ('' for a Create that failed). */
  readonly eni: string;
  /** IPs asked for (create, assign) or given back (unassign, delete: the ENI's IPs). */
  readonly ips: number;
}

export type FactoryCallObserver = (call: FactoryCall) => void;

export interface InstrumentedFactory extends ResourceFactory {
  /** The factory's limits once the pool asked for them. */
  readonly knownLimits: FactoryLimits | undefined;
  /** The ENIs its calls listed, created and did not delete (MAC, IP count). */
  knownEnis(): readonly { readonly mac: string; readonly ips: number }[];
}

/** `f` with every create/assign/unassign/delete timed and told to `observe` (which must not throw: errors are dropped). */
export function instrumentFactory(f: ResourceFactory, observe: FactoryCallObserver): InstrumentedFactory {
  const enis = new Map<string, { mac: string; ips: number }>();
  let limits: FactoryLimits | undefined;
  const remember = (e: EniResource): void => { enis.set(e.id, { mac: e.mac, ips: e.ips.length }); };
  const tell = (call: FactoryCallKind, ok: boolean, started: number, eni: string, ips: number): void => {
    try {
      observe({ call, ok, seconds: (performance.now() - started) / 1000, eni, ips });
    } catch {
      // metrics never fail a cloud call
    }
  };
  const timed = async <T>(call: FactoryCallKind, run: () => Promise<T>, after: (ok: boolean, value: T | undefined) => { eni: string; ips: number }): Promise<T> => {
    const started = performance.now();
    try {
      const v = await run();
      const a = after(true, v);
      tell(call, true, started, a.eni, a.ips);
      return v;
    } catch (e) {
      const a = after(false, undefined);
      tell(call, false, started, a.eni, a.ips);
      throw e;
    }
  };
  const wrapped: InstrumentedFactory = {
    name: f.name,
    get knownLimits() {
      return limits;
    },
    knownEnis: () => [...enis.values()].map((e) => ({ ...e })),
    limits: async () => (limits = await f.limits()),
    vSwitches: () => f.vSwitches(),
    listEnis: async () => {
      const list = await f.listEnis();
      list.forEach(remember);
      return list;
    },
    createEni: (vSwitchId, count, token) =>
      timed('create-eni', () => f.createEni(vSwitchId, count, token), (ok, e) => {
        if (ok && e !== undefined) remember(e);
        return { eni: e?.mac ?? '', ips: ok && e !== undefined ? e.ips.length : count };
      }),
    assignIps: (eniId, count, token) =>
      timed('assign', () => f.assignIps(eniId, count, token), (ok, ips) => {
        const known = enis.get(eniId);
        if (ok && known !== undefined) known.ips += ips?.length ?? 0;
        return { eni: known?.mac ?? '', ips: ok ? (ips?.length ?? 0) : count };
      }),
    unassignIps: (eniId, ips: readonly IpAddr[]) =>
      timed('unassign', () => f.unassignIps(eniId, ips), (ok) => {
        const known = enis.get(eniId);
        if (ok && known !== undefined) known.ips = Math.max(0, known.ips - ips.length);
        return { eni: known?.mac ?? '', ips: ips.length };
      }),
    deleteEni: (eniId) =>
      timed('delete-eni', () => f.deleteEni(eniId), (ok) => {
        const known = enis.get(eniId);
        if (ok) enis.delete(eniId);
        return { eni: known?.mac ?? '', ips: known?.ips ?? 0 };
      }),
    classify: (err) => f.classify(err),
    ...(f.cause !== undefined ? { cause: f.cause.bind(f) } : {}),
    ...(f.nodeView !== undefined ? { nodeView: f.nodeView.bind(f) } : {}),
  };
  return wrapped;
}
