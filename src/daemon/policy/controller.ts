/**
 * Runs the node's NetworkPolicy backend as the effective config says (src/policy/resolve.ts decides, pure): on a
 * new decision the old backend is stopped and its CNI chain entry taken out of the conflist, every other backend's
 * residue is cleaned, the new backend's files are written and its Kubernetes objects ensured, and its process is
 * handed to the supervisor (or, for `none`, a loopback health responder answers the probe port). The backend's CNI
 * chain entry (cilium-cni) is offered to the conflist only once the supervisor reports it ready, and withdrawn when
 * it stays unready longer than the supervisor's grace — otherwise every ADD on the node would fail. Everything it
 * does goes out as node events, metrics and a status snapshot. Activations run one at a time.
 */
import { errorMessage } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { ClusterObject, EnsureOutcome } from '../../k8s/types.js';
import type { CleanupReport } from '../../policy/cleanup/clean.js';
import type { RenderedFile } from '../../policy/process-spec.js';
import type { PolicyDecision } from '../../policy/resolve.js';
import type { Supervisor, SupervisorEvent, SupervisorStatus } from '../../policy/supervisor.js';
import type { HealthResponder, Residue } from '../../policy/types.js';

export interface RunningResponder {
  readonly address: string;
  close(): Promise<void>;
}

export interface PolicyControllerDeps {
  readonly supervisor: Supervisor;
  readonly cleanResidue: (residues: readonly Residue[]) => Promise<CleanupReport>;
  readonly writeFile: (file: RenderedFile) => Promise<void>;
  /** Absent without Kubernetes: objects are then not ensured (logged). */
  readonly ensureObject?: (obj: ClusterObject) => Promise<EnsureOutcome>;
  readonly startResponder: (r: HealthResponder) => Promise<RunningResponder>;
  /** A node event (no-op without Kubernetes). */
  readonly event: (type: 'Normal' | 'Warning', reason: string, message: string) => void;
  /** The chain entries changed: the daemon re-renders and installs its conflist; resolves once it is written. */
  readonly chainChanged: () => Promise<void>;
  readonly log: Logger;
}

/** What `terway-hub status`, /readyz and the log say about policy. */
export interface PolicyStatus {
  readonly backend: string;
  readonly why: string;
  readonly warnings: readonly string[];
  /** The supervisor's state, `responding` for `none`, `inactive` before the first activation. */
  readonly state: string;
  readonly restarts: number;
  /** Whether the backend's CNI chain entry is in the conflist now (false when it has none). */
  readonly chainEntryActive: boolean;
  readonly lastCleanup?: CleanupReport;
  readonly supervisor?: SupervisorStatus;
}

export class PolicyController {
  readonly #d: PolicyControllerDeps;
  #current: PolicyDecision | undefined;
  #responder: RunningResponder | undefined;
  #entries: readonly Readonly<Record<string, unknown>>[] = [];
  #lastCleanup: CleanupReport | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #unsubscribe: () => void;

  constructor(deps: PolicyControllerDeps) {
    this.#d = deps;
    this.#unsubscribe = deps.supervisor.on((e) => { this.#onSupervisor(e); });
  }

  /** The CNI chain entries the conflist carries now (after the hub's own and the user's). */
  chainEntries(): readonly Readonly<Record<string, unknown>>[] {
    return this.#entries;
  }

  get current(): PolicyDecision | undefined {
    return this.#current;
  }

