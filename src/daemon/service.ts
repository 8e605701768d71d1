/**
 * The daemon's use cases (no transport types): allocate, lookup, release, status, gc, and draining the releases the
 * plugin recorded while the daemon was down. All state lives in the lease store; requests are already parsed.
 */
import type { CloudProvider, LocalFacts } from '../cloud/types.js';
import type { EniResource } from '../pool/types.js';
import { StaticSource, type AddressSource } from '../pool/source.js';
import { BusyError, ConflictError, errorMessage, HubError, InvalidInputError, toError, UnavailableError } from '../lib/errors.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { listPendingReleases, removePendingRelease } from '../lib/pending-release.js';
import { parseAllocation } from '../modes/allocation.js';
import type { Allocation, EniFacts } from '../modes/types.js';
import type { IpAddr } from '../lib/brand.js';
import type {
  AllocateReply,
  AllocateRequest,
  AttachmentKey,
  ConfirmReply,
  ConfirmRequest,
  GcReply,
  GcRequest,
  LookupReply,
  LookupRequest,
  ReleaseReply,
  ReleaseRequest,
  StatusReply,
} from '../rpc/protocol.js';
import { InFlight, attachmentKeyOf, podKeyOf } from './in-flight.js';
import { exclusiveFields } from './exclusive-allocation.js';
import type { AllocationObserver, PodFacts, PodFactsSource } from './k8s/hooks.js';
import type { Lease } from '../store/lease.js';
import { createHubMetrics, timePhase, type HubMetrics, type HubMetricsOptions, type PoolProbe } from './metrics.js';
import type { LeaseStore } from '../store/store.js';
import type { WaitRegistry } from './waits.js';

export interface HubServiceDeps {
  readonly store: LeaseStore;
  readonly provider: CloudProvider;
  /**
   * Where addresses come from (the podCIDR set in VPC mode, the warm pool in the ENI modes); default: the provider's
   * static address set.
   */
  readonly source?: AddressSource;
  readonly mtu: number;
  readonly log?: Logger;
  readonly now?: () => Date;
  /** Kubernetes pod facts (hostNetwork, stickiness, bandwidth); absent without Kubernetes. */
  readonly podFacts?: PodFactsSource;
  readonly observer?: AllocationObserver;
  /** How long a sticky pod's IP waits for it after release (Terway's IPStickTime: 5 min). */
  readonly stickTtlMs?: number;
  /** Told after a lease is released (deleted or turned into a reservation); must not block. Errors are logged. */
  readonly onReleased?: (lease: Lease) => void;
  /** Told when an ADD confirmed its dataplane (Confirm): live updates may touch the attachment now. Must not block. */
  readonly onSettled?: (lease: Lease) => void;
  /** How long an ADD may build its dataplane before live updates stop waiting for its Confirm (default 60 s). */
  readonly buildDeadlineMs?: number;
  /**
   * Sets up a secondary ENI on the host the first time an IP of it is granted (./eni-host-setup.ts: link up, the
   * mode's per-ENI routes); throws when it cannot (the grant goes back, the ADD fails and is retried).
   */
  readonly prepareEni?: (provider: CloudProvider, local: LocalFacts, eni: EniResource, facts: EniFacts) => Promise<void>;
  /**
   * Programs the new lease's NetworkPolicy rules (the builtin backend) before the ADD's reply; throwing fails the
   * ADD (the lease is removed, the IP goes back): no pod runs without its policy.
   */
  readonly isolate?: (lease: Lease) => Promise<void>;
  /** Told where each pod's allocation is and why it waits (`terway-hub why`, the `AllocIPWaiting` event). */
  readonly waits?: WaitRegistry;
  /** The registry to register in (the daemon's one) and what Terway's factory gauges read. */
  readonly metrics?: HubMetricsOptions;
}

/**
 * Longer than any plugin deadline (NetConf timeoutMs, 25 s by default): an ADD that never confirms (plugin killed)
 * stops blocking live updates after this.
 */
export const DEFAULT_BUILD_DEADLINE_MS = 60_000;

/** What the service allocates from: switched as a whole when the node's mode changes. */
export interface ServiceRuntime {
  readonly provider: CloudProvider;
  readonly source: AddressSource;
  readonly mtu: number;
}

