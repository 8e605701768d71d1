/**
 * The live NetworkPolicy model: the cluster's pods (peers on other nodes are matched by podSelectors too; the builtin
 * backend's scopes are this node's attachments), this Node's addresses, and the cluster's NetworkPolicies and
 * Namespaces, kept from the informers' events and parsed with the model's own parsers (src/policy/model). A bad
 * object is refused (logged, and a node Warning event `NetworkPolicyObjectRefused` naming object and field, once per
 * distinct problem) and left out; it never stops the daemon or the other objects. Consumers (the builtin backend,
 * `terway-hub policy` over the socket) read `snapshot()` and subscribe with `onChange`.
 */
import { ConfigError, errorMessage } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { Informer, InformerEvent, NodeInfo, PodInfo, RawObjectInfo } from '../../k8s/types.js';
import { buildModel } from '../../policy/model/build.js';
import { objectErrorOf } from '../../policy/model/errors.js';
import { parseNamespace, parseNode } from '../../policy/model/parse-namespace.js';
import { parseNetworkPolicy } from '../../policy/model/parse-policy.js';
import { parsePod } from '../../policy/model/parse-pod.js';
import type { Namespace, NetworkPolicy, Node, Pod, PolicyModel } from '../../policy/model/types.js';
import { liveObjectName, namespaceObject, networkPolicyObject, nodeObject, podObject, type LiveKind, type LiveObject } from './live-objects.js';

/** What the builtin backend and the RPC read: a narrow seam over the live model. */
export interface PolicyModelSource {
  /** The current model (the same object until something changes). */
  snapshot(): PolicyModel;
  /** The accepted objects in `kubectl get -o json` form (what `terway-hub policy` without -f reads). */
  objects(): readonly LiveObject[];
  /** Objects refused by the parsers, `NetworkPolicy x/y: spec.ingress[0].ports[0].port: …`. */
  refused(): readonly string[];
  /** Called (coalesced, after the informer events of one turn) with the new snapshot. Returns an unsubscribe. */
  onChange(listener: (model: PolicyModel) => void): () => void;
}

export const REASON_OBJECT_REFUSED = 'NetworkPolicyObjectRefused';

export interface LiveModelDeps {
  readonly pods: Informer<PodInfo>;
  readonly nodes: Informer<NodeInfo>;
  readonly policies: Informer<RawObjectInfo>;
  readonly namespaces: Informer<RawObjectInfo>;
  /** A Warning event on the node (the reporter); must not throw. */
  readonly warn: (reason: string, message: string) => void;
  readonly log: Logger;
}

type Parsed =
  | { readonly kind: 'Pod'; readonly value: Pod | undefined }
  | { readonly kind: 'Node'; readonly value: Node }
  | { readonly kind: 'Namespace'; readonly value: Namespace }
  | { readonly kind: 'NetworkPolicy'; readonly value: NetworkPolicy };

interface Entry {
  readonly object: LiveObject;
  readonly parsed: Parsed;
}

function parse(object: LiveObject): Parsed {
  switch (object.kind) {
    case 'Pod': {
      const p = parsePod(object);
      return { kind: 'Pod', value: p.finished ? undefined : p.pod };
    }
    case 'Node':
      return { kind: 'Node', value: parseNode(object) };
    case 'Namespace':
      return { kind: 'Namespace', value: parseNamespace(object) };
    case 'NetworkPolicy':
      return { kind: 'NetworkPolicy', value: parseNetworkPolicy(object) };
  }
}

const EMPTY: PolicyModel = buildModel({});

/** Without Kubernetes: always empty. */
export const EMPTY_MODEL_SOURCE: PolicyModelSource = {
  snapshot: () => EMPTY,
  objects: () => [],
  refused: () => [],
  onChange: () => () => undefined,
};