  status(): PolicyStatus {
    const cur = this.#current;
    if (cur === undefined) return { backend: 'none', why: 'not activated yet', warnings: [], state: 'inactive', restarts: 0, chainEntryActive: false };
    const sup = cur.process === undefined ? undefined : this.#d.supervisor.status();
    return {
      backend: cur.backend,
      why: cur.why,
      warnings: cur.warnings,
      state: sup?.state ?? (this.#responder !== undefined ? 'responding' : 'stopped'),
      restarts: sup?.restarts ?? 0,
      chainEntryActive: this.#entries.length > 0,
      ...(this.#lastCleanup !== undefined ? { lastCleanup: this.#lastCleanup } : {}),
      ...(sup !== undefined ? { supervisor: sup } : {}),
    };
  }

  /** Why the node is not ready because of policy (a backend process that is not ready), or undefined. */
  notReadyReason(): string | undefined {
    const cur = this.#current;
    if (cur?.process === undefined) return undefined;
    const st = this.#d.supervisor.status();
    return st.state === 'ready' ? undefined : `policy backend ${cur.backend} is ${st.state}`;
  }

  /** Makes `decision` the running one (nothing happens when it equals the current one). */
  activate(decision: PolicyDecision): Promise<void> {
    return this.#serial(() => this.#activate(decision));
  }

  /** Stops the backend process or responder (its rules stay: policy keeps being enforced until the next start). */
  stop(): Promise<void> {
    this.#unsubscribe();
    return this.#serial(async () => {
      await this.#d.supervisor.stop();
      await this.#responder?.close();
      this.#responder = undefined;
    });
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(task);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #activate(next: PolicyDecision): Promise<void> {
    const prev = this.#current;
    if (prev?.fingerprint === next.fingerprint) return;
    const log = this.#d.log;
    if (prev !== undefined) {
      log.info('policy backend changing', { from: prev.backend, to: next.backend, why: next.why });
      await this.#setEntries([]);
      await this.#d.supervisor.stop();
      await this.#responder?.close();
      this.#responder = undefined;
    }
    this.#current = next;
    const report = await this.#d.cleanResidue(next.cleanup);
    this.#lastCleanup = report;
    if (report.removed.length > 0) {
      log.info('policy residue cleaned', { removed: report.removed });
      this.#d.event('Normal', 'PolicyResidueCleaned', `removed what other NetworkPolicy backends left: ${summary(report.removed)}`);
    }
    if (report.failures.length > 0) {
      log.warn('policy residue cleanup incomplete', { failures: report.failures });
      this.#d.event('Warning', 'PolicyResidueLeft', `could not remove everything other NetworkPolicy backends left: ${summary(report.failures)}`);
    }
    for (const f of next.files) await this.#d.writeFile(f);
    await this.#ensureObjects(next);
    if (next.process !== undefined) {
      await this.#d.supervisor.start(next.process);
    } else if (next.responder !== undefined) {
      this.#responder = await this.#d.startResponder(next.responder);
    }
    log.info('policy backend started', { backend: next.backend, why: next.why, ...(this.#responder !== undefined ? { responder: this.#responder.address } : {}) });
    this.#d.event('Normal', 'PolicyBackend', `NetworkPolicy backend ${next.backend}${prev !== undefined ? ` (was ${prev.backend})` : ''}: ${next.why}`);
    for (const w of next.warnings) {
      log.warn('policy', { warning: w });
      this.#d.event('Warning', 'PolicyNotEnforced', w);
    }
  }

  async #ensureObjects(d: PolicyDecision): Promise<void> {
    if (d.kubeObjects.length === 0) return;
    const ensure = this.#d.ensureObject;
    if (ensure === undefined) {
      this.#d.log.warn('no Kubernetes API: objects the policy backend needs were not ensured', { objects: d.kubeObjects.map((o) => `${o.kind}/${o.metadata.name}`) });
      return;
    }
    for (const o of d.kubeObjects) {
      try {
        const outcome = await ensure(o);
        this.#d.log.info('policy object ensured', { object: `${o.kind}/${o.metadata.name}`, outcome });
      } catch (e) {
        this.#d.log.error('policy object not ensured', { object: `${o.kind}/${o.metadata.name}`, err: errorMessage(e) });
        this.#d.event('Warning', 'PolicyObjectFailed', `${o.kind}/${o.metadata.name} (needed by ${d.backend}) could not be ensured: ${errorMessage(e)}`);
      }
    }
  }

  async #setEntries(entries: readonly Readonly<Record<string, unknown>>[]): Promise<void> {
    if (JSON.stringify(entries) === JSON.stringify(this.#entries)) return;
    this.#entries = entries;
    try {
      await this.#d.chainChanged();
    } catch (e) {
      this.#d.log.error('conflist not updated after a policy chain change', { err: errorMessage(e) });
    }
  }

  #onSupervisor(e: SupervisorEvent): void {
    const cur = this.#current;
    if (cur === undefined) return;
    switch (e.type) {
      case 'ready':
        this.#d.event('Normal', 'PolicyBackendReady', `${e.backend} is ready (pid ${String(e.pid)})${cur.chainEntries.length > 0 ? '; its CNI plugin joins the conflist' : ''}`);
        void this.#serial(() => this.#setEntries(cur.chainEntries));
        return;
      case 'unready':
        this.#d.event('Warning', 'PolicyBackendUnready', `${e.backend} is not ready: ${e.reason}`);
        return;
      case 'unhealthy-too-long': {
        const drop = this.#entries.length > 0 || cur.chainEntries.length > 0;
        this.#d.event(
          'Warning',
          'PolicyBackendUnhealthy',
          `${e.backend} has not been ready for ${String(Math.round(e.forMs / 1000))} s${e.neverReady ? ' (never since its start)' : ''}${drop ? '; its CNI plugin is out of the conflist so pods can still start, without NetworkPolicy' : ''}`,
        );
        void this.#serial(() => this.#setEntries([]));
        return;
      }
      case 'restarting':
        if (e.reason !== 'restart-requested') this.#d.event('Warning', 'PolicyBackendRestarting', `${e.backend} restarts in ${String(Math.round(e.delayMs / 1000))} s (${e.reason}, restart ${String(e.status.restarts + 1)})`);
        return;
      case 'gave-up':
        this.#d.event('Warning', 'PolicyBackendGaveUp', `${e.backend} crashed ${String(e.crashes)} times in a row; no more restarts`);
        return;
      case 'exited':
      case 'state':
        return;
    }
  }
}

function summary(items: readonly string[]): string {
  return items.length <= 5 ? items.join('; ') : `${items.slice(0, 5).join('; ')}; and ${String(items.length - 5)} more`;
}