/** The provider's fixed address set as a source (VPC's podCIDR; the ENI modes without a pool). */
export function staticSourceOf(provider: CloudProvider): AddressSource {
  const s = provider.ipSource();
  return new StaticSource(s.subnet, s.addresses);
}

/** A lease as its attachment and generation (its creation time: a DEL + re-ADD makes a new one). */
export type LeaseGeneration = Pick<Lease, 'containerId' | 'ifName' | 'createdAt'>;

export const DEFAULT_STICK_TTL_MS = 5 * 60_000;

export interface DrainResult {
  readonly released: readonly AttachmentKey[];
  readonly skipped: readonly AttachmentKey[];
}

export class HubService implements PoolProbe {
  readonly metrics: HubMetrics;
  readonly #store: LeaseStore;
  #runtime: ServiceRuntime;
  readonly #podFacts: PodFactsSource | undefined;
  readonly #observer: AllocationObserver | undefined;
  readonly #onReleased: ((lease: Lease) => void) | undefined;
  readonly #stickTtlMs: number;
  readonly #log: Logger;
  readonly #now: () => Date;
  /** Every source allocated from since start, the current one first: a released IP goes back to its own. */
  #sources: AddressSource[];
  readonly #inFlight = new InFlight();
  /**
   * attachment key → until when the plugin may be working on its dataplane: an ADD building it (from Allocate to
   * Confirm) or a DEL tearing it down (from its Lookup to the Release). Live updates keep off until then.
   */
  readonly #dataplaneBusy = new Map<string, number>();
  readonly #buildDeadlineMs: number;
  readonly #onSettled: ((lease: Lease) => void) | undefined;
  readonly #prepareEni: HubServiceDeps['prepareEni'];
  readonly #isolate: HubServiceDeps['isolate'];
  readonly #waits: WaitRegistry | undefined;
  /** Leases older than this were written by an earlier daemon: their ADD's Confirm may have gone to it. */
  readonly #startedAt: number;
  #ready = false;
  #statusDetail: (() => Pick<StatusReply, 'policy' | 'configError' | 'nodeSetup' | 'pools'>) | undefined;
  /** Why new allocations are refused (the Node refuses the cluster config); undefined when they are not. */
  #refusal: string | undefined;
  #attachmentGc: ((req: GcRequest) => Promise<GcReply>) | undefined;
  #reason = 'starting';

  constructor(deps: HubServiceDeps) {
    this.#store = deps.store;
    const source = deps.source ?? staticSourceOf(deps.provider);
    this.#runtime = { provider: deps.provider, source, mtu: deps.mtu };
    this.#sources = [source];
    this.#podFacts = deps.podFacts;
    this.#observer = deps.observer;
    this.#onReleased = deps.onReleased;
    this.#stickTtlMs = deps.stickTtlMs ?? DEFAULT_STICK_TTL_MS;
    this.#log = deps.log ?? silentLogger;
    this.#now = deps.now ?? (() => new Date());
    this.#buildDeadlineMs = deps.buildDeadlineMs ?? DEFAULT_BUILD_DEADLINE_MS;
    this.#onSettled = deps.onSettled;
    this.#prepareEni = deps.prepareEni;
    this.#isolate = deps.isolate;
    this.#waits = deps.waits;
    this.#startedAt = this.#now().getTime();
    this.metrics = createHubMetrics(this, deps.metrics);
  }

  get mode(): string {
    return this.#runtime.provider.mode;
  }

  /**
   * New allocations come from `runtime` from now on. Leases of the previous mode stay valid: they keep their
   * allocation (and its mode, which DEL/CHECK plan from) and their IP stays taken (one IP index for all modes).
   */
  switchTo(next: Omit<ServiceRuntime, 'source'> & { readonly source?: AddressSource }): void {
    const from = this.#runtime.provider.mode;
    const runtime: ServiceRuntime = { ...next, source: next.source ?? staticSourceOf(next.provider) };
    this.#runtime = runtime;
    this.#sources = [runtime.source, ...this.#sources.filter((x) => x !== runtime.source)];
    if (from !== runtime.provider.mode) this.#log.info('mode switched: new pods get the new dataplane', { from, to: runtime.provider.mode });
  }

  get runtime(): ServiceRuntime {
    return this.#runtime;
  }

