/**
 * The only importer of @kubernetes/client-node: builds a KubeApi from a kubeconfig. Informers run our own list+watch
 * loop (informer.ts) over client-node's typed list calls and its Watch stream — client-node's ListWatch stops on
 * the first non-410 error and has no resync, so it cannot be used as is.
 */
import { existsSync } from 'node:fs';
import { CoreV1Api, CoreV1Event, CustomObjectsApi, KubeConfig, PatchStrategy, Watch, setHeaderOptions } from '@kubernetes/client-node';
import type { Logger } from '../lib/log.js';
import { httpStatusOf, toHubError } from './api-error.js';
import { conditionPatch, nextCondition } from './conditions.js';
import { EventDeduper, buildEvent, eventNamespace } from './events.js';
import type { Codec, InformerTiming, ListResult, ListWatchSource } from './informer.js';
import { DEFAULT_TIMING, createInformer } from './informer.js';
import { SERVICE_ACCOUNT_TOKEN, resolveKubeconfigSource } from './kubeconfig-source.js';
import { timestamp, toConfigMapInfo, toNodeInfo, toPodInfo, toRawObjectInfo } from './map.js';
import type { ClusterObject, ConfigMapInfo, EnsureOutcome, Informer, KubeApi, KubeEvent, NodeCondition, NodeInfo, PodInfo, RawObjectInfo } from './types.js';

export interface CreateKubeApiOptions {
  /** Explicit kubeconfig; else $KUBECONFIG, else in-cluster service account, else ~/.kube/config. */
  readonly kubeconfigPath?: string;
  readonly log: Logger;
  /** Informer resync/backoff (tests shorten these). */
  readonly timing?: Partial<InformerTiming>;
  /** Server-side watch timeout (the watch is then re-established from the last resourceVersion). Default 300. */
  readonly watchTimeoutSeconds?: number;
  /** Per-request timeout for non-watch calls. Default 30000. */
  readonly requestTimeoutMs?: number;
  /** Identical events (target, type, reason, message) within this window bump `count` instead of creating a new one. Default 600000; 0 disables. */
  readonly eventDedupeWindowMs?: number;
  /** source.host / reportingInstance of created events (the node name). */
  readonly eventHost?: string;
  readonly now?: () => Date;
}

