/** core/v1 and custom-resource (/apis/GROUP/VERSION) REST paths → (resource, namespace, name, subresource). */
export interface ResourceDef {
  readonly kind: string;
  /** `GROUP/VERSION` of a custom resource; absent for core/v1. */
  readonly groupVersion?: string;
  readonly plural: string;
  readonly namespaced: boolean;
  /** Has a status subresource: writes to the main resource keep the stored status and vice versa. */
  readonly statusSubresource: boolean;
}

const RESOURCES: readonly ResourceDef[] = [
  { kind: 'Pod', plural: 'pods', namespaced: true, statusSubresource: true },
  { kind: 'Node', plural: 'nodes', namespaced: false, statusSubresource: true },
  { kind: 'ConfigMap', plural: 'configmaps', namespaced: true, statusSubresource: false },
  { kind: 'Secret', plural: 'secrets', namespaced: true, statusSubresource: false },
  { kind: 'Event', plural: 'events', namespaced: true, statusSubresource: false },
  { kind: 'Service', plural: 'services', namespaced: true, statusSubresource: true },
  { kind: 'Namespace', plural: 'namespaces', namespaced: false, statusSubresource: true },
  { kind: 'NetworkPolicy', groupVersion: 'networking.k8s.io/v1', plural: 'networkpolicies', namespaced: true, statusSubresource: false },
  // Calico's CRDs the felix backend ensures (crd.projectcalico.org/v1, cluster-scoped)
  { kind: 'ClusterInformation', groupVersion: 'crd.projectcalico.org/v1', plural: 'clusterinformations', namespaced: false, statusSubresource: false },
  { kind: 'FelixConfiguration', groupVersion: 'crd.projectcalico.org/v1', plural: 'felixconfigurations', namespaced: false, statusSubresource: false },
];

export function resourceByKind(kind: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.kind === kind);
}

export interface Route {
  readonly resource: ResourceDef;
  /** undefined: all namespaces (or a cluster-scoped resource). */
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: string | undefined;
  /** A legacy /api/v1/watch/... path. */
  readonly watchPath: boolean;
}

export function parseRoute(pathname: string): Route | undefined {
  let groupVersion: string | undefined;
  let rest: string;
  if (pathname.startsWith('/api/v1/')) rest = pathname.slice('/api/v1/'.length);
  else {
    const m = /^\/apis\/([^/]+\/[^/]+)\/(.*)$/u.exec(pathname);
    if (m === null) return undefined;
    groupVersion = m[1];
    rest = m[2] ?? '';
  }
  let parts = rest.split('/').filter((p) => p !== '').map(decodeURIComponent);
  const watchPath = parts[0] === 'watch';
  if (watchPath) parts = parts.slice(1);
  let namespace: string | undefined;
  if (parts[0] === 'namespaces' && parts.length >= 3) {
    namespace = parts[1];
    parts = parts.slice(2);
  }
  const [plural, name, subresource] = parts;
  const resource = RESOURCES.find((r) => r.plural === plural && r.groupVersion === groupVersion);
  if (resource === undefined || parts.length > 3) return undefined;
  if (!resource.namespaced && namespace !== undefined) return undefined;
  return { resource, namespace, name, subresource, watchPath };
}
