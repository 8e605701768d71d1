/**
 * The warm pool: idle private IPs on the node's ENIs, kept between the watermarks by calls to a ResourceFactory
 * (./types.ts) as ./plan.ts decides. Allocations take an idle IP at once; when none is idle they wait (FIFO) for
 * the cloud, and whoever waits is told what for. Concurrent demand within `coalesceMs` becomes one plan (one
 * Assign of up to 10 IPs instead of one per pod). Failures open inhibit windows (a vSwitch out of addresses or
 * quota: 10 min, failing over to the zone's other vSwitches; an ENI quota: 1 min) or retry after a pause; when
 * nothing can bring an IP the waiters fail with ExhaustedError saying why. Every cloud call is journalled before it
 * is made and the ENIs are saved after every change (crash safety; see ./reconcile.ts). Single-threaded: state
 * changes happen between awaits only.
 *
 * Schedule-time demand: `expect(pod)` says a pod bound to this node will ADD soon (the daemon's pod informer sees the
 * binding seconds before the kubelet's ADD); the refill brings an IP for it at once, beyond max_pool_size if need
 * be. Its IP is not earmarked: any ADD takes any unleased IP (IPs are interchangeable), and an ADD naming the pod
 * (`AcquireOptions.pod`) consumes its expectation. Unleased IPs up to the number of expected pods are reported as
 * "held for scheduled pods", the rest as idle; the watermarks bound the idle ones. An expectation ends with the
 * pod's ADD, `forget(pod)` (the pod is gone, or has an IP), or after `scheduledTtlMs` (a pod whose ADD never came);
 * an ended one is not revived by a repeated `expect` until `forget` clears it.
 *
 * Warm ENIs: the pool keeps `warmEnis` ENIs attached (./plan.ts `warmEniTarget`: auto covers the node's max pods or
 * the demand peak), so a burst costs Assigns on attached ENIs, not new ENIs. One cloud call per ENI at a time: an
 * ENI with a call in flight is busy and gets no other until it ends (ECS refuses concurrent operations on one ENI).
 * Idle reclaim (`reclaimAfterMs`): once due, at most `reclaimBatch` idle IPs above the target go back per
 * `reclaimIntervalMs` ± `reclaimJitter` (Terway's idle_ip_reclaim_*); the pool's own releases do not reset it.
 *
 * Giving back (./retire.ts): idle above max_pool_size is retired the instant it appears (stats `releasing`, not
 * `idle`) and unassigned in the next calls; a retired IP comes back to idle, or to an ADD finding nothing idle,
 * while its call has not started.
 */
