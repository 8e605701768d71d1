/**
 * The exclusive-ENI pool: whole secondary ENIs, one per pod (its primary IP is the pod IP), kept between the
 * watermarks (counted in ENIs, Terway's ENIOnly) by creating and deleting ENIs through a ResourceFactory
 * (./types.ts) as ./eni-plan.ts decides. An allocation takes an idle ENI at once (the one idle longest); otherwise
 * it waits (FIFO) for a new ENI and is told what it waits for. A released ENI goes back to idle (its host link is
 * back on the node under its neutral name), and idle ENIs above max idle are deleted. Every create and delete is
 * journalled before it is made and the ENIs are saved after every change: a crash is completed or rolled back at
 * start by ./recover.ts, the same recovery as the IP pool's. Failures open the same inhibit windows as the IP pool
 * (a vSwitch out of addresses: 10 min, failing over to the zone's other vSwitches; the instance's ENI quota: 1 min;
 * transient errors: a short pause). Single-threaded: state changes happen between awaits only.
 */
import type { IpAddr } from '../lib/brand.js';
import { realClock, type Clock, type Timer } from '../lib/clock.js';
import { ConflictError, errorMessage, ExhaustedError, InvalidInputError, toError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { InFlightCalls, STOP_GRACE_MS } from './in-flight.js';
import { planEniRefill, planEniShrink, type EniPoolLimits, type EniPoolSnapshot } from './eni-plan.js';
import type { PoolAction } from './plan.js';
import { DEFAULT_POOL_OPTIONS, type PoolOptions } from './pool.js';
import { recoverPool, type RecoveryReport } from './recover.js';
import { poolWaitReason, type PoolFailure, type PoolWaitReason } from './wait-reason.js';
import type { EniResource, PoolJournal, ResourceFactory, WaitNotice } from './types.js';

/** The IP pool's options apply (min/max idle in ENIs; coalescing, inhibit windows, pauses, reclaim, sync). */
export type EniPoolOptions = Omit<PoolOptions, 'demand'>;

/** The IP pool's options without its demand settings (whole ENIs follow static watermarks, as Terway's ENIOnly). */
export function withoutDemand<T extends Partial<PoolOptions>>(o: T): Omit<T, 'demand'> {
  return Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'demand')) as Omit<T, 'demand'>;
}

export interface EniPoolDeps {
  readonly factory: ResourceFactory;
  readonly journal: PoolJournal;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly newToken: () => string;
  readonly options?: Partial<EniPoolOptions>;
}

export interface EniAcquireOptions {
  readonly label: string;
  /** A specific ENI by its primary IP (CNI `IP=`, a sticky pod's reservation): idle, or `held` by the caller. */
  readonly requested?: IpAddr;
  /** The caller already holds `requested` (its reservation kept the ENI leased): handed over as is. */
  readonly held?: boolean;
  readonly signal?: AbortSignal;
  readonly onWait?: (notice: WaitNotice) => void;
}

interface Slot {
  readonly res: EniResource;
  leased: boolean;
  deleting: boolean;
  idleSince: number;
  /** Not handed out before this (its host link was not found on the node). */
  asideUntil: number;
}

interface Waiter {
  readonly label: string;
  readonly since: number;
  resolve(v: EniResource): void;
  reject(e: Error): void;
}

export interface EniPoolStats {
  readonly enis: number;
  readonly idle: number;
  readonly leased: number;
  readonly creating: number;
  readonly waiting: number;
  readonly inFlight: number;
}

