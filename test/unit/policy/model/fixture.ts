/** Small builders for model tests: pods and namespaces as data, policies through the real parser. */
import { buildModel } from '../../../../src/policy/model/build.js';
import { namespaceOf } from '../../../../src/policy/model/parse-namespace.js';
import { parseNetworkPolicy } from '../../../../src/policy/model/parse-policy.js';
import type { NamedPort, NetworkPolicy, Node, Pod, PolicyModel } from '../../../../src/policy/model/types.js';

export function pod(key: string, ip: string | readonly string[], labels: Record<string, string> = {}, extra: Partial<Pod> = {}): Pod {
  const [namespace, name] = key.split('/') as [string, string];
  return {
    namespace,
    name,
    labels: { pod: name, ...labels },
    ips: typeof ip === 'string' ? (ip === '' ? [] : [ip]) : ip,
    namedPorts: [],
    nodeName: 'node-1',
    hostNetwork: false,
    ...extra,
  };
}

export const SERVE: readonly NamedPort[] = [
  { name: 'serve-80-tcp', port: 80, protocol: 'TCP' },
  { name: 'serve-81-tcp', port: 81, protocol: 'TCP' },
  { name: 'serve-80-udp', port: 80, protocol: 'UDP' },
];

/** A NetworkPolicy from its spec, through parseNetworkPolicy (so the API defaulting applies). */
export function policy(key: string, spec: Record<string, unknown>): NetworkPolicy {
  const [namespace, name] = key.split('/') as [string, string];
  return parseNetworkPolicy({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace, name }, spec });
}

export interface World {
  readonly pods: readonly Pod[];
  readonly policies?: readonly NetworkPolicy[];
  readonly namespaceLabels?: Readonly<Record<string, Record<string, string>>>;
  readonly nodes?: readonly Node[];
}

export const NODE_IP = '192.168.0.1';

export function world(w: World): PolicyModel {
  const namespaces = Object.entries(w.namespaceLabels ?? {}).map(([name, labels]) => namespaceOf(name, labels, false));
  return buildModel({ pods: w.pods, policies: w.policies ?? [], namespaces, nodes: w.nodes ?? [{ name: 'node-1', ips: [NODE_IP] }] });
}

/** x/a x/b y/a y/b, IPs 10.0.<ns>.<pod>, all on node-1, named ports serve-80-tcp, serve-81-tcp, serve-80-udp. */
export function basicPods(): Pod[] {
  return [
    pod('x/a', '10.0.1.1', {}, { namedPorts: SERVE }),
    pod('x/b', '10.0.1.2', {}, { namedPorts: SERVE }),
    pod('y/a', '10.0.2.1', {}, { namedPorts: SERVE }),
    pod('y/b', '10.0.2.2', {}, { namedPorts: SERVE }),
  ];
}