/** Label/field selectors for the generic informers. */
export interface Selectors {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

/** KubeApi plus selector-driven informers (a KubeClient is a KubeApi). */
export interface KubeClient extends KubeApi {
  /** Pods in `namespace` (all namespaces when undefined) matching the selectors. */
  podInformerFor(namespace: string | undefined, selectors: Selectors): Informer<PodInfo>;
  configMapInformerFor(namespace: string, selectors: Selectors): Informer<ConfigMapInfo>;
}

const podCodec: Codec<PodInfo> = {
  decode: toPodInfo,
  namespaceOf: (p) => p.namespace,
  nameOf: (p) => p.name,
  versionOf: (p) => p.resourceVersion,
};
const nodeCodec: Codec<NodeInfo> = { decode: toNodeInfo, namespaceOf: () => '', nameOf: (n) => n.name, versionOf: (n) => n.resourceVersion };
const configMapCodec: Codec<ConfigMapInfo> = {
  decode: toConfigMapInfo,
  namespaceOf: (c) => c.namespace,
  nameOf: (c) => c.name,
  versionOf: (c) => c.resourceVersion,
};

const rawCodec: Codec<RawObjectInfo> = {
  decode: toRawObjectInfo,
  namespaceOf: (o) => o.namespace,
  nameOf: (o) => o.name,
  versionOf: (o) => o.resourceVersion,
};

export function loadKubeConfig(kubeconfigPath: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  const source = resolveKubeconfigSource({ explicitPath: kubeconfigPath, env: process.env, tokenFileExists: existsSync(SERVICE_ACCOUNT_TOKEN) });
  if (source.kind === 'file') kc.loadFromFile(source.path);
  else if (source.kind === 'in-cluster') kc.loadFromCluster();
  else kc.loadFromDefault(); // reads $KUBECONFIG (a path list) first, then ~/.kube/config
  return kc;
}

export function createKubeApi(options: CreateKubeApiOptions): KubeClient {
  const log = options.log.child({ component: 'k8s' });
  const kc = loadKubeConfig(options.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const watcher = new Watch(kc);
  const timing: InformerTiming = { ...DEFAULT_TIMING, ...options.timing };
  const watchTimeoutSeconds = options.watchTimeoutSeconds ?? 300;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const now = options.now ?? ((): Date => new Date());
  const deduper = new EventDeduper(options.eventDedupeWindowMs ?? 600_000);
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const strategicPatch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

  const call = async <R>(what: string, run: () => Promise<R>): Promise<R> => {
    try {
      return await withTimeout(run(), requestTimeoutMs, what);
    } catch (err) {
      throw toHubError(err, what);
    }
  };

  const source = (description: string, path: string, selectors: Selectors, list: () => Promise<ListResult>): ListWatchSource => ({
    description,
    list: () => withTimeout(list(), requestTimeoutMs, `list ${description}`),
    watch: (resourceVersion, onEvent, signal) =>
      watchStream(watcher, path, { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: watchTimeoutSeconds, ...selectors }, onEvent, signal, watchTimeoutSeconds),
  });

  const podInformerFor = (namespace: string | undefined, selectors: Selectors): Informer<PodInfo> => {
    const path = namespace === undefined ? '/api/v1/pods' : `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
    const list = async (): Promise<ListResult> =>
      listResult(namespace === undefined ? await core.listPodForAllNamespaces({ ...selectors }) : await core.listNamespacedPod({ namespace, ...selectors }));
    return createInformer(source(`pods ${namespace ?? '*'} ${describe(selectors)}`, path, selectors, list), podCodec, timing, log);
  };

  const configMapInformerFor = (namespace: string, selectors: Selectors): Informer<ConfigMapInfo> => {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`;
    const list = async (): Promise<ListResult> => listResult(await core.listNamespacedConfigMap({ namespace, ...selectors }));
    return createInformer(source(`configmaps ${namespace} ${describe(selectors)}`, path, selectors, list), configMapCodec, timing, log);
  };

  const createEvent = async (event: KubeEvent): Promise<void> => {
    const at = now();
    const key = EventDeduper.keyOf(event);
    const seen = deduper.recent(key, at.getTime());
    if (seen !== undefined) {
      try {
        const count = seen.count + 1;
        await withTimeout(
          core.patchNamespacedEvent({ name: seen.name, namespace: seen.namespace, body: { count, lastTimestamp: timestamp(at) } }, mergePatch),
          requestTimeoutMs,
          'patch event',
        );
        seen.count = count;
        seen.at = at.getTime();
        return;
      } catch (err) {
        deduper.forget(key);
        if (httpStatusOf(err) !== 404) throw toHubError(err, `patch event ${seen.namespace}/${seen.name}`);
      }
    }
    const body = buildEvent(event, at, options.eventHost);
    const namespace = eventNamespace(event);
    await call(`create event for ${event.target.kind} ${event.target.name}`, () => core.createNamespacedEvent({ namespace, body: Object.assign(new CoreV1Event(), body) }));
    if (options.eventDedupeWindowMs !== 0) deduper.remember(key, { namespace, name: body.metadata.name, count: 1, at: at.getTime() });
  };

  return {
    podInformer: (nodeName) => podInformerFor(undefined, { fieldSelector: `spec.nodeName=${nodeName}` }),
    clusterPodInformer: () => podInformerFor(undefined, {}),
    nodeInformer: (nodeName) => {
      const selectors: Selectors = { fieldSelector: `metadata.name=${nodeName}` };
      const list = async (): Promise<ListResult> => listResult(await core.listNode({ ...selectors }));
      return createInformer(source(`node ${nodeName}`, '/api/v1/nodes', selectors, list), nodeCodec, timing, log);
    },
    configMapInformer: (namespace) => configMapInformerFor(namespace, {}),
    // through the custom-objects API: it hands back the JSON as sent (the typed list renames `from` to `_from`)
    networkPolicyInformer: () => {
      const list = async (): Promise<ListResult> =>
        rawListResult(await custom.listClusterCustomObject({ group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies' }));
      return createInformer(source('networkpolicies *', '/apis/networking.k8s.io/v1/networkpolicies', {}, list), rawCodec, timing, log);
    },
    namespaceInformer: () => {
      const list = async (): Promise<ListResult> => listResult(await core.listNamespace({}));
      return createInformer(source('namespaces', '/api/v1/namespaces', {}, list), rawCodec, timing, log);
    },
    podInformerFor,
    configMapInformerFor,
    getPod: async (namespace, name) => {
      try {
        return toPodInfo(await withTimeout(core.readNamespacedPod({ namespace, name }), requestTimeoutMs, 'get pod'));
      } catch (err) {
        if (httpStatusOf(err) === 404) return undefined;
        throw toHubError(err, `get pod ${namespace}/${name}`);
      }
    },
    patchPodAnnotations: async (namespace, name, annotations) => {
      await call(`patch pod ${namespace}/${name}`, () => core.patchNamespacedPod({ namespace, name, body: { metadata: { annotations } } }, mergePatch));
    },
    patchNodeAnnotations: async (name, annotations) => {
      await call(`patch node ${name}`, () => core.patchNode({ name, body: { metadata: { annotations } } }, mergePatch));
    },
    setNodeCondition: async (name: string, condition: NodeCondition) => {
      const node = await call(`get node ${name}`, () => core.readNode({ name }));
      const record = nextCondition(node.status?.conditions, condition, now());
      await call(`patch node ${name} status`, () => core.patchNodeStatus({ name, body: conditionPatch(record) }, strategicPatch));
    },
    createEvent,
    ensureClusterObject: async (obj: ClusterObject): Promise<EnsureOutcome> => {
      const [group = '', version = ''] = obj.apiVersion.split('/');
      const ref = { group, version, plural: `${obj.kind.toLowerCase()}s`, name: obj.metadata.name };
      const what = `${obj.kind} ${obj.metadata.name}`;
      let current: { metadata?: Record<string, unknown>; spec?: unknown } | undefined;
      try {
        current = (await withTimeout(custom.getClusterCustomObject(ref), requestTimeoutMs, `get ${what}`)) as typeof current;
      } catch (err) {
        if (httpStatusOf(err) !== 404) throw toHubError(err, `get ${what}`);
      }
      if (current === undefined) {
        await call(`create ${what}`, () => custom.createClusterCustomObject({ group, version, plural: ref.plural, body: obj }));
        return 'created';
      }
      if (JSON.stringify(current.spec ?? {}) === JSON.stringify(obj.spec)) return 'unchanged';
      const body = { ...current, apiVersion: obj.apiVersion, kind: obj.kind, spec: obj.spec };
      await call(`replace ${what}`, () => custom.replaceClusterCustomObject({ ...ref, body }));
      return 'updated';
    },
  };
}

function listResult(list: { readonly items: readonly unknown[]; readonly metadata?: { readonly resourceVersion?: string } }): ListResult {
  return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
}

/** A list answered as plain JSON (custom-objects API). */
function rawListResult(body: unknown): ListResult {
  const b = typeof body === 'object' && body !== null ? (body as { items?: unknown; metadata?: { resourceVersion?: unknown } }) : {};
  const rv = b.metadata?.resourceVersion;
  return { items: Array.isArray(b.items) ? (b.items as readonly unknown[]) : [], resourceVersion: typeof rv === 'string' ? rv : '' };
}

function describe(selectors: Selectors): string {
  return [selectors.fieldSelector, selectors.labelSelector].filter((s) => s !== undefined && s !== '').join(' ');
}

/** One watch request through client-node's Watch; resolves on a clean end, rejects on failure or abort. */
function watchStream(
  watcher: Watch,
  path: string,
  query: Readonly<Record<string, string | number | boolean>>,
  onEvent: (type: string, object: unknown) => void,
  signal: AbortSignal,
  timeoutSeconds: number,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let controller: AbortController | undefined;
    const finish = (err: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(guard);
      signal.removeEventListener('abort', onAbort);
      controller?.abort();
      if (err === undefined || err === null) resolve();
      else reject(err instanceof Error ? err : new Error(`watch failed: ${JSON.stringify(err)}`));
    };
    const onAbort = (): void => { finish(new Error('watch aborted')); };
    // Client-side guard in case the server never ends the stream (client-node's Watch has no timeout of its own).
    const guard = setTimeout(() => { finish(undefined); }, (timeoutSeconds + 30) * 1000);
    guard.unref();
    if (signal.aborted) {
      finish(new Error('watch aborted'));
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    watcher
      .watch(
        path,
        query,
        (type: string, object: unknown) => {
          if (!settled) onEvent(type, object);
        },
        (err: unknown) => {
          finish(err);
        },
      )
      .then(
        (c) => {
          controller = c;
          if (settled) c.abort();
        },
        (err: unknown) => { finish(err ?? new Error('watch failed')); },
      );
  });
}

async function withTimeout<R>(promise: Promise<R>, ms: number, what: string): Promise<R> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => { reject(new Error(`${what}: timed out after ${String(ms)}ms`)); }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