export class EniPool {
  readonly #f: ResourceFactory;
  readonly #j: PoolJournal;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #newToken: () => string;
  #o: EniPoolOptions;
  readonly #slots = new Map<string, Slot>();
  /** ENIs being created (vSwitch, since): what a waiter is told. */
  readonly #creatingOn = new Map<string, { readonly ips: number; readonly vSwitchId: string; readonly since: number }>();
  #lastFailure: PoolFailure | undefined;
  #fatalPause = false;
  readonly #vswInhibit = new Map<string, number>();
  #createInhibitUntil = 0;
  #pausedUntil = 0;
  #waiters: Waiter[] = [];
  #lastChange: number;
  #maxEnis: number | undefined;
  #timer: Timer | undefined;
  #retryTimer: Timer | undefined;
  #syncTimer: Timer | undefined;
  #inFlight = 0;
  readonly #calls = new InFlightCalls();
  #stopped = false;
  #blocked = '';

  constructor(deps: EniPoolDeps) {
    this.#f = deps.factory;
    this.#j = deps.journal;
    this.#log = deps.log.child({ component: 'eni-pool' });
    this.#clock = deps.clock ?? realClock;
    this.#newToken = deps.newToken;
    this.#o = { ...withoutDemand(DEFAULT_POOL_OPTIONS), ...deps.options };
    this.#lastChange = this.#clock.now();
  }

  get factoryName(): string {
    return this.#f.name;
  }

  /** The instance's secondary-ENI capacity (known once started): the exclusive-ENI pods this node can take. */
  get maxEnis(): number | undefined {
    return this.#maxEnis;
  }