import type { IpAddr } from '../lib/brand.js';
import { isoOf, realClock, type Clock, type Timer } from '../lib/clock.js';
import { ConflictError, errorMessage, ExhaustedError, InvalidInputError, toError, UnavailableError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { InFlightCalls, STOP_GRACE_MS } from './in-flight.js';
import { DEFAULT_DEMAND, planRefill, reclaimShare, warmEniTarget, type DemandSettings, type EniView, type PoolAction, type PoolLimits, type PoolSnapshot } from './plan.js';
import { recoverPool, type RecoveryReport } from './recover.js';
import { planRelease, retireDelta, spreadRetired } from './retire.js';
import { planSync, type SyncDecision } from './sync.js';
import type { EniResource, PoolJournal, ResourceFactory, WaitNotice } from './types.js';
import { poolWaitReason, type PoolFailure, type PoolWaitReason } from './wait-reason.js';

export interface PoolOptions {
  readonly minIdle: number;
  readonly maxIdle: number;
  readonly coalesceMs: number;
  readonly demand: DemandSettings;
  readonly inhibitVSwitchMs: number;
  readonly inhibitEniMs: number;
  /** Pause before trying again after a transient failure, and after a fatal one. */
  readonly retryMs: number;
  readonly fatalRetryMs: number;
  /** `idle_ip_reclaim_after`: idle above the target goes back after this long without pool changes (off: undefined). */
  readonly reclaimAfterMs?: number;
  /** Once reclaim is due: at most `reclaimBatch` IPs per `reclaimIntervalMs` ± `reclaimJitter` × interval. */
  readonly reclaimIntervalMs: number;
  readonly reclaimJitter: number;
  readonly reclaimBatch: number;
  /** ENIs kept attached with free slots: `auto` (the node's max pods or the demand peak, ≥ minEnis) or a count. */
  readonly warmEnis: 'auto' | number;
  /** The node's max pods (Node `status.capacity.pods`, else `pool.nodeMaxPods`); 0: unknown. */
  readonly nodeMaxPods: number;
  /** eni_conf `min_eni`: auto keeps at least this many ENIs. */
  readonly minEnis: number;
  /** The pool re-plans at least this often (demand forgotten, reclaim due, inhibit windows over). */
  readonly syncIntervalMs: number;
  /** A scheduled pod whose ADD has not come after this long is no longer expected. */
  readonly scheduledTtlMs: number;
}

export const DEFAULT_POOL_OPTIONS: PoolOptions = {
  minIdle: 0,
  maxIdle: 5,
  coalesceMs: 50,
  demand: DEFAULT_DEMAND,
  inhibitVSwitchMs: 600_000,
  inhibitEniMs: 60_000,
  retryMs: 2_000,
  fatalRetryMs: 60_000,
  syncIntervalMs: 30_000,
  scheduledTtlMs: 180_000,
  reclaimIntervalMs: 600_000,
  reclaimJitter: 0.1,
  reclaimBatch: 5,
  warmEnis: 'auto',
  nodeMaxPods: 110,
  minEnis: 0,
};

export interface PoolDeps {
  readonly factory: ResourceFactory;
  readonly journal: PoolJournal;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly newToken: () => string;
  readonly options?: Partial<PoolOptions>;
  /** Uniform in [0, 1): the reclaim interval's jitter (tests pass a fixed one). */
  readonly random?: () => number;
}

export interface PoolIp {
  readonly ip: IpAddr;
  readonly eni: EniResource;
}

export interface AcquireOptions {
  /** Names the allocation in logs. */
  readonly label: string;
  /** The pod (`namespace/name`): consumes its schedule-time expectation. */
  readonly pod?: string;
  /** A specific address (CNI `IP=`, a StatefulSet's reservation): it must be idle in the pool, or `held`. */
  readonly requested?: IpAddr;
  /** The caller already holds `requested` (a reservation, leased in the pool since its release): handed over as is. */
  readonly held?: boolean;
  readonly signal?: AbortSignal;
  /** Called once if the allocation has to wait for the cloud. */
  readonly onWait?: (notice: WaitNotice) => void;
}

interface Entry {
  res: EniResource;
  readonly leased: Set<IpAddr>;
  /** Being unassigned or deleted: neither idle nor leasable. */
  readonly releasing: Set<IpAddr>;
  /** Retired (./retire.ts): to be given back, no call yet; not idle, leased only when nothing idle is left. */
  readonly retiring: Set<IpAddr>;
  assigning: number;
  inhibitedUntil: number;
  /** A cloud call on this ENI is in flight (one at a time). */
  busy: boolean;
  deleting: boolean;
}

interface Waiter {
  readonly label: string;
  readonly since: number;
  resolve(v: PoolIp): void;
  reject(e: Error): void;
}

export interface PoolStats {
  readonly enis: number;
  readonly ips: number;
  /** Unleased IPs no pod holds or awaits (what min/max_pool_size bound). */
  readonly idle: number;
  /** Unleased IPs scheduled pods will take (min(unleased, expected)). */
  readonly heldForScheduled: number;
  /** IPs being given back: retired above max_pool_size (or by reclaim) or in an Unassign/Delete call now. */
  readonly releasing: number;
  /** Pods scheduled to this node whose ADD has not come yet. */
  readonly expected: number;
  readonly leased: number;
  readonly waiting: number;
  readonly inFlight: number;
  /** ENIs the pool keeps attached now (warm ENIs). */
  readonly warmEnis: number;
  /** ENIs with a cloud call in flight. */
  readonly busyEnis: number;
}

/** One ENI of `Pool.detail()`. */
export interface PoolEniDetail {
  readonly id: string;
  readonly vSwitchId: string;
  readonly link?: string;
  readonly ips: readonly string[];
  readonly leased: readonly string[];
  readonly idle: readonly string[];
  readonly retiring: readonly string[];
  readonly releasing: readonly string[];
  /** IPs being assigned by a cloud call now. */
  readonly assigning: number;
  /** A cloud call on it is in flight. */
  readonly busy: boolean;
  readonly deleting: boolean;
  readonly inhibitedUntil?: string;
}

/** `Pool.detail()`: also the wire shape of `terway-hub pool` (src/rpc/operator-protocol.ts). */
export interface PoolDetail {
  readonly enis: readonly PoolEniDetail[];
  /** IPs of ENIs being created now. */
  readonly creating: number;
  readonly inhibitedVSwitches: readonly { readonly vSwitchId: string; readonly until: string }[];
  readonly createInhibitedUntil?: string;
  readonly pausedUntil?: string;
  /** The last failed cloud call (`action: message`). */
  readonly lastError?: string;
  readonly startFailure?: string;
}

export class Pool {
  readonly #f: ResourceFactory;
  readonly #j: PoolJournal;
  readonly #log: Logger;
  readonly #clock: Clock;
  #o: PoolOptions;
  readonly #newToken: () => string;
  readonly #random: () => number;
  readonly #enis = new Map<string, Entry>();
  readonly #creating = new Map<string, { readonly ips: number; readonly vSwitchId: string; readonly since: number }>();
  /** The last failed call no call has succeeded after (./wait-reason.ts: why waiters wait). */
  #lastFailure: PoolFailure | undefined;
  /** The vSwitches of the last plan (a waiter is told where the pool fails over to). */
  #knownVSwitches: readonly string[] = [];
  readonly #vswInhibit = new Map<string, number>();
  #createInhibitUntil = 0;
  /** After a transient or fatal failure no new cloud call is made before this (the client already retried). */
  #pausedUntil = 0;
  #waiters: Waiter[] = [];
  /** Unannounced allocations (and announced ones that had to wait): the burst history of the demand-aware target. */
  #recent: number[] = [];
  /** pod → its expectation; `done` once its ADD came or it expired (kept until `forget`: not revived by `expect`). */
  readonly #scheduled = new Map<string, { readonly since: number; done: boolean }>();
  /** When each IP was last released: the one idle longest is handed out first (ARP/conntrack caches age out). */
  readonly #releasedAt = new Map<IpAddr, number>();
  #lastChange: number;
  /** Pods needing an IP (leased + waiting + expected) when it changed: auto warm ENIs cover the peak. */
  #demand: { at: number; pods: number }[] = [];
  /** No reclaim batch before this (epoch ms). */
  #nextReclaimAt = 0;
  #warmTarget = 0;
  #reclaimTimer: Timer | undefined;
  #limits: PoolLimits | undefined;
  #timer: Timer | undefined;
  #retryTimer: Timer | undefined;
  #syncTimer: Timer | undefined;
  #inFlight = 0;
  readonly #calls = new InFlightCalls();
  /** Cloud operations started so far: a sync whose read overlapped one is void. */
  #opSeq = 0;
  #stopped = false;
  /** Why the last plan could bring nothing (for the waiters' error). */
  #blocked = '';
  /** The pause after a fatal failure (refused credentials, permissions): waiters fail at once meanwhile. */
  #fatalPause = false;
  /** A create-eni that failed transiently (its ENI may exist): made again with the same token before any other. */
  #unfinishedCreate: { readonly id: string; readonly token: string; readonly vSwitchId: string; readonly count: number } | undefined;
  /** Journal entries of operations to be made again (not ended when their call returns). */
  readonly #keepJournal = new Set<string>();
  /** Why the last start failed (the pool serves nothing until a start succeeds). */
  #startFailure: string | undefined;

  constructor(deps: PoolDeps) {
    this.#f = deps.factory;
    this.#j = deps.journal;
    this.#log = deps.log.child({ component: 'pool' });
    this.#clock = deps.clock ?? realClock;
    this.#newToken = deps.newToken;
    this.#random = deps.random ?? Math.random;
    this.#o = { ...DEFAULT_POOL_OPTIONS, ...deps.options };
    this.#lastChange = this.#clock.now();
  }

  #limitsOf(caps: { readonly maxEnis: number; readonly ipsPerEni: number }): PoolLimits {
    const o = this.#o;
    return { minIdle: Math.min(o.minIdle, o.maxIdle), maxIdle: o.maxIdle, maxEnis: caps.maxEnis, ipsPerEni: caps.ipsPerEni, warm: { warmEnis: o.warmEnis, nodeMaxPods: o.nodeMaxPods, minEnis: o.minEnis } };
  }

  /**
   * Completes what a crash cut short (./recover.ts), loads the ENIs the factory reports, marks the leased IPs, and
   * starts keeping the watermarks. Resolves with what recovery found (the daemon reports it).
   */
  async start(leased: ReadonlySet<string>): Promise<RecoveryReport> {
    let caps;
    let report;
    try {
      caps = await this.#f.limits();
      report = await recoverPool(this.#f, this.#j, leased, this.#log);
    } catch (e) {
      this.#startFailure = errorMessage(e);
      throw e;
    }
    this.#startFailure = undefined;
    this.#limits = this.#limitsOf(caps);
    for (const res of report.enis) this.#add(res);
    for (const raw of leased) {
      const ip = raw as IpAddr; // the store's addresses are parsed IPs
      const e = this.#entryOf(ip);
      if (e !== undefined) e.leased.add(ip);
    }
    this.#save();
    this.#log.info('pool started', { factory: this.#f.name, ...this.stats(), ...this.#limits });
    this.#kick(0);
    this.#tick();
    return report;
  }

  #tick(): void {
    if (this.#stopped) return;
    this.#syncTimer = this.#clock.after(this.#o.syncIntervalMs, () => {
      this.#kick(0);
      this.#tick();
    });
  }

  /** New watermarks and settings (the effective config changed); the pool re-plans at once. */
  configure(options: Partial<PoolOptions>): void {
    this.#o = { ...this.#o, ...options };
    if (this.#fatalPause) {
      // a new config (rotated credentials, permissions fixed) ends the pause after a refused call
      this.#fatalPause = false;
      this.#pausedUntil = 0;
    }
    if (this.#limits !== undefined) this.#limits = this.#limitsOf(this.#limits);
    this.#kick(0);
  }

  /**
   * Stops planning and fails the waiters; resolves once the cloud calls under way have landed and been journaled, or
   * after `graceMs` (the calls left over are reconciled at the next start). The store may be closed after this.
   */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#retryTimer?.cancel();
    this.#syncTimer?.cancel();
    this.#reclaimTimer?.cancel();
    for (const w of this.#waiters.splice(0)) w.reject(new ExhaustedError(`${w.label}: the daemon is stopping`));
    const left = await this.#calls.drain(this.#clock, graceMs);
    if (left > 0) this.#log.warn('pool stopped with cloud calls under way; the next start reconciles them', { calls: left });
  }

  stats(): PoolStats {
    let ips = 0;
    let unleased = 0;
    let leased = 0;
    let busy = 0;
    let releasing = 0;
    for (const e of this.#enis.values()) {
      ips += e.res.ips.length;
      unleased += this.#idleOf(e).length;
      leased += e.leased.size;
      releasing += e.retiring.size + e.releasing.size;
      if (e.busy) busy++;
    }
    const expected = this.#expectedCount();
    const held = Math.min(unleased, expected);
    return { enis: this.#enis.size, ips, idle: unleased - held, heldForScheduled: held, releasing, expected, leased, waiting: this.#waiters.length, inFlight: this.#inFlight, warmEnis: this.#warmTarget, busyEnis: busy };
  }

  /**
   * A pod bound to this node will ADD soon: the pool brings an IP for it now. Repeated calls keep the first time; an
   * expectation that ended (ADD came, expired) is not revived until `forget`.
   */
  expect(pod: string): void {
    if (this.#stopped || this.#scheduled.has(pod)) return;
    this.#scheduled.set(pod, { since: this.#clock.now(), done: false });
    this.#rebalance(false);
    this.#kick(this.#o.coalesceMs);
  }

  /** The pod is gone, or has its IP: no longer expected (and may be expected again later). */
  forget(pod: string): void {
    const had = this.#scheduled.get(pod);
    if (had === undefined) return;
    this.#scheduled.delete(pod);
    if (had.done) return;
    this.#rebalance(false);
    this.#kick(this.#o.coalesceMs);
  }

  /** Expired expectations end here (a pod whose ADD never came). */
  #expectedCount(): number {
    const until = this.#clock.now() - this.#o.scheduledTtlMs;
    let n = 0;
    for (const [pod, x] of this.#scheduled) {
      if (x.done) continue;
      if (x.since <= until) {
        x.done = true;
        this.#log.info('pool: scheduled pod never came to ADD; no longer expected', { pod, afterMs: this.#o.scheduledTtlMs });
        this.#kick(0); // its IP may now be idle above max_pool_size: retired at the next plan
        continue;
      }
      n++;
    }
    return n;
  }

  /** Ends the pod's expectation (its ADD came); true when it was expected. */
  #consume(pod: string | undefined): boolean {
    const x = pod === undefined ? undefined : this.#scheduled.get(pod);
    if (x === undefined || x.done) return false;
    x.done = true;
    return true;
  }

  /** Read-only: each ENI's IPs by state and the cloud calls, inhibits and last failure, for the operator's `pool` view. */
  detail(): PoolDetail {
    const now = this.#clock.now();
    return {
      enis: [...this.#enis.values()].map((e) => ({
        id: e.res.id,
        vSwitchId: e.res.vSwitchId,
        ...(e.res.link !== undefined ? { link: e.res.link } : {}),
        ips: [...e.res.ips],
        leased: [...e.leased],
        idle: this.#idleOf(e),
        retiring: [...e.retiring],
        releasing: [...e.releasing],
        assigning: e.assigning,
        busy: e.busy,
        deleting: e.deleting,
        ...(e.inhibitedUntil > now ? { inhibitedUntil: isoOf(e.inhibitedUntil) } : {}),
      })),
      creating: [...this.#creating.values()].reduce((n, c) => n + c.ips, 0),
      inhibitedVSwitches: [...this.#vswInhibit].flatMap(([v, t]) => (t > now ? [{ vSwitchId: v, until: isoOf(t) }] : [])),
      ...(this.#createInhibitUntil > now ? { createInhibitedUntil: isoOf(this.#createInhibitUntil) } : {}),
      ...(this.#pausedUntil > now ? { pausedUntil: isoOf(this.#pausedUntil) } : {}),
      ...(this.#blocked !== '' ? { lastError: this.#blocked } : {}),
      ...(this.#startFailure !== undefined ? { startFailure: this.#startFailure } : {}),
    };
  }

  /** The ENIs the pool holds now. */
  enis(): readonly EniResource[] {
    return [...this.#enis.values()].map((e) => e.res);
  }

  /** Read before the node's view is fetched and given back to `sync`. */
  get opSeq(): number {
    return this.#opSeq;
  }

  /**
   * Applies what the node sees of the pool's ENIs (./sync.ts): unknown IPs adopted as idle, idle IPs it no longer
   * lists dropped; returns the decision (invalid leases for the caller to report), or undefined when a cloud
   * operation started since `seq` (the view may predate it: the next sync decides).
   */
  sync(seq: number, seen: ReadonlyMap<string, readonly IpAddr[] | undefined>): SyncDecision | undefined {
    if (seq !== this.#opSeq || this.#stopped) return undefined;
    const views = [...this.#enis.values()].map((e) => ({ id: e.res.id, ips: e.res.ips, leased: e.leased, busy: e.assigning > 0 || e.releasing.size > 0 }));
    const d = planSync(views, seen);
    for (const { eniId, ip } of d.dropped) {
      const e = this.#enis.get(eniId);
      if (e === undefined) continue;
      e.res = { ...e.res, ips: e.res.ips.filter((x) => x !== ip) };
      e.retiring.delete(ip);
    }
    for (const { eniId, ips } of d.adopted) {
      const e = this.#enis.get(eniId);
      if (e !== undefined) e.res = { ...e.res, ips: [...e.res.ips, ...ips] };
    }
    if (d.dropped.length + d.adopted.length > 0) {
      this.#log.warn('pool: synced with the node\'s view', { adopted: d.adopted.flatMap((a) => a.ips), dropped: d.dropped.map((x) => x.ip) });
      this.#save();
      this.#serve();
      this.#kick(0);
    }
    return d;
  }

  /** The ENI an IP of the pool belongs to. */
  eniOf(ip: IpAddr): EniResource | undefined {
    return this.#entryOf(ip)?.res;
  }

  acquire(o: AcquireOptions): Promise<PoolIp> {
    if (this.#stopped) return Promise.reject(new ExhaustedError(`${o.label}: the pool is stopped`));
    // not started (its start failed: the cloud refused or was unreachable): fail now, never wait for nothing
    if (this.#limits === undefined) return Promise.reject(new UnavailableError(`${o.label}: the ${this.#f.name} ENI pool has not started${this.#startFailure !== undefined ? `: ${this.#startFailure}` : ''}; retrying`));
    const announced = this.#consume(o.pod);
    if (o.requested !== undefined) {
      try {
        return Promise.resolve(this.#take(o.requested, o.held === true, announced));
      } catch (e) {
        return Promise.reject(toError(e));
      }
    }
    const ip = this.#pickIdle();
    if (ip !== undefined) return Promise.resolve(this.#lease(ip, announced));
    return new Promise<PoolIp>((resolve, reject) => {
      const w: Waiter = { label: o.label, since: this.#clock.now(), resolve, reject };
      this.#waiters.push(w);
      const onAbort = (): void => {
        this.#waiters = this.#waiters.filter((x) => x !== w);
        reject(new ExhaustedError(`${o.label}: gave up waiting for an IP from the cloud`));
      };
      o.signal?.addEventListener('abort', onAbort, { once: true });
      o.onWait?.({ what: this.waitReason().text });
      this.#kick(this.#o.coalesceMs);
    });
  }

  /** The IP goes back to idle (the lease is gone); the watermarks are kept. */
  release(ip: IpAddr): void {
    const e = this.#entryOf(ip);
    if (e?.leased.delete(ip) !== true) return;
    this.#lastChange = this.#clock.now();
    this.#releasedAt.set(ip, this.#lastChange);
    this.#serve();
    this.#rebalance(false);
    this.#kick(this.#o.coalesceMs);
  }

  #take(ip: IpAddr, held: boolean, announced: boolean): PoolIp {
    const e = this.#entryOf(ip);
    if (e === undefined) throw new InvalidInputError('IP', `${ip} is not on any of this node's ENIs`);
    if (held) {
      if (!e.leased.has(ip)) throw new ConflictError(`${ip} was not held (its reservation is gone)`);
      return { ip, eni: e.res };
    }
    if (e.leased.has(ip)) throw new ConflictError(`${ip} is already in use on this node`);
    if (e.releasing.has(ip)) throw new ConflictError(`${ip} is being given back to the cloud`);
    e.retiring.delete(ip); // retired, no call yet: still ours
    return this.#lease(ip, announced);
  }

  /** `announced`: the pod was expected and its IP was ready (not part of the burst history). */
  #lease(ip: IpAddr, announced: boolean): PoolIp {
    const e = this.#entryOf(ip);
    if (e === undefined) throw new InvalidInputError('IP', `${ip} is not in the pool`);
    e.retiring.delete(ip);
    e.leased.add(ip);
    const now = this.#clock.now();
    this.#recent = [...this.#recent.filter((t) => t > now - this.#o.demand.historyMs), ...(announced ? [] : [now])];
    this.#lastChange = now;
    this.#kick(this.#o.coalesceMs);
    return { ip, eni: e.res };
  }

  #entryOf(ip: IpAddr): Entry | undefined {
    for (const e of this.#enis.values()) if (e.res.ips.includes(ip)) return e;
    return undefined;
  }

  /** Unleased IPs no call is giving back (the retired ones included). */
  #freeOf(e: Entry): IpAddr[] {
    return e.res.ips.filter((ip) => !e.leased.has(ip) && !e.releasing.has(ip));
  }

  #idleOf(e: Entry): IpAddr[] {
    return this.#freeOf(e).filter((ip) => !e.retiring.has(ip));
  }

  /**
   * An idle IP of the fullest ENI (emptier ENIs stay free to be released), the one idle longest; when none is idle,
   * a retired IP whose call has not started (cheaper than asking the cloud).
   */
  #pickIdle(): IpAddr | undefined {
    const at = (ip: IpAddr): number => this.#releasedAt.get(ip) ?? Number.NEGATIVE_INFINITY;
    for (const of of [(e: Entry): IpAddr[] => this.#idleOf(e), (e: Entry): IpAddr[] => [...e.retiring]]) {
      const first = [...this.#enis.values()].filter((e) => of(e).length > 0).sort((a, b) => b.leased.size - a.leased.size || a.res.id.localeCompare(b.res.id))[0];
      if (first !== undefined) return [...of(first)].sort((a, b) => at(a) - at(b))[0];
    }
    return undefined;
  }

  /**
   * Retires idle above max_pool_size (and, at plan time, reclaim's batch) or brings retired IPs back when demand
   * needs them (./retire.ts), then spreads the retired IPs over the ENIs for the fewest calls. Synchronous: idle
   * never shows above max_pool_size between a DEL and the next plan.
   */
  #rebalance(planTime: boolean): void {
    const limits = this.#limits;
    if (limits === undefined) return;
    const base = this.#snapshot();
    const snap = planTime ? base : { ...base, reclaimDue: false };
    const delta = retireDelta(limits, snap, this.#o.demand);
    const entries = [...this.#enis.values()];
    const retired = entries.reduce((n, e) => n + e.retiring.size, 0);
    if (delta > 0 && planTime && reclaimShare(limits, snap, this.#o.demand) > 0) this.#reclaimed(snap.now);
    const want = Math.max(0, retired + delta);
    if (want === retired && !planTime) return;
    const deletable = entries.filter((e) => !e.deleting).length - warmEniTarget(limits, snap, this.#o.demand);
    const spread = spreadRetired(
      entries.map((e) => {
        const free = this.#freeOf(e);
        return { id: e.res.id, ips: e.res.ips.length, free: free.length, freeSecondary: free.filter((ip) => ip !== e.res.primaryIp).length, assigning: e.assigning, busy: e.busy, deleting: e.deleting };
      }),
      want,
      deletable,
    );
    // the most recently released go first (the idle longest are served first)
    const at = (ip: IpAddr): number => this.#releasedAt.get(ip) ?? Number.NEGATIVE_INFINITY;
    for (const e of entries) {
      e.retiring.clear();
      const share = spread.get(e.res.id);
      if (share === undefined) continue;
      const pool = share.whole ? this.#freeOf(e) : this.#freeOf(e).filter((ip) => ip !== e.res.primaryIp).sort((a, b) => at(b) - at(a));
      for (const ip of pool.slice(0, share.count)) e.retiring.add(ip);
    }
  }

  #serve(): void {
    while (this.#waiters.length > 0) {
      const ip = this.#pickIdle();
      if (ip === undefined) return;
      const w = this.#waiters.shift();
      if (w === undefined) return;
      w.resolve(this.#lease(ip, false));
      this.#log.info('allocation served after waiting', { pod: w.label, ip, waitedMs: this.#clock.now() - w.since });
    }
  }

  /** Why an allocation finding no idle IP waits now (./wait-reason.ts), from the pool's live state. */
  waitReason(): PoolWaitReason {
    const now = this.#clock.now();
    const entries = [...this.#enis.values()];
    const ids = [...new Set([...this.#knownVSwitches, ...this.#vswInhibit.keys()])];
    return poolWaitReason({
      now,
      cloud: this.#f.name,
      started: this.#limits !== undefined,
      ...(this.#startFailure !== undefined ? { startFailure: this.#startFailure } : {}),
      creating: [...this.#creating.values()],
      assigning: entries.reduce((n, e) => n + e.assigning, 0),
      assignCalls: entries.filter((e) => e.assigning > 0).length,
      vSwitches: ids.map((id) => ({ id, inhibitedUntil: this.#vswInhibit.get(id) ?? 0 })),
      createInhibitedUntil: this.#createInhibitUntil,
      pausedUntil: this.#pausedUntil,
      fatalPause: this.#fatalPause,
      ...(this.#lastFailure !== undefined ? { lastFailure: this.#lastFailure } : {}),
    });
  }

  #add(res: EniResource): Entry {
    const e: Entry = { res, leased: new Set(), releasing: new Set(), retiring: new Set(), assigning: 0, inhibitedUntil: 0, busy: false, deleting: false };
    this.#enis.set(res.id, e);
    return e;
  }

  #save(): void {
    this.#j.saveEnis([...this.#enis.values()].map((e) => e.res));
  }

  #kick(delayMs: number): void {
    if (this.#stopped || this.#timer !== undefined) return;
    this.#timer = this.#clock.after(delayMs, () => {
      this.#timer = undefined;
      this.#reconcile();
    });
  }

  #snapshot(): PoolSnapshot {
    const now = this.#clock.now();
    const enis: EniView[] = [...this.#enis.values()].map((e) => {
      const idle = this.#idleOf(e);
      return {
        id: e.res.id,
        vSwitchId: e.res.vSwitchId,
        ips: e.res.ips.length,
        idle: idle.length,
        idleSecondary: idle.filter((ip) => ip !== e.res.primaryIp).length,
        leased: e.leased.size,
        retiring: e.retiring.size,
        assigning: e.assigning,
        inhibitedUntil: e.inhibitedUntil,
        busy: e.busy,
        deleting: e.deleting,
      };
    });
    const reclaimDue = this.#o.reclaimAfterMs !== undefined && now - this.#lastChange >= this.#o.reclaimAfterMs;
    const scheduled = this.#expectedCount();
    this.#recordDemand(now, [...this.#enis.values()].reduce((n, e) => n + e.leased.size, 0) + this.#waiters.length + scheduled);
    return {
      now, enis, creating: [...this.#creating.values()].map((c) => ({ ips: c.ips })), vSwitches: [], waiting: this.#waiters.length, scheduled, recentAllocations: this.#recent,
      reclaimDue, ...(reclaimDue ? { reclaimBatch: now >= this.#nextReclaimAt ? this.#o.reclaimBatch : 0 } : {}), demandHistory: this.#demand,
    };
  }

  /** Keeps the demand samples of the history window (a sample no higher than a later one adds nothing to the peak). */
  #recordDemand(now: number, pods: number): void {
    const from = now - this.#o.demand.historyMs;
    this.#demand = [...this.#demand.filter((x) => x.at > from && x.pods > pods), { at: now, pods }];
  }

  /** A reclaim batch went: the next one after the interval ± jitter (and the pool re-plans then). */
  #reclaimed(now: number): void {
    const o = this.#o;
    const wait = Math.max(0, Math.round(o.reclaimIntervalMs * (1 + o.reclaimJitter * (2 * this.#random() - 1))));
    this.#nextReclaimAt = now + wait;
    this.#reclaimTimer?.cancel();
    this.#reclaimTimer = this.#clock.after(wait, () => {
      this.#reclaimTimer = undefined;
      this.#kick(0);
    });
  }

  #reconcile(): void {
    const limits = this.#limits;
    if (limits === undefined || this.#stopped) return;
    void this.#f
      .vSwitches()
      .then((vsws) => {
        const base = this.#snapshot();
        const now = base.now;
        this.#knownVSwitches = vsws.map((v) => v.id);
        if (now < this.#pausedUntil) {
          if (this.#fatalPause) for (const w of this.#waiters.splice(0)) w.reject(new ExhaustedError(`${w.label}: no IP: the cloud refused the last call (${this.#blocked}); the pool tries again in ${String(Math.ceil((this.#pausedUntil - now) / 1000))} s`));
          this.#retry(this.#pausedUntil - now);
          return;
        }
        this.#fatalPause = false;
        this.#rebalance(true);
        const createAllowed = this.#createInhibitUntil <= now;
        const vSwitches = createAllowed ? vsws.map((v) => ({ ...v, inhibitedUntil: Math.max(v.inhibitedUntil ?? 0, this.#vswInhibit.get(v.id) ?? 0) })) : [];
        const snap = { ...this.#snapshot(), vSwitches };
        this.#warmTarget = warmEniTarget(limits, snap, this.#o.demand);
        const planned = planRefill(limits, snap, this.#o.demand);
        // an unfinished create is completed even when no refill is due (else its ENI would wait in the cloud, unknown)
        const refill = this.#unfinishedCreate !== undefined && !planned.some((x) => x.kind === 'create-eni') && this.#creating.size === 0 ? [...planned, { kind: 'create-eni' as const, vSwitchId: this.#unfinishedCreate.vSwitchId, count: this.#unfinishedCreate.count }] : planned;
        const release = refill.length === 0 && this.#waiters.length === 0 ? planRelease([...this.#enis.values()].map((e) => ({ id: e.res.id, retired: e.retiring.size, whole: e.retiring.size === e.res.ips.length, busy: e.busy, deleting: e.deleting }))) : [];
        for (const a of [...refill, ...release]) this.#run(a);
        if (refill.length === 0 && this.#inFlight === 0 && this.#waiters.length > 0) this.#failWaiters(limits, snap, createAllowed);
      })
      .catch((e: unknown) => {
        this.#log.warn('pool: vSwitches unknown, retrying', { err: errorMessage(e) });
        this.#retry(this.#o.retryMs);
      });
  }

  #failWaiters(limits: PoolLimits, snap: PoolSnapshot, createAllowed: boolean): void {
    const held = snap.enis.reduce((n, e) => n + e.ips, 0);
    const why =
      held >= limits.maxEnis * limits.ipsPerEni
        ? `this node holds all ${String(held)} IPs it may have (${String(limits.maxEnis)} ENIs × ${String(limits.ipsPerEni)} IPs)`
        : !createAllowed
          ? `ENI creation is paused after the instance reached its ENI quota${this.#blocked !== '' ? ` (${this.#blocked})` : ''}`
          : `every vSwitch is out of addresses or inhibited${this.#blocked !== '' ? ` (last: ${this.#blocked})` : ''}`;
    for (const w of this.#waiters.splice(0)) w.reject(new ExhaustedError(`${w.label}: no IP: ${why}`));
  }

  #retry(ms: number): void {
    if (this.#stopped || this.#retryTimer !== undefined) return;
    this.#retryTimer = this.#clock.after(ms, () => {
      this.#retryTimer = undefined;
      this.#kick(0);
    });
  }

  #run(a: PoolAction): void {
    // a create whose outcome is unknown (it failed transiently: the ENI may exist) is made again first, with its
    // own token and parameters: the cloud answers with the ENI it made, never a second one
    const unfinished = a.kind === 'create-eni' ? this.#unfinishedCreate : undefined;
    if (unfinished !== undefined) this.#unfinishedCreate = undefined;
    this.#inFlight++;
    this.#opSeq++;
    const id = unfinished?.id ?? this.#newToken();
    const token = unfinished?.token ?? this.#newToken();
    const started = this.#clock.now();
    let op: Promise<void>;
    switch (a.kind) {
      case 'create-eni': {
        const vSwitchId = unfinished?.vSwitchId ?? a.vSwitchId;
        const count = unfinished?.count ?? a.count;
        this.#creating.set(id, { ips: count, vSwitchId, since: started });
        if (unfinished === undefined) this.#j.begin({ id, kind: a.kind, vSwitchId, count, token, startedAt: started });
        let keep = false;
        op = this.#f.createEni(vSwitchId, count, token).then(
          (res) => {
            this.#add(res);
            this.#lastFailure = undefined;
            this.#log.info('pool: ENI created', { eni: res.id, vSwitch: res.vSwitchId, ips: res.ips.length, ms: this.#clock.now() - started, ...(unfinished !== undefined ? { retriedToken: true } : {}) });
          },
          (e: unknown) => {
            if (this.#f.classify(e) === 'transient') {
              // journalled still: made again (same token) at the next plan, or by the recovery after a restart
              this.#unfinishedCreate = { id, token, vSwitchId, count };
              keep = true;
            }
            this.#failed({ ...a, vSwitchId, count }, e);
          },
        ).finally(() => {
          this.#creating.delete(id);
          if (keep) this.#keepJournal.add(id);
        });
        break;
      }
      case 'assign': {
        const e = this.#enis.get(a.eniId);
        if (e === undefined || e.busy) { this.#inFlight--; return; }
        e.busy = true;
        e.assigning += a.count;
        this.#j.begin({ id, kind: a.kind, eniId: a.eniId, count: a.count, token, startedAt: started });
        op = this.#f.assignIps(a.eniId, a.count, token).then(
          (ips) => { e.res = { ...e.res, ips: [...e.res.ips, ...ips.filter((ip) => !e.res.ips.includes(ip))] }; this.#lastFailure = undefined; },
          (err: unknown) => { this.#failed(a, err); },
        ).finally(() => { e.assigning -= a.count; e.busy = false; });
        break;
      }
      case 'unassign': {
        const e = this.#enis.get(a.eniId);
        const ips = e === undefined ? [] : [...e.retiring].filter((ip) => ip !== e.res.primaryIp).slice(0, a.count);
        if (e === undefined || e.busy || ips.length === 0) { this.#inFlight--; return; }
        e.busy = true;
        for (const ip of ips) { e.retiring.delete(ip); e.releasing.add(ip); }
        this.#j.begin({ id, kind: a.kind, eniId: a.eniId, ips, startedAt: started });
        op = this.#f.unassignIps(a.eniId, ips).then(
          () => { e.res = { ...e.res, ips: e.res.ips.filter((ip) => !ips.includes(ip)) }; },
          (err: unknown) => { this.#failed(a, err); },
        ).finally(() => { for (const ip of ips) e.releasing.delete(ip); e.busy = false; });
        break;
      }
      case 'delete-eni': {
        const e = this.#enis.get(a.eniId);
        if (e === undefined || e.busy || e.leased.size > 0 || e.retiring.size !== e.res.ips.length) { this.#inFlight--; return; }
        e.busy = true;
        e.deleting = true;
        e.retiring.clear();
        for (const ip of e.res.ips) e.releasing.add(ip);
        this.#j.begin({ id, kind: a.kind, eniId: a.eniId, startedAt: started });
        op = this.#f.deleteEni(a.eniId).then(
          () => { this.#enis.delete(a.eniId); },
          (err: unknown) => { e.releasing.clear(); this.#failed(a, err); },
        ).finally(() => { e.busy = false; e.deleting = false; });
        break;
      }
    }
    this.#calls.track(op.finally(() => {
      this.#inFlight--;
      if (this.#calls.closed) return;
      if (!this.#keepJournal.delete(id)) this.#j.end(id);
      // the pool's own releases are no change for idle reclaim (it would never finish); new IPs are
      if (a.kind === 'create-eni' || a.kind === 'assign') this.#lastChange = this.#clock.now();
      this.#save();
      this.#serve();
      this.#rebalance(false);
      this.#kick(0);
    }));
  }

  #failed(a: PoolAction, err: unknown): void {
    const kind = this.#f.classify(err);
    const now = this.#clock.now();
    const msg = errorMessage(err);
    this.#blocked = `${a.kind}: ${msg}`;
    const vSwitchId = a.kind === 'create-eni' ? a.vSwitchId : 'eniId' in a ? this.#enis.get(a.eniId)?.res.vSwitchId : undefined;
    const cause = this.#f.cause?.(err);
    this.#lastFailure = { action: a.kind, kind, message: msg, at: now, ...(cause !== undefined ? { cause } : {}), ...(vSwitchId !== undefined ? { vSwitchId } : {}) };
    this.#log.warn('pool: cloud call failed', { action: a.kind, ...('eniId' in a ? { eni: a.eniId } : {}), ...('vSwitchId' in a ? { vSwitch: a.vSwitchId } : {}), kind, err: msg });
    switch (kind) {
      case 'vswitch-exhausted':
        if (a.kind === 'create-eni') this.#vswInhibit.set(a.vSwitchId, now + this.#o.inhibitVSwitchMs);
        else if (a.kind === 'assign') {
          const e = this.#enis.get(a.eniId);
          if (e !== undefined) {
            this.#vswInhibit.set(e.res.vSwitchId, now + this.#o.inhibitVSwitchMs);
            e.inhibitedUntil = now + this.#o.inhibitVSwitchMs;
          }
        }
        return;
      case 'eni-quota':
        if (a.kind === 'create-eni') this.#createInhibitUntil = now + this.#o.inhibitEniMs;
        else if (a.kind === 'assign') {
          const e = this.#enis.get(a.eniId);
          if (e !== undefined) e.inhibitedUntil = now + this.#o.inhibitEniMs;
        }
        return;
      case 'transient':
        this.#pausedUntil = Math.max(this.#pausedUntil, now + this.#o.retryMs);
        return;
      case 'fatal':
        this.#pausedUntil = now + this.#o.fatalRetryMs;
        this.#fatalPause = true;
        for (const w of this.#waiters.splice(0)) w.reject(new ExhaustedError(`${w.label}: no IP: ${a.kind} failed: ${msg}`));
        return;
    }
  }
}
