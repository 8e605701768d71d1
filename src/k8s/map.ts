/**
 * Pure mapping of Kubernetes objects (client-node's typed V1 models or raw watch JSON — timestamps may be Date or
 * string) to the daemon's plain PodInfo/NodeInfo/ConfigMapInfo. Returns undefined when identity fields are missing.
 */
import type { ConfigMapInfo, ContainerPortInfo, NodeAddress, NodeInfo, OwnerRef, PodInfo, RawObjectInfo } from './types.js';

type Rec = Readonly<Record<string, unknown>>;

function rec(v: unknown): Rec | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const r = rec(v);
  if (r === undefined) return out;
  for (const [k, val] of Object.entries(r)) if (typeof val === 'string') out[k] = val;
  return out;
}

/** RFC 3339 without fractional seconds (the Kubernetes metav1.Time wire form). */
export function timestamp(v: unknown): string | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v.toISOString().replace(/\.\d+Z$/, 'Z');
  return str(v);
}

interface Meta {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly resourceVersion: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly raw: Rec;
}

function meta(obj: unknown): Meta | undefined {
  const md = rec(rec(obj)?.['metadata']);
  const name = str(md?.['name']);
  if (md === undefined || name === undefined || name === '') return undefined;
  return {
    name,
    namespace: str(md['namespace']) ?? '',
    uid: str(md['uid']) ?? '',
    resourceVersion: str(md['resourceVersion']) ?? '',
    labels: stringMap(md['labels']),
    annotations: stringMap(md['annotations']),
    raw: md,
  };
}

function owners(v: unknown): OwnerRef[] {
  if (!Array.isArray(v)) return [];
  const out: OwnerRef[] = [];
  for (const item of v as readonly unknown[]) {
    const r = rec(item);
    const kind = str(r?.['kind']);
    const name = str(r?.['name']);
    if (kind !== undefined && name !== undefined) out.push({ kind, name, controller: r?.['controller'] === true });
  }
  return out;
}

export function toPodInfo(obj: unknown): PodInfo | undefined {
  const m = meta(obj);
  if (m === undefined) return undefined;
  const spec = rec(rec(obj)?.['spec']);
  const status = rec(rec(obj)?.['status']);
  const deletionTimestamp = timestamp(m.raw['deletionTimestamp']);
  const phase = str(status?.['phase']);
  const podIp = str(status?.['podIP']);
  const podIps = records(status?.['podIPs']).flatMap((r) => (typeof r['ip'] === 'string' ? [r['ip']] : []));
  const containerPorts = records(spec?.['containers']).flatMap((c) =>
    records(c['ports']).map((p): ContainerPortInfo => ({ name: p['name'], containerPort: p['containerPort'], protocol: p['protocol'] })),
  );
  return {
    namespace: m.namespace,
    name: m.name,
    uid: m.uid,
    nodeName: str(spec?.['nodeName']) ?? '',
    hostNetwork: spec?.['hostNetwork'] === true,
    annotations: m.annotations,
    labels: m.labels,
    owners: owners(m.raw['ownerReferences']),
    ...(deletionTimestamp !== undefined ? { deletionTimestamp } : {}),
    ...(phase !== undefined ? { phase } : {}),
    ...(podIp !== undefined && podIp !== '' ? { podIp } : {}),
    ...(podIps.length > 0 ? { podIps } : {}),
    ...(containerPorts.length > 0 ? { containerPorts } : {}),
    resourceVersion: m.resourceVersion,
  };
}

export function toNodeInfo(obj: unknown): NodeInfo | undefined {
  const m = meta(obj);
  if (m === undefined) return undefined;
  const podCIDR = str(rec(rec(obj)?.['spec'])?.['podCIDR']);
  const addresses = records(rec(rec(obj)?.['status'])?.['addresses']).flatMap((a): NodeAddress[] => {
    const type = str(a['type']);
    const address = str(a['address']);
    return type !== undefined && address !== undefined ? [{ type, address }] : [];
  });
  // a quantity; the kubelet writes the plain integer ("110")
  const pods = str(rec(rec(rec(obj)?.['status'])?.['capacity'])?.['pods']);
  const maxPods = pods !== undefined && /^\d{1,6}$/u.test(pods) ? Number(pods) : undefined;
  return {
    name: m.name,
    uid: m.uid,
    labels: m.labels,
    annotations: m.annotations,
    ...(podCIDR !== undefined && podCIDR !== '' ? { podCIDR } : {}),
    ...(addresses.length > 0 ? { addresses } : {}),
    ...(maxPods !== undefined ? { maxPods } : {}),
    resourceVersion: m.resourceVersion,
  };
}

export function toConfigMapInfo(obj: unknown): ConfigMapInfo | undefined {
  const m = meta(obj);
  if (m === undefined) return undefined;
  return { namespace: m.namespace, name: m.name, data: stringMap(rec(obj)?.['data']), resourceVersion: m.resourceVersion };
}

/** Any object with its identity (namespace, name, uid, resourceVersion), the object itself kept as is. */
export function toRawObjectInfo(obj: unknown): RawObjectInfo | undefined {
  const m = meta(obj);
  if (m === undefined) return undefined;
  return { namespace: m.namespace, name: m.name, uid: m.uid, resourceVersion: m.resourceVersion, object: obj };
}

/** The object elements of a list (anything else: none). */
function records(v: unknown): Rec[] {
  if (!Array.isArray(v)) return [];
  return (v as readonly unknown[]).flatMap((item) => {
    const r = rec(item);
    return r === undefined ? [] : [r];
  });
}

/** The status of a watch ERROR event / failed request (a metav1.Status), if it is one. */
export function statusCode(obj: unknown): number | undefined {
  const r = rec(obj);
  const code = r?.['code'];
  return typeof code === 'number' ? code : undefined;
}

/** resourceVersion of any object (used for BOOKMARK events). */
export function resourceVersionOf(obj: unknown): string | undefined {
  return str(rec(rec(obj)?.['metadata'])?.['resourceVersion']);
}
