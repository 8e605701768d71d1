/**
 * Per-ENI host setup: the first time the pool grants an IP of a secondary ENI (a cloud provider's, found on the host
 * by MAC), the daemon brings its link up and applies the mode's node plan for that ENI — the same plan the daemon
 * applies at start for the node's ENI (Dataplane.planNode: veth-policy-routing's ENI table default route, ipvlan's
 * host slave and redirect filters). Once per ENI, link and mode (a re-attached ENI has a new ifindex and is set up
 * again; a mode switch sets it up for the new mode); concurrent allocations of one new ENI share one setup. An ENI
 * the pool deleted is forgotten (`retain`): its link, its table's routes and ipvlan's slave went with the detach.
 */
import type { CloudProvider, LocalFacts } from '../cloud/types.js';
import { UnavailableError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { dataplaneFor } from '../modes/registry.js';
import type { EniFacts } from '../modes/types.js';
import type { Executor } from '../netlink/executor.js';
import { HOST, type Plan } from '../netlink/ops.js';
import type { EniResource } from '../pool/types.js';

/** Pure: the host plan of one secondary ENI in `provider`'s mode (empty in the modes that move the ENI into the pod). */
export function eniHostPlan(mode: CloudProvider['mode'], vethPrefix: string, local: LocalFacts, eni: EniResource, facts: EniFacts): Plan {
  if (mode === 'vpc' || mode === 'eni') return [];
  const ipvlan = local.ipvlan === undefined ? undefined : { ...local.ipvlan, eniMac: eni.mac };
  return [{ kind: 'link.up', ns: HOST, name: facts.link }, ...dataplaneFor(mode).planNode({ vethPrefix }, { ...local, eni: facts, ...(ipvlan !== undefined ? { ipvlan } : {}) })];
}

export class EniHostSetup {
  /** ENI id → the setup done (or under way) for it: its key and the promise. */
  readonly #done = new Map<string, { readonly key: string; readonly run: Promise<void> }>();

  constructor(
    readonly executor: () => Executor,
    readonly vethPrefix: () => string,
    readonly log: Logger,
  ) {}

  /** Sets the ENI up once (idempotent plans: a repeat after a daemon restart changes nothing). Throws UnavailableError. */
  ensure(provider: CloudProvider, local: LocalFacts, eni: EniResource, facts: EniFacts): Promise<void> {
    const key = `${provider.mode}|${facts.link}|${String(facts.ifindex)}`;
    const have = this.#done.get(eni.id);
    if (have?.key === key) return have.run;
    const plan = eniHostPlan(provider.mode, this.vethPrefix(), local, eni, facts);
    const run = this.executor()
      .apply(plan)
      .then(
        () => { this.log.info('ENI set up on the host', { eni: eni.id, link: facts.link, mode: provider.mode, table: facts.table }); },
        (e: unknown) => {
          this.#done.delete(eni.id); // tried again by the next allocation
          throw new UnavailableError(`ENI ${eni.id} (${facts.link}): host setup failed: ${errorMessage(e)}`, { cause: e });
        },
      );
    this.#done.set(eni.id, { key, run });
    return run;
  }

  /** Forgets the ENIs the pool no longer has (deleted: the kernel removed what their setup made with the link). */
  retain(live: ReadonlySet<string>): readonly string[] {
    const gone = [...this.#done.keys()].filter((id) => !live.has(id));
    for (const id of gone) this.#done.delete(id);
    if (gone.length > 0) this.log.info('ENIs gone from the pool: host setup forgotten', { enis: gone });
    return gone;
  }

  get size(): number {
    return this.#done.size;
  }
}
