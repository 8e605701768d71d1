/**
 * Follows the cluster config: on every change of the `eni-config` ConfigMaps or the Node, the effective config is
 * recomputed. A good, different config is applied (mode switch without restart) and the node is annotated with
 * its active mode; a bad one is rejected as a whole — a Warning `ConfigError` node event and the
 * `terway-hub.io/config-error` annotation — and the last good config keeps running. Reconciles run one at a time.
 */
import type { DaemonConfig } from '../../config/daemon-config.js';
import { ConfigError, errorMessage } from '../../lib/errors.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import type { ConfigMapInfo, Informer, KubeApi, NodeInfo } from '../../k8s/types.js';
import { effectiveConfig, fingerprint, type EffectiveConfig, type NodeRefusal } from './effective-config.js';
import type { KubeReporter } from './reporter.js';

export const MODE_ANNOTATION = 'terway-hub.io/mode';
export const CONFIG_ERROR_ANNOTATION = 'terway-hub.io/config-error';

export interface ApplyOutcome {
  /** Problems with existing resources under the new config (→ a `ResourceInvalid` node event). */
  readonly invalid: readonly string[];
}

export interface ConfigWatcherDeps {
  readonly kube: KubeApi;
  readonly local: DaemonConfig;
  readonly nodeName: string;
  readonly nodes: Informer<NodeInfo>;
  readonly configMaps: Informer<ConfigMapInfo>;
  readonly reporter: KubeReporter;
  /** Applies a new effective config (throws when it cannot: the config is then rejected). */
  readonly apply: (config: EffectiveConfig) => Promise<ApplyOutcome>;
  /**
   * The Node refuses the cluster config before any was accepted (VPC without a podCIDR): the daemon must not serve.
   * Called with the refusal, and with undefined once a config is accepted after one.
   */
  readonly refused?: (refusal: NodeRefusal | undefined) => void | Promise<void>;
  readonly log?: Logger;
  /** Told when a config is rejected with a new error (the ConfigError event): metrics. Must not throw. */
  readonly onRejected?: (source: string) => void;
}