  /**
   * Completes what a crash cut short, loads the ENIs the factory reports (an ENI holding a leased IP is leased),
   * and starts keeping the watermarks.
   */
  async start(leased: ReadonlySet<string>): Promise<RecoveryReport> {
    this.#maxEnis = (await this.#f.limits()).maxEnis;
    const report = await recoverPool(this.#f, this.#j, leased, this.#log);
    const now = this.#clock.now();
    for (const res of report.enis) {
      this.#slots.set(res.id, { res, leased: res.ips.some((ip) => leased.has(ip)), deleting: false, idleSince: now, asideUntil: 0 });
    }
    this.#save();
    this.#log.info('exclusive-ENI pool started', { factory: this.#f.name, ...this.stats(), maxEnis: this.#maxEnis, minIdle: this.#o.minIdle, maxIdle: this.#o.maxIdle });
    this.#kick(0);
    this.#tick();
    return report;
  }

  configure(options: Partial<EniPoolOptions>): void {
    this.#o = { ...this.#o, ...options };
    this.#kick(0);
  }

  /** As Pool#stop: resolves once the calls under way are journaled, or after `graceMs`. */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#retryTimer?.cancel();
    this.#syncTimer?.cancel();
    for (const w of this.#waiters.splice(0)) w.reject(new ExhaustedError(`${w.label}: the daemon is stopping`));
    const left = await this.#calls.drain(this.#clock, graceMs);
    if (left > 0) this.#log.warn('ENI pool stopped with cloud calls under way; the next start reconciles them', { calls: left });
  }

  stats(): EniPoolStats {
    const slots = [...this.#slots.values()];
    return {
      enis: slots.length,
      idle: slots.filter((s) => this.#isIdle(s)).length,
      leased: slots.filter((s) => s.leased).length,
      creating: this.#creatingOn.size,
      waiting: this.#waiters.length,
      inFlight: this.#inFlight,
    };
  }

  /** The ENI `ip` belongs to (any of its IPs). */
  eniOf(ip: IpAddr): EniResource | undefined {
    return this.#slotOfIp(ip)?.res;
  }

  acquire(o: EniAcquireOptions): Promise<EniResource> {
    if (this.#stopped) return Promise.reject(new ExhaustedError(`${o.label}: the pool is stopped`));
    if (o.requested !== undefined) {
      try {
        return Promise.resolve(this.#take(o.requested, o.held === true));
      } catch (e) {
        return Promise.reject(toError(e));
      }
    }
    const slot = this.#pickIdle();
    if (slot !== undefined) return Promise.resolve(this.#lease(slot));
    return new Promise<EniResource>((resolve, reject) => {
      const w: Waiter = { label: o.label, since: this.#clock.now(), resolve, reject };
      this.#waiters.push(w);
      o.signal?.addEventListener('abort', () => {
        if (!this.#waiters.includes(w)) return;
        this.#waiters = this.#waiters.filter((x) => x !== w);
        reject(new ExhaustedError(`${o.label}: gave up waiting for an ENI from the cloud`));
      }, { once: true });
      o.onWait?.({ what: this.waitReason().text });
      this.#kick(this.#o.coalesceMs);
    });
  }

  /** The ENI of `ip` (its lease is gone, its link is back on the node) goes back to idle. */
  release(ip: IpAddr): void {
    const s = this.#slotOfIp(ip);
    if (s === undefined || !s.leased) return;
    s.leased = false;
    s.asideUntil = 0;
    this.#lastChange = this.#clock.now();
    s.idleSince = this.#lastChange;
    this.#serve();
    this.#kick(this.#o.coalesceMs);
  }

  /**
   * A leased ENI could not be used (its host link is not on the node: still in a vanished pod's netns, or being
   * handed back by the kernel): idle again, but not handed out for `ms`; a waiting allocation gets another one.
   */
  setAside(id: string, ms: number, why: string): void {
    const s = this.#slots.get(id);
    if (s === undefined) return;
    s.leased = false;
    s.asideUntil = this.#clock.now() + ms;
    s.idleSince = this.#clock.now();
    this.#log.warn('exclusive-ENI pool: ENI set aside', { eni: id, mac: s.res.mac, forMs: ms, why });
    this.#kick(0);
    this.#retry(ms); // usable again then
  }

  #take(ip: IpAddr, held: boolean): EniResource {
    const s = [...this.#slots.values()].find((x) => x.res.primaryIp === ip);
    if (s === undefined) throw new InvalidInputError('IP', `${ip} is not the primary IP of any of this node's ENIs`);
    if (held) {
      if (!s.leased) throw new ConflictError(`${ip} was not held (its reservation is gone)`);
      return s.res;
    }
    if (s.leased) throw new ConflictError(`the ENI of ${ip} (${s.res.id}) is already in use on this node`);
    if (s.deleting) throw new ConflictError(`the ENI of ${ip} (${s.res.id}) is being deleted`);
    return this.#lease(s);
  }

  #lease(s: Slot): EniResource {
    s.leased = true;
    this.#lastChange = this.#clock.now();
    this.#kick(this.#o.coalesceMs);
    return s.res;
  }

  #slotOfIp(ip: IpAddr): Slot | undefined {
    for (const s of this.#slots.values()) if (s.res.ips.includes(ip)) return s;
    return undefined;
  }

  #isIdle(s: Slot, now = this.#clock.now()): boolean {
    return !s.leased && !s.deleting && s.asideUntil <= now;
  }

  /** The ENI idle longest (its address has aged out of peers' caches). */
  #pickIdle(): Slot | undefined {
    const now = this.#clock.now();
    return [...this.#slots.values()].filter((s) => this.#isIdle(s, now)).sort((a, b) => a.idleSince - b.idleSince || a.res.id.localeCompare(b.res.id))[0];
  }

  #serve(): void {
    while (this.#waiters.length > 0) {
      const s = this.#pickIdle();
      if (s === undefined) return;
      const w = this.#waiters.shift();
      if (w === undefined) return;
      w.resolve(this.#lease(s));
      this.#log.info('exclusive ENI served after waiting', { pod: w.label, eni: s.res.id, waitedMs: this.#clock.now() - w.since });
    }
  }

  /** Why an allocation finding no idle ENI waits now (./wait-reason.ts), from the pool's live state. */
  waitReason(): PoolWaitReason {
    return poolWaitReason({
      now: this.#clock.now(),
      cloud: this.#f.name,
      unit: 'eni',
      started: this.#maxEnis !== undefined,
      creating: [...this.#creatingOn.values()],
      assigning: 0,
      assignCalls: 0,
      vSwitches: [...this.#vswInhibit].map(([id, until]) => ({ id, inhibitedUntil: until })),
      createInhibitedUntil: this.#createInhibitUntil,
      pausedUntil: this.#pausedUntil,
      fatalPause: this.#fatalPause,
      ...(this.#lastFailure !== undefined ? { lastFailure: this.#lastFailure } : {}),
    });
  }

  #save(): void {
    this.#j.saveEnis([...this.#slots.values()].map((s) => s.res));
  }

  #tick(): void {
    if (this.#stopped) return;
    this.#syncTimer = this.#clock.after(this.#o.syncIntervalMs, () => {
      this.#kick(0);
      this.#tick();
    });
  }

  #kick(delayMs: number): void {
    if (this.#stopped || this.#timer !== undefined) return;
    this.#timer = this.#clock.after(delayMs, () => {
      this.#timer = undefined;
      this.#reconcile();
    });
  }

  #retry(ms: number): void {
    if (this.#stopped || this.#retryTimer !== undefined) return;
    this.#retryTimer = this.#clock.after(ms, () => {
      this.#retryTimer = undefined;
      this.#serve();
      this.#kick(0);
    });
  }

  #limits(): EniPoolLimits | undefined {
    return this.#maxEnis === undefined ? undefined : { minIdle: this.#o.minIdle, maxIdle: this.#o.maxIdle, maxEnis: this.#maxEnis };
  }

  #snapshot(): Omit<EniPoolSnapshot, 'vSwitches'> {
    const now = this.#clock.now();
    return {
      now,
      enis: [...this.#slots.values()].map((s) => ({ id: s.res.id, idle: this.#isIdle(s, now), idleSince: s.idleSince })),
      creating: this.#creatingOn.size,
      waiting: this.#waiters.length,
      reclaimDue: this.#o.reclaimAfterMs !== undefined && now - this.#lastChange >= this.#o.reclaimAfterMs,
    };
  }

  #reconcile(): void {
    const limits = this.#limits();
    if (limits === undefined || this.#stopped) return;
    this.#serve();
    void this.#f
      .vSwitches()
      .then((vsws) => {
        const base = this.#snapshot();
        if (base.now < this.#pausedUntil) {
          this.#retry(this.#pausedUntil - base.now);
          return;
        }
        const createAllowed = this.#createInhibitUntil <= base.now;
        const vSwitches = createAllowed ? vsws.map((v) => ({ ...v, inhibitedUntil: Math.max(v.inhibitedUntil ?? 0, this.#vswInhibit.get(v.id) ?? 0) })) : [];
        const snap: EniPoolSnapshot = { ...base, vSwitches };
        const refill = planEniRefill(limits, snap);
        const shrink = refill.length === 0 && this.#inFlight === 0 ? planEniShrink(limits, snap) : [];
        for (const a of [...refill, ...shrink]) this.#run(a);
        if (refill.length === 0 && this.#inFlight === 0 && this.#waiters.length > 0) this.#failWaiters(limits, createAllowed);
      })
      .catch((e: unknown) => {
        this.#log.warn('exclusive-ENI pool: vSwitches unknown, retrying', { err: errorMessage(e) });
        this.#retry(this.#o.retryMs);
      });
  }

  #failWaiters(limits: EniPoolLimits, createAllowed: boolean): void {
    const now = this.#clock.now();
    // an ENI set aside comes back within seconds: the allocation fails now as retryable (the runtime retries ADD)
    const aside = [...this.#slots.values()].filter((s) => !s.leased && !s.deleting && s.asideUntil > now).length;
    const held = this.#slots.size;
    const use = aside === 0 ? 'every one in use' : `${String(held - aside)} in use, ${String(aside)} set aside (host link not on the node yet)`;
    const why =
      held >= limits.maxEnis
        ? `this node holds all ${String(limits.maxEnis)} secondary ENIs its instance type allows, ${use}`
        : !createAllowed
          ? `ENI creation is paused after the instance reached its ENI quota${this.#blocked !== '' ? ` (${this.#blocked})` : ''}`
          : `every vSwitch is out of addresses or inhibited${this.#blocked !== '' ? ` (last: ${this.#blocked})` : ''}`;
    for (const w of this.#waiters.splice(0)) w.reject(new ExhaustedError(`${w.label}: no exclusive ENI: ${why}`));
  }

  #run(a: PoolAction): void {
    const id = this.#newToken();
    const started = this.#clock.now();
    let op: Promise<void>;
    switch (a.kind) {
      case 'create-eni': {
        const token = this.#newToken();
        this.#creatingOn.set(id, { ips: a.count, vSwitchId: a.vSwitchId, since: started });
        this.#j.begin({ id, kind: a.kind, vSwitchId: a.vSwitchId, count: a.count, token, startedAt: started });
        op = this.#f.createEni(a.vSwitchId, a.count, token).then(
          (res) => {
            const now = this.#clock.now();
            this.#slots.set(res.id, { res, leased: false, deleting: false, idleSince: now, asideUntil: 0 });
            this.#lastFailure = undefined;
            this.#fatalPause = false;
            this.#log.info('exclusive-ENI pool: ENI created', { eni: res.id, mac: res.mac, ip: res.primaryIp, vSwitch: res.vSwitchId, ms: now - started });
          },
          (e: unknown) => { this.#failed(a, e); },
        ).finally(() => { this.#creatingOn.delete(id); });
        break;
      }
      case 'delete-eni': {
        const s = this.#slots.get(a.eniId);
        if (s === undefined || !this.#isIdle(s)) return;
        s.deleting = true;
        this.#j.begin({ id, kind: a.kind, eniId: a.eniId, startedAt: started });
        op = this.#f.deleteEni(a.eniId).then(
          () => {
            this.#slots.delete(a.eniId);
            this.#log.info('exclusive-ENI pool: idle ENI deleted', { eni: a.eniId, ms: this.#clock.now() - started });
          },
          (e: unknown) => { s.deleting = false; this.#failed(a, e); },
        );
        break;
      }
      case 'assign':
      case 'unassign':
        return; // never planned for whole ENIs
    }
    this.#inFlight++;
    this.#calls.track(op.finally(() => {
      this.#inFlight--;
      if (this.#calls.closed) return;
      this.#j.end(id);
      this.#lastChange = this.#clock.now();
      this.#save();
      this.#serve();
      this.#kick(0);
    }));
  }

  #failed(a: PoolAction, err: unknown): void {
    const kind = this.#f.classify(err);
    const now = this.#clock.now();
    const msg = errorMessage(err);
    this.#blocked = `${a.kind}: ${msg}`;
    const cause = this.#f.cause?.(err);
    this.#lastFailure = { action: a.kind, kind, message: msg, at: now, ...(cause !== undefined ? { cause } : {}), ...(a.kind === 'create-eni' ? { vSwitchId: a.vSwitchId } : {}) };
    this.#fatalPause = kind === 'fatal';
    this.#log.warn('exclusive-ENI pool: cloud call failed', { action: a.kind, ...('eniId' in a ? { eni: a.eniId } : {}), ...('vSwitchId' in a ? { vSwitch: a.vSwitchId } : {}), kind, err: msg });
    switch (kind) {
      case 'vswitch-exhausted':
        if (a.kind === 'create-eni') this.#vswInhibit.set(a.vSwitchId, now + this.#o.inhibitVSwitchMs);
        return;
      case 'eni-quota':
        if (a.kind === 'create-eni') this.#createInhibitUntil = now + this.#o.inhibitEniMs;
        return;
      case 'transient':
        this.#pausedUntil = now + this.#o.retryMs;
        return;
      case 'fatal':
        this.#pausedUntil = now + this.#o.fatalRetryMs;
        for (const w of this.#waiters.splice(0)) w.reject(new ExhaustedError(`${w.label}: no exclusive ENI: ${a.kind} failed: ${msg}`));
        return;
    }
  }
}