  setReady(ready: boolean, reason = ''): void {
    this.#ready = ready;
    this.#reason = ready ? '' : reason;
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** Refuses new allocations (UnavailableError naming `reason`) and reports not ready; undefined lifts it. */
  setRefusal(reason: string | undefined): void {
    this.#refusal = reason;
    if (reason !== undefined) this.setReady(false, reason);
  }

  async allocate(req: AllocateRequest, signal?: AbortSignal): Promise<AllocateReply> {
    if (this.#refusal !== undefined) throw new UnavailableError(`not serving: ${this.#refusal}`);
    const keys = [attachmentKeyOf(req.containerId, req.ifName), podKeyOf(req.podNamespace, req.podName)].filter(isString);
    const started = performance.now();
    let facts: PodFacts | undefined;
    const ticket = this.#waits?.begin(req.podNamespace, req.podName);
    try {
      const outcome = await this.#inFlight.run(keys, 'allocate', async (): Promise<{ reply: AllocateReply; fresh: boolean; fromReservation: boolean }> => {
        const existing = this.#store.get(req);
        if (existing !== undefined) {
          if (req.requestedIp !== undefined && existing.allocation.ip !== req.requestedIp) {
            throw new ConflictError(`requested IP ${req.requestedIp}: this attachment already holds ${existing.allocation.ip} (DEL it first)`);
          }
          this.#log.info('allocate: existing lease', { containerId: req.containerId, ifName: req.ifName, ip: existing.allocation.ip });
          this.#markBusy(req); // a retried ADD builds again
          return { reply: { allocation: existing.allocation }, fresh: false, fromReservation: false };
        }
        facts = await this.#factsFor(req);
        if (facts?.hostNetwork === true) throw new InvalidInputError('pod', `${req.podNamespace}/${req.podName} uses the host network: it gets no pod IP`);
        this.purgeExpiredReservations();
        const { provider, mtu, source } = this.#runtime; // one snapshot: a mode switch mid-request cannot mix modes
        const phases = this.metrics.addPhase;
        const local = await timePhase(phases, 'node_facts', () => provider.localFacts());
        const requested = req.requestedIp === undefined ? undefined : this.#requestedIp(req.requestedIp, source);
        const reserved = requested === undefined ? this.#reservedIp(req, source) : undefined;
        const fromReservation = reserved !== undefined;
        const label = req.podName === '' ? `${req.containerId}/${req.ifName}` : `${req.podNamespace}/${req.podName}`;
        ticket?.phase('address', source.waitReason === undefined ? undefined : () => source.waitReason?.());
        let waited = false; // for the pool's cloud call: the time is the cloud's, not the pool's
        const grant = await timePhase(phases, () => (waited ? 'cloud' : 'pool'), () => source.take({
          label,
          ...(req.podName !== '' ? { pod: `${req.podNamespace}/${req.podName}` } : {}),
          ...(requested !== undefined ? { requested } : reserved !== undefined ? { requested: reserved, reserved: true } : {}),
          used: this.#store.usedIps(),
          ...(signal !== undefined ? { signal } : {}),
          onWait: () => {
            waited = true;
            ticket?.waiting();
          },
        }));
        const ip = grant.ip;
        let allocation: Allocation;
        try {
          // inside the try: a grant whose ENI cannot be found or set up on the host goes back to the pool
          ticket?.phase('eni-setup');
          const granted = grant.eni;
          const eni = local.exclusive !== undefined ? undefined : granted !== undefined && provider.eniFactsOf !== undefined ? await timePhase(phases, 'eni_setup', () => this.#eniFacts(provider, local, granted)) : local.eni;
          allocation = parseAllocation({
            mode: provider.mode,
            ip,
            subnet: grant.subnet,
            mtu,
            ...(eni !== undefined ? { eni } : {}),
            ...(local.ipvlan !== undefined ? { eniMac: grant.eni?.mac ?? local.ipvlan.eniMac, hostIp: local.ipvlan.hostIp } : {}),
            ...(local.exclusive !== undefined ? exclusiveFields(grant, local.exclusive) : {}),
            // the pod's bandwidth annotations travel with the allocation (the plugin shapes from it)
            ...(facts?.bandwidth !== undefined ? { bandwidth: facts.bandwidth } : {}),
          });
          if (signal?.aborted === true) throw new UnavailableError('request deadline passed before the lease was written');
          const lease = leaseFor(req, allocation, this.#now(), facts?.sticky === true && req.podName !== '');
          // one fsync for the concurrent ADDs of this moment (src/store/group-commit.ts); the reply waits for it
          const { durable } = this.#store.inGroup(() => { this.#store.put(lease); });
          try {
            const isolate = this.#isolate;
            ticket?.phase('policy');
            if (isolate !== undefined) await timePhase(phases, 'policy', () => isolate(lease)); // NetworkPolicy rules in place before the pod's network exists
            ticket?.phase('storing');
            await timePhase(phases, 'store', () => durable);
          } catch (e) {
            this.#store.delete(req);
            this.#notifyReleased(lease); // listeners that saw the pod join (the enforcer's overlay) forget it again
            throw e instanceof HubError ? e : new UnavailableError(errorMessage(e));
          }
        } catch (e) {
          if (!fromReservation) source.untake(ip); // not recorded: the address goes back as it came
          throw e;
        }
        this.#log.info('allocate: new lease', { containerId: req.containerId, ifName: req.ifName, pod: `${req.podNamespace}/${req.podName}`, ip, mode: provider.mode, reserved: fromReservation });
        this.#markBusy(req);
        return { reply: { allocation }, fresh: true, fromReservation };
      });
      const { reply, fresh, fromReservation } = outcome;
      ticket?.end();
      if (fresh) this.#observer?.succeeded({ req, allocation: reply.allocation, facts, elapsedMs: performance.now() - started, fromReservation });
      return reply;
    } catch (e) {
      ticket?.end(e);
      this.metrics.allocationFailures.inc({ reason: e instanceof HubError ? e.code : 'internal' });
      if (!(e instanceof BusyError)) this.#observer?.failed({ req, error: toError(e), facts, elapsedMs: performance.now() - started });
      throw e;
    }
  }

  /** A granted secondary ENI's host facts (by MAC), set up on the host the first time (`prepareEni`). */
  async #eniFacts(provider: CloudProvider, local: LocalFacts, eni: EniResource): Promise<EniFacts | undefined> {
    const facts = await provider.eniFactsOf?.(eni);
    if (facts !== undefined) await this.#prepareEni?.(provider, local, eni, facts);
    return facts;
  }

  /** Pod facts, when Kubernetes is configured and the request names a pod. Lookup errors are logged, not fatal. */
  async #factsFor(req: AllocateRequest): Promise<PodFacts | undefined> {
    if (this.#podFacts === undefined || req.podName === '') return undefined;
    try {
      const source = this.#podFacts;
      const facts = await timePhase(this.metrics.addPhase, 'pod_facts', () => source.get(req.podNamespace, req.podName));
      if (facts === undefined) this.#log.warn('allocate: pod not found in the API; allocating without pod facts', { pod: `${req.podNamespace}/${req.podName}` });
      return facts;
    } catch (e) {
      if (e instanceof HubError && e.code === 'config') throw e; // a bad annotation is the pod's problem: refuse
      this.#log.warn('allocate: pod lookup failed; allocating without pod facts', { pod: `${req.podNamespace}/${req.podName}`, err: errorMessage(e) });
      return undefined;
    }
  }

  /**
   * An IP the runtime asked for (CNI_ARGS `IP=`, runtimeConfig `ips`): given when it is in the current pool and no
   * other attachment holds it. A reservation of another pod is refused by the store's put. The release cool-down
   * does not apply: the request is explicit (podman's network reload re-ADDs the IP its DEL just released).
   */
  #requestedIp(ip: IpAddr, source: AddressSource): IpAddr {
    if (!source.has(ip)) throw new InvalidInputError('IP', `requested IP ${ip} is not in this node's pool (${source.describe})`);
    const holder = this.#store.findByIp(ip);
    if (holder !== undefined) {
      const pod = holder.podName === '' ? '' : ` (pod ${holder.podNamespace}/${holder.podName})`;
      throw new ConflictError(`requested IP ${ip} is held by container ${holder.containerId} interface ${holder.ifName}${pod}`);
    }
    return ip;
  }