export class ConfigWatcher {
  readonly #deps: ConfigWatcherDeps;
  readonly #log: Logger;
  #current: EffectiveConfig | undefined;
  #currentPrint = '';
  #lastError: string | undefined;
  #refusal: NodeRefusal | undefined;
  #queue: Promise<void> = Promise.resolve();
  #pending = false;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(deps: ConfigWatcherDeps) {
    this.#deps = deps;
    this.#log = deps.log ?? silentLogger;
  }

  /** The running config (undefined before the first successful apply). */
  get current(): EffectiveConfig | undefined {
    return this.#current;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Why the node does not serve: the Node refused the cluster config and none was accepted before. */
  /** Subscribes to changes (informers are started by the caller) and runs the first reconcile. */
  async start(): Promise<void> {
    const ns = this.#deps.local.kubeNamespace;
    this.#unsubscribe.push(
      this.#deps.nodes.on(() => {
        this.trigger();
      }),
      this.#deps.configMaps.on((e) => {
        if (e.object.namespace === ns) this.trigger();
      }),
    );
    this.trigger();
    await this.settled();
  }

  stop(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
  }

  /** Schedules a reconcile (coalesced while one is waiting). */
  trigger(): void {
    if (this.#pending) return;
    this.#pending = true;
    this.#queue = this.#queue.then(async () => {
      this.#pending = false;
      await this.#reconcile().catch((e: unknown) => {
        this.#log.error('config reconcile failed', { err: errorMessage(e) });
      });
    });
  }

  /** Resolves when queued reconciles are done. */
  async settled(): Promise<void> {
    let q: Promise<void>;
    do {
      q = this.#queue;
      await q;
    } while (q !== this.#queue);
  }

  async #reconcile(): Promise<void> {
    const node = this.#deps.nodes.get('', this.#deps.nodeName);
    const res = effectiveConfig({ local: this.#deps.local, node, configMap: (ns, name) => this.#deps.configMaps.get(ns, name) });
    if (!res.ok) {
      if ('refusal' in res) await this.#refuse(res.source, res.refusal);
      else this.#reject(res.source, res.error);
      return;
    }
    const next = res.config;
    for (const w of next.cluster?.warnings ?? []) this.#log.warn('cluster config: tolerated', { source: next.source, warning: w });
    const print = fingerprint(next);
    if (print !== this.#currentPrint) {
      try {
        const outcome = await this.#deps.apply(next);
        if (outcome.invalid.length > 0) this.#deps.reporter.nodeWarning('ResourceInvalid', outcome.invalid.join('; '));
      } catch (e) {
        this.#reject(next.source, e instanceof ConfigError ? e : new ConfigError(next.source, errorMessage(e), { cause: e }));
        return;
      }
      const from = this.#current?.daemon.mode;
      this.#current = next;
      this.#currentPrint = print;
      this.#log.info('cluster config applied', { source: next.source, mode: next.daemon.mode, ...(from !== undefined ? { from } : {}) });
    }
    this.#lastError = undefined;
    this.#annotate(node, { [MODE_ANNOTATION]: next.daemon.mode, [CONFIG_ERROR_ANNOTATION]: null });
    if (this.#refusal !== undefined) {
      this.#log.info('node refusal cleared', { reason: this.#refusal.reason });
      this.#refusal = undefined;
      await this.#deps.refused?.(undefined);
    }
  }

  /**
   * The Node cannot run the cluster config (yet). Before any config was accepted the daemon refuses to serve (it
   * waits for the Node to change); afterwards the last good config keeps running, as for a rejected config. Either
   * way: a Warning node event with the refusal's reason, once per message, and the config-error annotation.
   */
  async #refuse(source: string, refusal: NodeRefusal): Promise<void> {
    const gates = this.#current === undefined;
    const message = gates ? `${source}: ${refusal.message}` : `${source}: ${refusal.message}; keeping the last good config (mode ${this.#current?.daemon.mode ?? this.#deps.local.mode})`;
    if (message !== this.#lastError) {
      this.#log.error('node refuses the cluster config', { source, reason: refusal.reason, err: refusal.message, serving: !gates });
      this.#deps.reporter.nodeWarning(refusal.reason, message);
    }
    this.#lastError = message;
    const node = this.#deps.nodes.get('', this.#deps.nodeName);
    this.#annotate(node, { [CONFIG_ERROR_ANNOTATION]: message });
    if (gates && this.#refusal?.message !== refusal.message) {
      this.#refusal = refusal;
      await this.#deps.refused?.(refusal);
    }
  }

  #reject(source: string, error: ConfigError): void {
    const keeping = this.#current?.daemon.mode ?? this.#deps.local.mode;
    const message = `${source}: ${error.message}; keeping the last good config (mode ${keeping})`;
    if (message !== this.#lastError) {
      this.#log.error('cluster config rejected', { source, field: error.path, err: error.message, keeping });
      this.#deps.reporter.nodeWarning('ConfigError', message);
      this.#deps.onRejected?.(source);
    }
    this.#lastError = message;
    const node = this.#deps.nodes.get('', this.#deps.nodeName);
    this.#annotate(node, { [MODE_ANNOTATION]: keeping, [CONFIG_ERROR_ANNOTATION]: message });
  }

  /** Patches only what differs from the Node as the informer sees it (no patch loops). */
  #annotate(node: NodeInfo | undefined, want: Readonly<Record<string, string | null>>): void {
    const have = node?.annotations ?? {};
    const diff = Object.fromEntries(Object.entries(want).filter(([k, v]) => (v === null ? have[k] !== undefined : have[k] !== v)));
    if (Object.keys(diff).length === 0) return;
    this.#deps.reporter.run(`annotate node ${this.#deps.nodeName}`, () => this.#deps.kube.patchNodeAnnotations(this.#deps.nodeName, diff));
  }
}
