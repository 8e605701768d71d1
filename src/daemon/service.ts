/**
 * The daemon's use cases (no gRPC types): allocate, lookup, release, status, gc, and draining the releases the
 * plugin recorded while the daemon was down. All state lives in the lease store; requests are already parsed.
 */
import type { CloudProvider } from '../cloud/types.js';
import { ExhaustedError, HubError, UnavailableError, errorMessage } from '../lib/errors.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { listPendingReleases, removePendingRelease } from '../lib/pending-release.js';
import type { Allocation } from '../modes/types.js';
import { CoolDown } from '../ipam/cool-down.js';
import { freeCount, pickFree, setSize } from '../ipam/range.js';
import type {
  AllocateReply,
  AllocateRequest,
  AttachmentKey,
  GcReply,
  GcRequest,
  LookupReply,
  LookupRequest,
  ReleaseReply,
  ReleaseRequest,
  StatusReply,
} from '../rpc/protocol.js';
import { InFlight, attachmentKeyOf, podKeyOf } from './in-flight.js';
import type { Lease } from './lease.js';
import { createHubMetrics, type HubMetrics, type PoolProbe } from './metrics.js';
import type { LeaseStore } from './store.js';

export interface HubServiceDeps {
  readonly store: LeaseStore;
  readonly provider: CloudProvider;
  readonly mtu: number;
  readonly log?: Logger;
  readonly now?: () => Date;
  readonly coolDownSize?: number;
}

export interface DrainResult {
  readonly released: readonly AttachmentKey[];
  readonly skipped: readonly AttachmentKey[];
}

export class HubService implements PoolProbe {
  readonly metrics: HubMetrics;
  readonly #store: LeaseStore;
  readonly #provider: CloudProvider;
  readonly #mtu: number;
  readonly #log: Logger;
  readonly #now: () => Date;
  readonly #coolDown: CoolDown;
  readonly #inFlight = new InFlight();
  #ready = false;
  #reason = 'starting';

  constructor(deps: HubServiceDeps) {
    this.#store = deps.store;
    this.#provider = deps.provider;
    this.#mtu = deps.mtu;
    this.#log = deps.log ?? silentLogger;
    this.#now = deps.now ?? (() => new Date());
    this.#coolDown = new CoolDown(deps.coolDownSize);
    this.metrics = createHubMetrics(this);
  }

  get mode(): string {
    return this.#provider.mode;
  }

  setReady(ready: boolean, reason = ''): void {
    this.#ready = ready;
    this.#reason = ready ? '' : reason;
  }

  get ready(): boolean {
    return this.#ready;
  }

  async allocate(req: AllocateRequest, signal?: AbortSignal): Promise<AllocateReply> {
    const keys = [attachmentKeyOf(req.containerId, req.ifName), podKeyOf(req.podNamespace, req.podName)].filter(isString);
    try {
      return await this.#inFlight.run(keys, 'allocate', async () => {
        const existing = this.#store.get(req);
        if (existing !== undefined) {
          this.#log.info('allocate: existing lease', { containerId: req.containerId, ifName: req.ifName, ip: existing.allocation.ip });
          return { allocation: existing.allocation };
        }
        const facts = await this.#provider.localFacts();
        const source = this.#provider.ipSource();
        const ip = pickFree(source.addresses, this.#store.usedIps(), this.#coolDown.list());
        if (ip === undefined) throw new ExhaustedError(`no free address left in ${source.subnet} (${String(setSize(source.addresses))} in pool)`);
        const allocation: Allocation = {
          mode: this.#provider.mode,
          ip,
          subnet: source.subnet,
          mtu: this.#mtu,
          ...(facts.eni !== undefined ? { eni: facts.eni } : {}),
        };
        if (signal?.aborted === true) throw new UnavailableError('request deadline passed before the lease was written');
        this.#store.put(leaseFor(req, allocation, this.#now()));
        this.#coolDown.taken(ip);
        this.#log.info('allocate: new lease', { containerId: req.containerId, ifName: req.ifName, pod: `${req.podNamespace}/${req.podName}`, ip });
        return { allocation };
      });
    } catch (e) {
      this.metrics.allocationFailures.inc({ reason: e instanceof HubError ? e.code : 'internal' });
      throw e;
    }
  }

  async lookup(req: LookupRequest): Promise<LookupReply> {
    return this.#inFlight.run([attachmentKeyOf(req.containerId, req.ifName)], 'lookup', () => {
      const lease = this.#store.get(req);
      return Promise.resolve(lease === undefined ? { found: false } : { found: true, allocation: lease.allocation, netns: lease.netns });
    });
  }

  /** Unknown attachment → released:false (DEL must be idempotent). */
  async release(req: ReleaseRequest): Promise<ReleaseReply> {
    const lease = this.#store.get(req);
    const keys = [attachmentKeyOf(req.containerId, req.ifName), lease === undefined ? undefined : podKeyOf(lease.podNamespace, lease.podName)].filter(isString);
    return this.#inFlight.run(keys, 'release', () => Promise.resolve({ released: this.#releaseNow(req, req.reason) }));
  }

  status(): Promise<StatusReply> {
    return Promise.resolve({ ready: this.#ready, mode: this.#provider.mode, reason: this.#reason });
  }

  /** Releases every lease whose attachment is not in `validAttachments`; attachments being worked on are kept. */
  gc(req: GcRequest): Promise<GcReply> {
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

  /** Finishes the releases the plugin recorded while the daemon was unreachable. */
  async drainPending(dir: string): Promise<DrainResult> {
    const released: AttachmentKey[] = [];
    const skipped: AttachmentKey[] = [];
    for (const rec of await listPendingReleases(dir)) {
      const key = { containerId: rec.containerId, ifName: rec.ifName };
      if (this.#inFlight.has(attachmentKeyOf(rec.containerId, rec.ifName))) {
        skipped.push(key);
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
    return setSize(this.#provider.ipSource().addresses);
  }

  poolFree(): number {
    return freeCount(this.#provider.ipSource().addresses, this.#store.usedIps());
  }

  #releaseNow(key: AttachmentKey, reason: string): boolean {
    const lease = this.#store.get(key);
    if (lease === undefined) return false;
    const deleted = this.#store.delete(key);
    if (deleted) {
      this.#coolDown.released(lease.allocation.ip);
      this.#log.info('release', { containerId: key.containerId, ifName: key.ifName, ip: lease.allocation.ip, reason });
    }
    return deleted;
  }
}

function leaseFor(req: AllocateRequest, allocation: Allocation, at: Date): Lease {
  return {
    containerId: req.containerId,
    ifName: req.ifName,
    podNamespace: req.podNamespace,
    podName: req.podName,
    infraContainerId: req.infraContainerId,
    netns: req.netns,
    allocation,
    createdAt: at.toISOString(),
  };
}

function isString(x: string | undefined): x is string {
  return x !== undefined;
}
