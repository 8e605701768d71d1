/**
 * The builtin NetworkPolicy backend at work (src/policy/builtin compiles and applies; this runs it): it follows the
 * live model (onChange) and the node's leases, and programs one atomic `nft -f` per scope — the host table for the
 * veth modes' pods (keyed by their host veths), a table inside the netns of each ipvlan and eni pod. After a change
 * it cuts the conntrack entries of flows the model now denies. At ADD (`isolate`) the pod is laid over the model
 * with its new IP and labels and the rules are applied before the reply: a pod is never up without its policy.
 * Applies run one at a time; requests arriving meanwhile are coalesced into the next run. A failed run is retried
 * (retry.ts: 1 s, doubling to 1 min) until one succeeds; meanwhile the state is `failing` and `notReadyReason` says
 * why (the daemon's /readyz). `disable` removes every table it programmed (the backend was swapped out).
 */
import { errorMessage } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { NetnsPath } from '../../lib/brand.js';
import type { PodInfo } from '../../k8s/types.js';
import { HOST, podNs, type NsRef } from '../../netlink/ops.js';
import type { BuiltinApplier } from '../../policy/builtin/apply.js';
import { compileRuleset, type CompiledRuleset, type LocalPod } from '../../policy/builtin/compile.js';
import { HOST_TABLE, POD_TABLE } from '../../policy/builtin/tables.js';
import { isHostScoped, overlayPods, scopesOf, type LocalAttachment } from '../../policy/builtin/scopes.js';
import type { ProgrammedTable } from '../../policy/builtin/listing.js';
import { tableDrift } from '../../policy/builtin/verify.js';
import { parsePod } from '../../policy/model/parse-pod.js';
import type { Pod, PolicyModel } from '../../policy/model/types.js';
import type { Lease } from '../../store/lease.js';
import type { PolicyModelSource } from './live-model.js';
import { podObject } from './live-objects.js';
import { RetryAfterFailure } from './retry.js';

export interface EnforcerDeps {
  readonly model: PolicyModelSource;
  /** The node's leases now (the lease store). */
  readonly leases: () => readonly Lease[];
  /** The pod as the API knows it (informer, else a read); undefined when unknown. */
  readonly podInfo: (namespace: string, name: string) => Promise<PodInfo | undefined>;
  readonly applier: BuiltinApplier;
  readonly nodeName: string;
  readonly vethPrefix: () => string;
  readonly log: Logger;
  /** Told after every run (metrics). */
  readonly observe?: (run: EnforcerRun) => void;
  /** The wait before retrying after the n-th failed run in a row (default: retry.ts's backoff). */
  readonly retryDelayMs?: (failedRuns: number) => number;
}

export interface EnforcerRun {
  readonly ok: boolean;
  readonly durationMs: number;
  readonly rules: number;
  readonly cut: number;
}

export type EnforcerState = 'inactive' | 'enforcing' | 'failing';

export interface EnforcerStatus {
  readonly state: EnforcerState;
  /** Scopes programmed: the host table (when any veth pod) + one per pod netns. */
  readonly scopes: number;
  readonly rules: number;
  /** ISO time and duration of the last apply run. */
  readonly lastApply?: string;
  readonly lastApplyMs?: number;
  readonly lastError?: string;
  /** Conntrack entries cut since start (flows a tightened policy denies). */
  readonly flowsCut: number;
}

export interface VerifyReport {
  readonly scopes: readonly string[];
  readonly drift: readonly string[];
}

interface Job {
  readonly key: string;
  readonly ns: NsRef;
  readonly ruleset: CompiledRuleset;
  readonly pods: readonly LocalPod[];
}

interface Programmed {
  readonly text: string;
  readonly table: ProgrammedTable | undefined;
}

interface Waiter {
  readonly gen: number;
  /** The scope whose failure fails this waiter ('host' or a netns path); undefined: any host failure. */
  readonly scope: string;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

const HOST_KEY = 'host';

function attachmentOf(l: Lease): LocalAttachment {
  return { podNamespace: l.podNamespace, podName: l.podName, containerId: l.containerId, ifName: l.ifName, netns: l.netns, mode: l.allocation.mode };
}

export class BuiltinEnforcer {
  readonly #d: EnforcerDeps;
  #enabled = false;
  #unsubscribe: (() => void) | undefined;
  /** ns/name → the pod as allocated here (labels from the API, the lease's IP), until the API has its IP. */
  readonly #local = new Map<string, Pod>();
  /** scope key → what was last applied there and read back right after. */
  readonly #programmed = new Map<string, Programmed>();
  #wanted = 0;
  #running: Promise<void> | undefined;
  /** Set once disable removed every table (a repeat disable has nothing to remove until the next enable). */
  #swept = false;
  #waiters: Waiter[] = [];
  #status: EnforcerStatus = { state: 'inactive', scopes: 0, rules: 0, flowsCut: 0 };
  readonly #retry: RetryAfterFailure;

