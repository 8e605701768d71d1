/**
 * Where the service's addresses come from — the service asks, it never picks an IP itself:
 *  - StaticSource: a fixed address set (VPC mode: the node's podCIDR), the free address that was released longest
 *    ago (a bounded cool-down keeps a just-freed IP from being reused at once);
 *  - PoolSource: the warm pool (./pool.ts) of ENI secondary IPs, for the ENI modes; the grant names its ENI.
 * Both answer whether an address is theirs (a requested IP, a reservation, a lease being released).
 */
import type { Cidr, IpAddr } from '../lib/brand.js';
import { ExhaustedError, InvalidInputError } from '../lib/errors.js';
import { CoolDown } from '../ipam/cool-down.js';
import { freeCount, pickFree, setHas, setSize, type AddressSet } from '../ipam/range.js';
import type { Pool } from './pool.js';
import type { EniResource, WaitNotice } from './types.js';
import type { PoolWaitReason } from './wait-reason.js';

export interface Grant {
  readonly ip: IpAddr;
  /** The prefix the IP belongs to (podCIDR or its ENI's vSwitch CIDR). */
  readonly subnet: Cidr;
  /** The ENI that holds it (pool only). */
  readonly eni?: EniResource;
}

export interface TakeOptions {
  readonly label: string;
  /** The pod (`namespace/name`) when the request names one: a pool counts its schedule-time expectation as met. */
  readonly pod?: string;
  /** An explicit address (CNI `IP=`, a reservation): given when it is this source's and nobody holds it. */
  readonly requested?: IpAddr;
  /** `requested` is the pod's own reservation (the source has kept it taken since the release). */
  readonly reserved?: boolean;
  /** Leased and reserved addresses (the store's). */
  readonly used: ReadonlySet<string>;
  readonly signal?: AbortSignal;
  readonly onWait?: (n: WaitNotice) => void;
}

export interface AddressSource {
  readonly kind: 'static' | 'pool';
  /** For messages: `10.88.0.0/24`, `pool of local`. */
  readonly describe: string;
  has(ip: IpAddr): boolean;
  take(o: TakeOptions): Promise<Grant>;
  /** A lease or reservation of `ip` is gone for good: the address is free again. */
  returned(ip: IpAddr): void;
  /** A taken address was not used after all (the lease could not be written): back without cooling down. */
  untake(ip: IpAddr): void;
  size(): number;
  free(used: ReadonlySet<string>): number;
  /** Of the free addresses, those pods scheduled to this node will take (a pool's schedule-time demand; else 0). */
  heldForScheduled(): number;
  /** A pool: why a take finding nothing idle waits now (./wait-reason.ts). */
  waitReason?(): PoolWaitReason;
}

export class StaticSource implements AddressSource {
  readonly kind = 'static';
  readonly #cool: CoolDown;
  /** Granted by this source and not returned: concurrent takes never see one address free twice. */
  readonly #granted = new Set<string>();

  constructor(readonly subnet: Cidr, readonly addresses: AddressSet, coolDownSize?: number) {
    this.#cool = new CoolDown(coolDownSize);
  }

  get describe(): string {
    return `${this.subnet} (${String(setSize(this.addresses))} addresses)`;
  }

  has(ip: IpAddr): boolean {
    return setHas(this.addresses, ip);
  }

  take(o: TakeOptions): Promise<Grant> {
    if (o.requested !== undefined) {
      if (!this.has(o.requested)) return Promise.reject(new InvalidInputError('IP', `requested IP ${o.requested} is not in this node's pool (${this.describe})`));
      this.#cool.taken(o.requested);
      this.#granted.add(o.requested);
      return Promise.resolve({ ip: o.requested, subnet: this.subnet });
    }
    const ip = pickFree(this.addresses, new Set([...o.used, ...this.#granted]), this.#cool.list());
    if (ip === undefined) return Promise.reject(new ExhaustedError(`no free address left in ${this.describe}`));
    this.#cool.taken(ip);
    this.#granted.add(ip);
    return Promise.resolve({ ip, subnet: this.subnet });
  }

  returned(ip: IpAddr): void {
    this.#granted.delete(ip);
    this.#cool.released(ip);
  }

  untake(ip: IpAddr): void {
    this.#granted.delete(ip);
  }

  size(): number {
    return setSize(this.addresses);
  }

  free(used: ReadonlySet<string>): number {
    return freeCount(this.addresses, used);
  }

  heldForScheduled(): number {
    return 0;
  }
}

export class PoolSource implements AddressSource {
  readonly kind = 'pool';

  constructor(readonly pool: Pool, readonly name: string) {}

  get describe(): string {
    return `the ${this.name} ENI pool`;
  }

  has(ip: IpAddr): boolean {
    return this.pool.eniOf(ip) !== undefined;
  }

  async take(o: TakeOptions): Promise<Grant> {
    if (o.requested !== undefined && !this.has(o.requested)) throw new InvalidInputError('IP', `requested IP ${o.requested} is not on this node's ENIs (${this.describe})`);
    const got = await this.pool.acquire({ label: o.label, ...(o.pod !== undefined ? { pod: o.pod } : {}), ...(o.requested !== undefined ? { requested: o.requested, held: o.reserved === true } : {}), ...(o.signal !== undefined ? { signal: o.signal } : {}), ...(o.onWait !== undefined ? { onWait: o.onWait } : {}) });
    return { ip: got.ip, subnet: got.eni.cidr, eni: got.eni };
  }

  returned(ip: IpAddr): void {
    this.pool.release(ip);
  }

  untake(ip: IpAddr): void {
    this.pool.release(ip);
  }

  size(): number {
    return this.pool.stats().ips;
  }

  /** Unleased IPs: idle ones and those held for scheduled pods. */
  free(): number {
    const s = this.pool.stats();
    return s.idle + s.heldForScheduled;
  }

  heldForScheduled(): number {
    return this.pool.stats().heldForScheduled;
  }

  waitReason(): PoolWaitReason {
    return this.pool.waitReason();
  }
}
