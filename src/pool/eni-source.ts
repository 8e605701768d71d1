/**
 * The exclusive-ENI pool (./eni-pool.ts) as the service's address source: a grant is a whole ENI, its primary IP the
 * pod IP, its vSwitch CIDR the subnet, and its host link found by its MAC now (a cloud names links as it likes; after
 * a DEL the link has its neutral name, after a vanished netns whatever the kernel gave it). An ENI whose link is
 * not on the node (still in a pod netns being torn down) is set aside for a while and another one is taken.
 */
import type { IfName, IpAddr, MacAddr } from '../lib/brand.js';
import { InvalidInputError, UnavailableError } from '../lib/errors.js';
import type { EniPool } from './eni-pool.js';
import type { PoolWaitReason } from './wait-reason.js';
import type { AddressSource, Grant, TakeOptions } from './source.js';

/** The host link that has `mac` now, or undefined (src/cloud/host-links.ts reads sysfs). */
export type LinkByMac = (mac: MacAddr) => Promise<IfName | undefined>;

/** How long an ENI whose link is missing stays out of the idle set. */
export const SET_ASIDE_MS = 30_000;

export class EniSource implements AddressSource {
  readonly kind = 'pool';

  constructor(readonly pool: EniPool, readonly linkByMac: LinkByMac, readonly setAsideMs = SET_ASIDE_MS) {}

  get describe(): string {
    return `the ${this.pool.factoryName} exclusive-ENI pool`;
  }

  has(ip: IpAddr): boolean {
    return this.pool.eniOf(ip) !== undefined;
  }

  async take(o: TakeOptions): Promise<Grant> {
    if (o.requested !== undefined && this.pool.eniOf(o.requested)?.primaryIp !== o.requested) {
      throw new InvalidInputError('IP', `requested IP ${o.requested} is not the primary IP of an ENI of this node (${this.describe})`);
    }
    // every ENI the pool could hand out is tried at most once per take
    for (let tries = (this.pool.stats().enis + this.pool.stats().creating) + 1; ; tries--) {
      const res = await this.pool.acquire({
        label: o.label,
        ...(o.requested !== undefined ? { requested: o.requested, held: o.reserved === true } : {}),
        ...(o.signal !== undefined ? { signal: o.signal } : {}),
        ...(o.onWait !== undefined ? { onWait: o.onWait } : {}),
      });
      const link = await this.linkByMac(res.mac);
      if (link !== undefined) return { ip: res.primaryIp, subnet: res.cidr, eni: { ...res, link } };
      const why = `ENI ${res.id}: no link with its MAC ${res.mac} on this node`;
      if (o.requested !== undefined) {
        if (o.reserved !== true) this.pool.release(res.primaryIp);
        throw new UnavailableError(`${why} (still in a pod's network namespace?); retry`);
      }
      this.pool.setAside(res.id, this.setAsideMs, why);
      if (tries <= 0) throw new UnavailableError(`${why}, nor for any other ENI of the pool; retry`);
    }
  }

  returned(ip: IpAddr): void {
    this.pool.release(ip);
  }

  untake(ip: IpAddr): void {
    this.pool.release(ip);
  }

  size(): number {
    return this.pool.stats().enis;
  }

  free(): number {
    return this.pool.stats().idle;
  }

  /** The whole-ENI pool takes no schedule-time demand. */
  heldForScheduled(): number {
    return 0;
  }

  waitReason(): PoolWaitReason {
    return this.pool.waitReason();
  }
}
