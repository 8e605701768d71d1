/**
 * Reads an OBJECTS text — what `kubectl get -o yaml` (or `-o json`) writes: one object, several YAML documents,
 * or a `v1 List` / typed list (`PodList`, …) — into a PolicyModel. Kinds used: Namespace, Pod, NetworkPolicy and
 * Node (optional: node addresses; pods' status.hostIP gives them too). Other kinds are skipped and reported.
 * All or nothing: every bad object is reported (object + field) and no model is returned.
 */
import { parseAllDocuments } from 'yaml';
import { ConfigError } from '../../lib/errors.js';
import { isObj, kindOf, type Obj } from '../../config/fields.js';
import { buildModel } from './build.js';
import { PolicyObjectError, objectErrorOf } from './errors.js';
import { parseNamespace, parseNode } from './parse-namespace.js';
import { parseNetworkPolicy } from './parse-policy.js';
import { parsePod } from './parse-pod.js';
import type { Namespace, NetworkPolicy, Node, Pod, PolicyModel } from './types.js';

export interface ObjectsOptions {
  /** Namespace of a Pod or NetworkPolicy without metadata.namespace (kubectl's context namespace). */
  readonly defaultNamespace?: string;
}

export type ObjectsResult =
  | { readonly ok: true; readonly model: PolicyModel; readonly notes: readonly string[] }
  | { readonly ok: false; readonly errors: readonly PolicyObjectError[] };

const API_VERSION: Readonly<Record<string, string>> = { Namespace: 'v1', Pod: 'v1', Node: 'v1', NetworkPolicy: 'networking.k8s.io/v1' };

interface Located {
  readonly value: unknown;
  /** `document 2` or `document 2 items[5]`. */
  readonly where: string;
  /** Kind implied by a typed list (`PodList` items carry no kind). */
  readonly impliedKind: string | undefined;
}

function flatten(value: unknown, where: string, impliedKind: string | undefined, out: Located[], errors: PolicyObjectError[]): void {
  if (isObj(value) && typeof value['kind'] === 'string' && value['kind'].endsWith('List') && value['items'] !== undefined) {
    const items = value['items'];
    if (!Array.isArray(items)) {
      errors.push(new PolicyObjectError(where, 'items', `must be a list; got ${kindOf(items)}`));
      return;
    }
    const kind = value['kind'] === 'List' ? undefined : value['kind'].slice(0, -'List'.length);
    items.forEach((item: unknown, i) => {
      flatten(item, `${where} items[${String(i)}]`, kind, out, errors);
    });
    return;
  }
  out.push({ value, where, impliedKind });
}

function strAt(o: Obj, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** `Pod x/a`, `Namespace x`, or the location when the object has no readable name. */
function objectName(o: Obj, kind: string, where: string, defaultNamespace: string): string {
  const meta = isObj(o['metadata']) ? o['metadata'] : {};
  const name = strAt(meta, 'name');
  if (name === undefined) return `${kind} (${where})`;
  if (kind === 'Namespace' || kind === 'Node') return `${kind} ${name}`;
  return `${kind} ${strAt(meta, 'namespace') ?? defaultNamespace}/${name}`;
}

export function readObjects(text: string, options: ObjectsOptions = {}): ObjectsResult {
  const defaultNamespace = options.defaultNamespace ?? 'default';
  const errors: PolicyObjectError[] = [];
  const namespaces: Namespace[] = [];
  const pods: Pod[] = [];
  const policies: NetworkPolicy[] = [];
  const nodes: Node[] = [];
  const notes: string[] = [];
  const seen = new Map<string, string>();

  const take = ({ value, where, impliedKind }: Located): void => {
    if (!isObj(value)) {
      errors.push(new PolicyObjectError(where, '', `must be a Kubernetes object; got ${kindOf(value)}`));
      return;
    }
    const kind = strAt(value, 'kind') ?? impliedKind;
    if (kind === undefined) {
      errors.push(new PolicyObjectError(where, 'kind', 'is required'));
      return;
    }
    const object = objectName(value, kind, where, defaultNamespace);
    const wanted = API_VERSION[kind];
    if (wanted === undefined) {
      notes.push(`${object}: skipped (kind ${kind} is not used by NetworkPolicy)`);
      return;
    }
    const apiVersion = value['apiVersion'];
    if (apiVersion !== undefined && apiVersion !== wanted) {
      errors.push(new PolicyObjectError(object, 'apiVersion', `must be ${wanted} for kind ${kind}; got ${kindOf(apiVersion)}`));
      return;
    }
    const first = seen.get(object);
    if (first !== undefined) {
      errors.push(new PolicyObjectError(object, '', `appears twice (${first} and ${where})`));
      return;
    }
    seen.set(object, where);
    try {
      if (kind === 'Namespace') namespaces.push(parseNamespace(value));
      else if (kind === 'Node') nodes.push(parseNode(value));
      else if (kind === 'NetworkPolicy') policies.push(parseNetworkPolicy(value, defaultNamespace));
      else {
        const parsed = parsePod(value, defaultNamespace);
        if (parsed.finished) {
          notes.push(`${object}: skipped (phase ${String(isObj(value['status']) ? value['status']['phase'] : '')}: a finished pod holds no IP)`);
          return;
        }
        pods.push(parsed.pod);
        if (parsed.pod.nodeName !== undefined && parsed.hostIps.length > 0) nodes.push({ name: parsed.pod.nodeName, ips: parsed.hostIps });
      }
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      errors.push(objectErrorOf(object, e));
    }
  };

  parseAllDocuments(text).forEach((doc, i) => {
    const where = `document ${String(i + 1)}`;
    const bad = doc.errors[0];
    if (bad !== undefined) {
      errors.push(new PolicyObjectError(where, '', `not valid YAML: ${bad.message.split('\n')[0] ?? ''}`));
      return;
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return;
    const located: Located[] = [];
    flatten(value, where, undefined, located, errors);
    located.forEach(take);
  });
  if (errors.length > 0) return { ok: false, errors };
  const model = buildModel({ namespaces, pods, policies, nodes });
  notes.push(...sharedIpNotes(model.pods));
  for (const ns of model.namespaces.values()) {
    if (ns.synthesized) notes.push(`Namespace ${ns.name}: not in the input; assumed to carry only the label kubernetes.io/metadata.name=${ns.name}`);
  }
  return { ok: true, model, notes };
}

function sharedIpNotes(pods: readonly Pod[]): string[] {
  const owner = new Map<string, string>();
  const notes: string[] = [];
  for (const p of pods) {
    if (p.hostNetwork) continue;
    for (const ip of p.ips) {
      const prev = owner.get(ip);
      if (prev !== undefined) notes.push(`Pod ${p.namespace}/${p.name}: IP ${ip} is also held by Pod ${prev}; an IP peer resolves to ${prev}`);
      else owner.set(ip, `${p.namespace}/${p.name}`);
    }
  }
  return notes;
}