export class LivePolicyModel implements PolicyModelSource {
  readonly #deps: LiveModelDeps;
  readonly #entries = new Map<string, Entry>();
  /** key → message of the refusal (an event is sent when it changes). */
  readonly #refused = new Map<string, string>();
  readonly #listeners = new Set<(model: PolicyModel) => void>();
  readonly #unsubscribe: (() => void)[] = [];
  #model: PolicyModel | undefined = EMPTY;
  #notifyScheduled = false;

  constructor(deps: LiveModelDeps) {
    this.#deps = deps;
  }

  /** Subscribes to the informers and takes in what they already hold. */
  start(): void {
    const follow = <T>(inf: Informer<T>, toObject: (t: T) => LiveObject): void => {
      this.#unsubscribe.push(inf.on((e: InformerEvent<T>) => { this.#onEvent(e.type === 'delete', toObject(e.object)); }));
      for (const t of inf.list()) this.#onEvent(false, toObject(t));
    };
    follow(this.#deps.pods, podObject);
    follow(this.#deps.nodes, nodeObject);
    follow(this.#deps.namespaces, namespaceObject);
    follow(this.#deps.policies, networkPolicyObject);
  }

  stop(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
    this.#listeners.clear();
  }

  snapshot(): PolicyModel {
    this.#model ??= this.#build();
    return this.#model;
  }

  /** Finished pods (Succeeded/Failed) are left out as the model leaves them out. */
  objects(): readonly LiveObject[] {
    return [...this.#entries.values()].filter((e) => e.parsed.kind !== 'Pod' || e.parsed.value !== undefined).map((e) => e.object);
  }

  refused(): readonly string[] {
    return [...this.#refused.values()].sort();
  }

  onChange(listener: (model: PolicyModel) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #onEvent(deleted: boolean, object: LiveObject): void {
    const md = object.metadata;
    const name = liveObjectName(object.kind, typeof md['namespace'] === 'string' ? md['namespace'] : '', typeof md['name'] === 'string' ? md['name'] : '');
    if (deleted) {
      const had = this.#entries.delete(name);
      this.#refused.delete(name);
      if (had) this.#changed();
      return;
    }
    let parsed: Parsed;
    try {
      parsed = parse(object);
    } catch (e) {
      this.#refuse(name, object.kind, e);
      return;
    }
    this.#refused.delete(name);
    this.#entries.set(name, { object, parsed });
    this.#changed();
  }

  /** The object stays out of the model (a previous good version of it too: the API holds the bad one now). */
  #refuse(name: string, kind: LiveKind, e: unknown): void {
    const message = e instanceof ConfigError ? objectErrorOf(name, e).message : `${name}: ${errorMessage(e)}`;
    const had = this.#entries.delete(name);
    if (this.#refused.get(name) !== message) {
      this.#refused.set(name, message);
      this.#deps.log.warn('object refused by the NetworkPolicy model; left out', { kind, err: message });
      this.#deps.warn(REASON_OBJECT_REFUSED, `${message} (left out of the NetworkPolicy model)`);
    }
    if (had) this.#changed();
  }

  #changed(): void {
    this.#model = undefined;
    if (this.#notifyScheduled || this.#listeners.size === 0) return;
    this.#notifyScheduled = true;
    queueMicrotask(() => {
      this.#notifyScheduled = false;
      const model = this.snapshot();
      for (const l of [...this.#listeners]) {
        try {
          l(model);
        } catch (err) {
          this.#deps.log.warn('policy model listener threw', { err: errorMessage(err) });
        }
      }
    });
  }

  #build(): PolicyModel {
    const namespaces: Namespace[] = [];
    const pods: Pod[] = [];
    const policies: NetworkPolicy[] = [];
    const nodes: Node[] = [];
    for (const { parsed } of this.#entries.values()) {
      if (parsed.kind === 'Namespace') namespaces.push(parsed.value);
      else if (parsed.kind === 'NetworkPolicy') policies.push(parsed.value);
      else if (parsed.kind === 'Node') nodes.push(parsed.value);
      else if (parsed.value !== undefined) pods.push(parsed.value);
    }
    return buildModel({ namespaces, pods, policies, nodes });
  }
}
