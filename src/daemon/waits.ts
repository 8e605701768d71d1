/**
 * The per-pod wait registry: what each pod's network waits for right now, from the daemon's live state. The service
 * opens a ticket per allocation and moves it through its phases (./wait-reasons.ts); in the `address` phase the
 * reason is the address source's own, read live from the pool at every question. A failed allocation leaves its
 * reason (a bad annotation, a backend not ready, …) until the pod's next allocation succeeds, the pod goes away or
 * `failureTtlMs` passes without another ADD. While a wait lasts the pod gets an `AllocIPWaiting` event naming the
 * reason: when the wait starts (the pool makes it wait, or the ADD failed), again when the reason changes, and at
 * most once per `repostMs` otherwise (checked every `refreshMs`).
 */
import type { PoolWaitReason } from '../pool/wait-reason.js';
import { eventKey, eventMessage, failureReason, phaseReason, shouldPost, type AllocationPhase, type Posted, type WaitInfo } from './wait-reasons.js';

export interface WaitRegistryDeps {
  readonly now?: () => number;
  /** Posts the pod's `AllocIPWaiting` event (absent without Kubernetes). Must not block or throw. */
  readonly post?: (namespace: string, name: string, message: string) => void;
  /** Why the NetworkPolicy backend is not ready, or undefined. */
  readonly policyNotReady?: () => string | undefined;
  readonly refreshMs?: number;
  readonly repostMs?: number;
  readonly failureTtlMs?: number;
}

export const WAIT_REFRESH_MS = 5_000;
export const WAIT_REPOST_MS = 30_000;
export const WAIT_FAILURE_TTL_MS = 10 * 60_000;

/** One allocation's place in the registry (the service holds it from Allocate's start to its reply). */
export interface AllocationTicket {
  /** The allocation moved on; `pool` (phase `address`) is the source's live reason when it has to wait. */
  phase(phase: AllocationPhase, pool?: () => PoolWaitReason | undefined): void;
  /** The address source made it wait: the pod is told now. */
  waiting(): void;
  /** The allocation ended: `error` undefined when it succeeded. */
  end(error?: unknown): void;
}

interface Active {
  readonly pod: string;
  readonly started: number;
  phase: AllocationPhase;
  phaseSince: number;
  pool: (() => PoolWaitReason | undefined) | undefined;
  /** Whether it has waited (the source said so, or it lasted past a refresh): only then is the pod told. */
  waited: boolean;
}

const NO_TICKET: AllocationTicket = { phase: () => undefined, waiting: () => undefined, end: () => undefined };

export class WaitRegistry {
  readonly #d: WaitRegistryDeps;
  readonly #now: () => number;
  readonly #active = new Set<Active>();
  readonly #failed = new Map<string, WaitInfo>();
  readonly #posted = new Map<string, Posted>();
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: WaitRegistryDeps = {}) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
  }

  /** Starts the refresh of the events of lasting waits. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => { this.refresh(); }, this.#d.refreshMs ?? WAIT_REFRESH_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** An allocation for the pod starts (no pod name: nothing is tracked). */
  begin(namespace: string, name: string): AllocationTicket {
    if (name === '') return NO_TICKET;
    const now = this.#now();
    const a: Active = { pod: `${namespace}/${name}`, started: now, phase: 'pod-lookup', phaseSince: now, pool: undefined, waited: false };
    this.#active.add(a);
    return {
      phase: (phase, pool) => {
        a.phase = phase;
        a.phaseSince = this.#now();
        a.pool = pool;
      },
      waiting: () => {
        a.waited = true;
        this.#maybePost(a.pod, this.#activeReason(a));
      },
      end: (error) => { this.#end(a, error); },
    };
  }

  /** What the pod waits for now; undefined: nothing known (no allocation under way, none failed lately). */
  reason(namespace: string, name: string): WaitInfo | undefined {
    const pod = `${namespace}/${name}`;
    const active = [...this.#active].filter((a) => a.pod === pod).sort((a, b) => b.started - a.started)[0];
    if (active !== undefined) return this.#activeReason(active);
    const failed = this.#failed.get(pod);
    if (failed !== undefined && this.#now() - failed.since > (this.#d.failureTtlMs ?? WAIT_FAILURE_TTL_MS)) {
      this.#failed.delete(pod);
      return undefined;
    }
    return failed;
  }

  /** Pods with an allocation under way. */
  allocating(namespace: string, name: string): boolean {
    const pod = `${namespace}/${name}`;
    return [...this.#active].some((a) => a.pod === pod);
  }

  /** The pod is gone (deleted, or no longer on this node). */
  forget(namespace: string, name: string): void {
    const pod = `${namespace}/${name}`;
    this.#failed.delete(pod);
    this.#posted.delete(pod);
  }

  /** Posts the events of waits that last: new reasons at once, the same one every `repostMs`. */
  refresh(): void {
    const now = this.#now();
    const refreshMs = this.#d.refreshMs ?? WAIT_REFRESH_MS;
    for (const a of this.#active) {
      if (!a.waited && now - a.started < refreshMs) continue;
      a.waited = true;
      this.#maybePost(a.pod, this.#activeReason(a));
    }
    for (const [pod, w] of this.#failed) {
      if (now - w.since > (this.#d.failureTtlMs ?? WAIT_FAILURE_TTL_MS)) this.#failed.delete(pod);
      else this.#maybePost(pod, w);
    }
  }

  #activeReason(a: Active): WaitInfo {
    return phaseReason(a.phase, a.phaseSince, a.phase === 'address' ? a.pool?.() : undefined, this.#d.policyNotReady?.());
  }

  #end(a: Active, error: unknown): void {
    if (!this.#active.delete(a)) return;
    if (error === undefined) {
      this.#failed.delete(a.pod);
      this.#posted.delete(a.pod);
      return;
    }
    const w = failureReason(error, a.phase, this.#now(), this.#d.policyNotReady?.());
    if (w === undefined) return;
    this.#failed.set(a.pod, w);
    this.#maybePost(a.pod, w);
  }

  #maybePost(pod: string, w: WaitInfo): void {
    const post = this.#d.post;
    if (post === undefined) return;
    const now = this.#now();
    if (!shouldPost(this.#posted.get(pod), w, now, this.#d.repostMs ?? WAIT_REPOST_MS)) return;
    this.#posted.set(pod, { key: eventKey(w), at: now });
    const slash = pod.indexOf('/');
    post(pod.slice(0, slash), pod.slice(slash + 1), eventMessage(w));
  }
}