  /** The pod's reserved IP when it is still usable in the current pool; an unusable reservation is dropped. */
  #reservedIp(req: AllocateRequest, source: AddressSource): IpAddr | undefined {
    if (req.podName === '') return undefined;
    const r = this.#store.reservation(req.podNamespace, req.podName, req.ifName);
    if (r === undefined) return undefined;
    if (source.has(r.allocation.ip)) return r.allocation.ip;
    this.#store.deleteReservation(r.podNamespace, r.podName, r.ifName);
    this.#returnIp(r.allocation.ip);
    this.#log.info('reservation dropped: its IP is outside the current pool', { pod: `${r.podNamespace}/${r.podName}`, ip: r.ip });
    return undefined;
  }

  /** Frees the IPs of expired reservations (they cool down like any release). */
  purgeExpiredReservations(): number {
    const gone = this.#store.purgeExpiredReservations(this.#now());
    for (const r of gone) {
      this.#returnIp(r.allocation.ip);
      this.#log.info('reservation expired', { pod: `${r.podNamespace}/${r.podName}`, ip: r.ip });
    }
    return gone.length;
  }

  /**
   * The attachment's lease, and whether a newer sandbox of its pod holds the host names. With intent `delete` the
   * answer is given under the pod's key too (no Allocate of another sandbox of the pod is half-way: BusyError, the
   * runtime retries DEL), and live updates keep off the attachment until the Release.
   */
  async lookup(req: LookupRequest): Promise<LookupReply> {
    const seen = req.intent === 'delete' ? this.#store.get(req) : undefined;
    const keys = [attachmentKeyOf(req.containerId, req.ifName), seen === undefined ? undefined : podKeyOf(seen.podNamespace, seen.podName)].filter(isString);
    return this.#inFlight.run(keys, 'lookup', (): Promise<LookupReply> => {
      const lease = this.#store.get(req);
      if (lease === undefined) return Promise.resolve({ found: false });
      if (req.intent === 'delete') this.#markBusy(req);
      const superseded = this.#newerSandboxHolds(lease);
      return Promise.resolve({ found: true, allocation: lease.allocation, netns: lease.netns, ...(superseded ? { superseded } : {}) });
    });
  }

  /** Unknown attachment → released:false (DEL must be idempotent). */
  async release(req: ReleaseRequest): Promise<ReleaseReply> {
    const lease = this.#store.get(req);
    const keys = [attachmentKeyOf(req.containerId, req.ifName), lease === undefined ? undefined : podKeyOf(lease.podNamespace, lease.podName)].filter(isString);
    return this.#inFlight.run(keys, 'release', async () => {
      // one fsync for the concurrent DELs of this moment; the reply waits for it
      const { value: released, durable } = this.#store.inGroup(() => this.#releaseNow(req, req.reason));
      await durable;
      return { released };
    });
  }

  /** The plugin's ADD built the dataplane: the attachment is settled (live updates may touch it). */
  confirm(req: ConfirmRequest): Promise<ConfirmReply> {
    const key = attachmentKeyOf(req.containerId, req.ifName);
    this.#dataplaneBusy.delete(key);
    const lease = this.#store.get(req);
    if (lease !== undefined) this.#notify(this.#onSettled, lease, 'settled');
    // the plugin's own phases, as it measured them (absent from older plugins)
    if (req.timings?.netlinkMs !== undefined) this.metrics.addPhase.observe({ phase: 'netlink' }, req.timings.netlinkMs / 1000);
    if (req.timings?.pluginMs !== undefined) this.metrics.addPhase.observe({ phase: 'plugin' }, req.timings.pluginMs / 1000);
    return Promise.resolve({ confirmed: lease !== undefined });
  }

  /**
   * Until when (epoch ms) the plugin may still be working on the lease's dataplane (an ADD building it, a DEL
   * tearing it down); undefined once settled. A lease an earlier daemon wrote is treated as building until its
   * creation + the deadline (its Confirm went elsewhere).
   */
  busyUntil(lease: LeaseGeneration): number | undefined {
    const key = attachmentKeyOf(lease.containerId, lease.ifName);
    const now = this.#now().getTime();
    const until = this.#dataplaneBusy.get(key) ?? (Date.parse(lease.createdAt) < this.#startedAt ? Date.parse(lease.createdAt) + this.#buildDeadlineMs : undefined);
    if (until === undefined || !(until > now)) {
      this.#dataplaneBusy.delete(key);
      return undefined;
    }
    return until;
  }

  /** The plugin works on the attachment's dataplane from now until its next call (or the deadline). */
  #markBusy(key: AttachmentKey): void {
    this.#dataplaneBusy.set(attachmentKeyOf(key.containerId, key.ifName), this.#now().getTime() + this.#buildDeadlineMs);
  }

  /**
   * Runs `fn` for a settled lease while holding its attachment's in-flight key, so no Allocate, Lookup or Release
   * of it interleaves, and only if the store still holds the same lease (compare-and-set on its creation time: a
   * DEL + re-ADD in between is another generation). BusyError when the attachment is busy, building, or re-created;
   * undefined when the lease is gone.
   */
  async withSettledLease<T>(lease: LeaseGeneration, fn: () => Promise<T>): Promise<T | undefined> {
    const key = attachmentKeyOf(lease.containerId, lease.ifName);
    return this.#inFlight.run([key], 'live update', async () => {
      const current = this.#store.get(lease);
      if (current === undefined) return undefined;
      if (current.createdAt !== lease.createdAt) throw new BusyError(`live update: ${key} was re-created`);
      if (this.busyUntil(current) !== undefined) throw new BusyError(`live update: ${key} has an ADD or DEL in progress`);
      return fn();
    });
  }

  status(): Promise<StatusReply> {
    return Promise.resolve({ ready: this.#ready, mode: this.#runtime.provider.mode, reason: this.#reason, ...this.#statusDetail?.() });
  }

  /** What the daemon adds to Status beyond the service's own state (the NetworkPolicy backend). */
  setStatusDetail(detail: (() => Pick<StatusReply, 'policy' | 'configError' | 'nodeSetup' | 'pools'>) | undefined): void {
    this.#statusDetail = detail;
  }

  /**
   * The CNI GC verb's handler. The garbage collector (src/gc) installs itself here so that attachments the
   * runtime says are gone get their host side torn down as well as their leases released; without it (unit tests,
   * no GC component) the service only releases the leases.
   */
  setAttachmentGc(handler: ((req: GcRequest) => Promise<GcReply>) | undefined): void {
    this.#attachmentGc = handler;
  }

  gc(req: GcRequest): Promise<GcReply> {
    if (this.#attachmentGc !== undefined) return this.#attachmentGc(req);
    return this.releaseInvalid(req);
  }

  /** Releases every lease not in `validAttachments` (no dataplane work). */
  releaseInvalid(req: GcRequest): Promise<GcReply> {
    const valid = new Set(req.validAttachments.map((k) => attachmentKeyOf(k.containerId, k.ifName)));
    const released: AttachmentKey[] = [];
    const errors: string[] = [];
    for (const lease of this.#store.list()) {
      const key = attachmentKeyOf(lease.containerId, lease.ifName);
      if (valid.has(key)) continue;
      if (this.#inFlight.has(key)) {
        errors.push(`${key}: busy, kept`);
        continue;
      }
      try {
        if (this.#releaseNow(lease, 'gc')) released.push({ containerId: lease.containerId, ifName: lease.ifName });
      } catch (e) {
        errors.push(`${key}: ${errorMessage(e)}`);
      }
    }
    return Promise.resolve({ released, errors });
  }

  /**
   * Finishes the releases the plugin recorded while the daemon was unreachable. A lease written after the record
   * (the same attachment added again once the daemon answered, e.g. `podman restart`) is not the one the record
   * meant: it is kept and the stale record dropped.
   */
  async drainPending(dir: string): Promise<DrainResult> {
    const released: AttachmentKey[] = [];
    const skipped: AttachmentKey[] = [];
    for (const rec of await listPendingReleases(dir, this.#log)) {
      const key = { containerId: rec.containerId, ifName: rec.ifName };
      if (this.#inFlight.has(attachmentKeyOf(rec.containerId, rec.ifName))) {
        skipped.push(key);
        continue;
      }
      const lease = this.#store.get(key);
      if (lease !== undefined && Date.parse(lease.createdAt) > Date.parse(rec.at)) {
        this.#log.info('pending release is older than the lease: lease kept, record dropped', { containerId: rec.containerId, ifName: rec.ifName, recordedAt: rec.at, leasedAt: lease.createdAt });
        await removePendingRelease(dir, rec.containerId, rec.ifName);
        continue;
      }
      this.#releaseNow(key, `pending: ${rec.reason}`);
      await removePendingRelease(dir, rec.containerId, rec.ifName);
      released.push(key);
    }
    return { released, skipped };
  }

  leases(): number {
    return this.#store.count();
  }

  poolSize(): number {
    return this.#runtime.source.size();
  }

  poolFree(): number {
    return this.#runtime.source.free(this.#store.usedIps());
  }

  poolHeldForScheduled(): number {
    return this.#runtime.source.heldForScheduled();
  }

  /** The address source of `ip` (the current one, or an earlier mode's). */
  sourceOf(ip: IpAddr): AddressSource | undefined {
    return this.#sources.find((x) => x.has(ip));
  }

  /** A lease or reservation of `ip` is gone for good: its source gets it back. */
  #returnIp(ip: IpAddr): void {
    this.sourceOf(ip)?.returned(ip);
  }

  /** Other sandboxes of the same pod leasing the same interface (kubelet re-created the sandbox). */
  #otherSandboxes(lease: Lease): readonly Lease[] {
    if (lease.podName === '') return []; // no pod identity: host objects are named after the container id
    return this.#store.listByPod(lease.podNamespace, lease.podName).filter((l) => l.ifName === lease.ifName && l.containerId !== lease.containerId);
  }

  /** Another sandbox of the pod holds the interface: the old sandbox's IP is not worth reserving. */
  #otherSandboxHolds(lease: Lease): boolean {
    return this.#otherSandboxes(lease).length > 0;
  }

  /**
   * A sandbox leased after this one holds the interface: the host objects named after the pod were rebuilt by its
   * ADD (which removes a stale host veth of the same name first) and are its own now. Equal times are ordered by
   * container id, so of two sandboxes exactly one is the newer.
   */
  #newerSandboxHolds(lease: Lease): boolean {
    const mine = Date.parse(lease.createdAt);
    return this.#otherSandboxes(lease).some((l) => {
      const theirs = Date.parse(l.createdAt);
      return theirs > mine || (theirs === mine && l.containerId > lease.containerId);
    });
  }

  #releaseNow(key: AttachmentKey, reason: string): boolean {
    const lease = this.#store.get(key);
    if (lease === undefined) return false;
    const released = this.#releaseLease(lease, key, reason);
    if (released) this.#notifyReleased(lease);
    return released;
  }

  #notifyReleased(lease: Lease): void {
    this.#dataplaneBusy.delete(attachmentKeyOf(lease.containerId, lease.ifName));
    this.#notify(this.#onReleased, lease, 'release');
  }

  #notify(listener: ((lease: Lease) => void) | undefined, lease: Lease, what: string): void {
    try {
      listener?.(lease);
    } catch (e) {
      this.#log.warn(`${what} listener failed`, { containerId: lease.containerId, ifName: lease.ifName, err: errorMessage(e) });
    }
  }

  #releaseLease(lease: Lease, key: AttachmentKey, reason: string): boolean {
    if (lease.sticky === true && this.#stickTtlMs > 0 && !this.#otherSandboxHolds(lease)) {
      const now = this.#now();
      const r = this.#store.releaseToReservation(key, now, new Date(now.getTime() + this.#stickTtlMs));
      if (r !== undefined) this.#log.info('release: ip reserved for the pod', { containerId: key.containerId, ifName: key.ifName, pod: `${r.podNamespace}/${r.podName}`, ip: r.ip, until: r.expiresAt, reason });
      return r !== undefined;
    }
    const deleted = this.#store.delete(key);
    if (deleted) {
      this.#returnIp(lease.allocation.ip);
      this.#log.info('release', { containerId: key.containerId, ifName: key.ifName, ip: lease.allocation.ip, reason });
    }
    return deleted;
  }
}

function leaseFor(req: AllocateRequest, allocation: Allocation, at: Date, sticky: boolean): Lease {
  return {
    containerId: req.containerId,
    ifName: req.ifName,
    podNamespace: req.podNamespace,
    podName: req.podName,
    infraContainerId: req.infraContainerId,
    netns: req.netns,
    allocation,
    createdAt: at.toISOString(),
    ...(sticky ? { sticky } : {}),
    ...(req.runtimeBandwidth !== undefined ? { runtimeBandwidth: req.runtimeBandwidth } : {}),
  };
}

function isString(x: string | undefined): x is string {
  return x !== undefined;
}