  constructor(deps: EnforcerDeps) {
    this.#d = deps;
    this.#retry = new RetryAfterFailure(deps.retryDelayMs);
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  status(): EnforcerStatus {
    return this.#status;
  }

  /** Why the node is not ready because of the builtin backend (its last run failed), or undefined. */
  notReadyReason(): string | undefined {
    const st = this.#status;
    return st.state === 'failing' ? `builtin NetworkPolicy rules not programmed: ${st.lastError ?? 'unknown error'}` : undefined;
  }

  /** Starts enforcing: follows the model and programs every scope now. */
  async enable(): Promise<void> {
    if (this.#enabled) return;
    this.#enabled = true;
    this.#swept = false;
    this.#unsubscribe = this.#d.model.onChange(() => { void this.#request(HOST_KEY).catch(() => undefined); });
    this.#d.log.info('builtin NetworkPolicy enforcement on');
    await this.#request(HOST_KEY);
  }

  /** Stops enforcing and removes every table it programmed (the host table, the tables in the pods' netns). */
  async disable(): Promise<void> {
    if (!this.#enabled && this.#swept) return; // nothing programmed since the last sweep: no nft runs on every config
    const was = this.#enabled;
    this.#enabled = false;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#retry.cancel();
    await this.#running;
    const pods = scopesOf(this.#d.leases().map(attachmentOf), this.#d.vethPrefix()).pods;
    const failures: string[] = [];
    await this.#d.applier.removeTable(HOST, `inet ${HOST_TABLE}`).catch((e: unknown) => { failures.push(`host: ${errorMessage(e)}`); });
    for (const p of pods) {
      await this.#d.applier.removeTable(podNs(p.netns as NetnsPath), `inet ${POD_TABLE}`).catch((e: unknown) => { failures.push(`${p.netns}: ${errorMessage(e)}`); });
    }
    this.#programmed.clear();
    this.#swept = failures.length === 0;
    this.#status = { ...this.#status, state: 'inactive', scopes: 0, rules: 0, ...(failures.length > 0 ? { lastError: failures.join('; ') } : {}) };
    if (was || failures.length > 0) this.#d.log.info('builtin NetworkPolicy tables removed', { podScopes: pods.length, failures });
  }

  /** Stops following the model; the rules stay (the daemon restarts into the same backend). */
  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#enabled = false;
    this.#retry.cancel();
  }

  /**
   * At ADD, after the lease is written: the pod joins the model with its IP and its labels and the scope is
   * programmed before this resolves. Rejects when its scope could not be programmed (the ADD then fails).
   */
  async isolate(lease: Lease): Promise<void> {
    if (!this.#enabled || lease.podName === '') return;
    const info = await this.#d.podInfo(lease.podNamespace, lease.podName);
    const key = `${lease.podNamespace}/${lease.podName}`;
    const base: Pod = info !== undefined ? parsePod(podObject(info)).pod : { namespace: lease.podNamespace, name: lease.podName, labels: {}, ips: [], namedPorts: [], nodeName: this.#d.nodeName, hostNetwork: false };
    this.#local.set(key, { ...base, ips: [lease.allocation.ip], nodeName: this.#d.nodeName });
    await this.#request(isHostScoped(lease.allocation.mode) ? HOST_KEY : lease.netns);
  }

  /** At DEL (and GC): its rules go (its pod-netns table with its netns, when that still exists). */
  released(lease: Lease): void {
    if (lease.podName === '') return;
    const key = `${lease.podNamespace}/${lease.podName}`;
    if (!this.#d.leases().some((l) => l.podNamespace === lease.podNamespace && l.podName === lease.podName)) this.#local.delete(key);
    if (!this.#enabled) return;
    if (this.#programmed.delete(lease.netns)) {
      void this.#d.applier.removeTable(podNs(lease.netns as NetnsPath), `inet ${POD_TABLE}`).catch(() => undefined); // the netns is usually gone already
    }
    void this.#request(HOST_KEY).catch(() => undefined);
  }

  /** Compares what is programmed now with what the live model compiles to, naming every drift. */
  async verify(): Promise<VerifyReport> {
    await this.#running;
    if (!this.#enabled) return { scopes: [], drift: ['the builtin backend is not enforcing on this node'] };
    const drift: string[] = [];
    const scopes: string[] = [];
    for (const job of this.#jobs(this.#model())) {
      scopes.push(job.key);
      const done = this.#programmed.get(job.key);
      const actual = await this.#d.applier.readBack(job.ns, job.ruleset.table);
      if (done === undefined) {
        drift.push(...(actual === undefined ? [`${job.key}: missing table ${job.ruleset.table}`] : [`${job.key}: table ${job.ruleset.table} was not programmed by this daemon`]));
        continue;
      }
      if (done.text !== job.ruleset.text) drift.push(`${job.key}: the live model compiles to a ruleset not applied yet`);
      drift.push(...tableDrift(job.key, done.table, actual));
    }
    return { scopes, drift };
  }

  #model(): PolicyModel {
    return overlayPods(this.#d.model.snapshot(), [...this.#local.values()]);
  }

  #jobs(model: PolicyModel): Job[] {
    const plan = scopesOf(this.#d.leases().map(attachmentOf), this.#d.vethPrefix());
    const nodeName = this.#d.nodeName;
    const jobs: Job[] = [];
    if (plan.host.length > 0 || this.#programmed.has(HOST_KEY)) {
      jobs.push({ key: HOST_KEY, ns: HOST, pods: plan.host, ruleset: compileRuleset({ model, nodeName, scope: { kind: 'host', pods: plan.host } }) });
    }
    for (const p of plan.pods) {
      jobs.push({ key: p.netns, ns: podNs(p.netns as NetnsPath), pods: [p.pod], ruleset: compileRuleset({ model, nodeName, scope: { kind: 'pod', pod: p.pod } }) });
    }
    return jobs;
  }

  /** Resolves once a run that started after this call finished; rejects when `scope` failed in it. */
  #request(scope: string): Promise<void> {
    const gen = ++this.#wanted;
    const p = new Promise<void>((resolve, reject) => { this.#waiters.push({ gen, scope, resolve, reject }); });
    this.#kick();
    return p;
  }

  #kick(): void {
    if (this.#running !== undefined) return;
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
      if (this.#waiters.length > 0) this.#kick(); // asked for between the loop's last check and here
    });
  }

  async #loop(): Promise<void> {
    let done = 0;
    while (done < this.#wanted) {
      const gen = this.#wanted;
      const failures = this.#enabled ? await this.#run() : new Map<string, string>();
      if (failures.size === 0) this.#retry.succeeded();
      else if (this.#enabled) this.#retry.failed(() => { if (this.#enabled) void this.#request(HOST_KEY).catch(() => undefined); });
      done = gen;
      const ready = this.#waiters.filter((w) => w.gen <= gen);
      this.#waiters = this.#waiters.filter((w) => w.gen > gen);
      for (const w of ready) {
        const err = failures.get(HOST_KEY) ?? failures.get(w.scope);
        if (err === undefined) w.resolve();
        else w.reject(new Error(`NetworkPolicy rules not programmed (${w.scope}): ${err}`));
      }
    }
  }

  /** One pass over every scope; returns scope key → error. */
  async #run(): Promise<Map<string, string>> {
    const started = performance.now();
    const failures = new Map<string, string>();
    let cut = 0;
    let model: PolicyModel;
    let jobs: Job[];
    try {
      model = this.#model();
      jobs = this.#jobs(model);
    } catch (e) {
      failures.set(HOST_KEY, errorMessage(e));
      this.#finish(started, failures, 0, 0);
      return failures;
    }
    for (const job of jobs) {
      if (this.#programmed.get(job.key)?.text === job.ruleset.text) continue;
      try {
        await this.#d.applier.apply(job.ns, job.ruleset);
        this.#programmed.set(job.key, { text: job.ruleset.text, table: await this.#d.applier.readBack(job.ns, job.ruleset.table) });
      } catch (e) {
        failures.set(job.key, errorMessage(e));
        continue;
      }
      try {
        const flows = await this.#d.applier.cutDenied(job.ns, model, job.pods);
        cut += flows.length;
        if (flows.length > 0) this.#d.log.info('denied flows cut', { scope: job.key, flows: flows.length });
      } catch (e) {
        this.#d.log.warn('conntrack cut failed (established flows may outlive the policy)', { scope: job.key, err: errorMessage(e) });
      }
    }
    this.#finish(started, failures, jobs.reduce((n, j) => n + j.ruleset.rules, 0), cut, jobs.length);
    return failures;
  }

  #finish(started: number, failures: ReadonlyMap<string, string>, rules: number, cut: number, scopes = 0): void {
    const durationMs = performance.now() - started;
    const lastError = failures.size === 0 ? undefined : [...failures].map(([k, v]) => `${k}: ${v}`).join('; ');
    if (lastError !== undefined) this.#d.log.error('NetworkPolicy rules not programmed', { err: lastError });
    this.#status = {
      state: lastError === undefined ? 'enforcing' : 'failing',
      scopes,
      rules,
      lastApply: new Date().toISOString(),
      lastApplyMs: Math.round(durationMs * 10) / 10,
      flowsCut: this.#status.flowsCut + cut,
      ...(lastError !== undefined ? { lastError } : {}),
    };
    this.#d.observe?.({ ok: lastError === undefined, durationMs, rules, cut });
  }
}
