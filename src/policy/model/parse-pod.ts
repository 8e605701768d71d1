/**
 * core/v1 Pod → model: labels, status.podIP/podIPs, named container ports, spec.nodeName, spec.hostNetwork, and
 * status.hostIP/hostIPs (the node's addresses, used for "traffic from the pod's own node").
 */
import { ConfigError } from '../../lib/errors.js';
import { quote } from '../../lib/text.js';
import { asObj, kindOf, optBool, optString, type Obj } from '../../config/fields.js';
import { formatIp, parseIpAddr } from './ip.js';
import { got, parseMeta, parseProtocol, portNameProblem } from './meta.js';
import { parseLabels } from './selector.js';
import type { NamedPort, Pod } from './types.js';

export interface ParsedPod {
  readonly pod: Pod;
  /** status.hostIP(s): addresses of the pod's node. */
  readonly hostIps: readonly string[];
  /** status.phase Succeeded or Failed: the pod holds no IP any more and is left out of the model. */
  readonly finished: boolean;
}

function list(o: Obj, key: string, path: string): readonly unknown[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ConfigError(`${path}.${key}`, `must be a list; got ${kindOf(v)}`);
  return v;
}

function ip(raw: unknown, path: string): string {
  if (typeof raw !== 'string') throw new ConfigError(path, `must be an IP address string; got ${got(raw)}`);
  const parsed = parseIpAddr(raw);
  if (parsed === undefined) throw new ConfigError(path, `not an IP address: ${quote(raw)}`);
  return formatIp(parsed);
}

/** `status.<single>` and `status.<plural>[].ip`, canonical and de-duplicated, single first. */
function statusIps(status: Obj, single: string, plural: string): string[] {
  const out: string[] = [];
  const one = status[single];
  if (one !== undefined && one !== null && one !== '') out.push(ip(one, `status.${single}`));
  list(status, plural, 'status').forEach((entry, i) => {
    const p = `status.${plural}[${String(i)}]`;
    const v = ip(asObj(entry, p)['ip'], `${p}.ip`);
    if (!out.includes(v)) out.push(v);
  });
  return out;
}

function namedPorts(spec: Obj): NamedPort[] {
  const out: NamedPort[] = [];
  list(spec, 'containers', 'spec').forEach((c, ci) => {
    const cp = `spec.containers[${String(ci)}]`;
    list(asObj(c, cp), 'ports', cp).forEach((raw, pi) => {
      const pp = `${cp}.ports[${String(pi)}]`;
      const o = asObj(raw, pp);
      const port = o['containerPort'];
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new ConfigError(`${pp}.containerPort`, `must be 1..65535; got ${quote(port)}`);
      }
      const protocol = parseProtocol(o, 'protocol', pp);
      const name = optString(o, 'name', pp);
      if (name === undefined || name === '') return;
      const problem = portNameProblem(name);
      if (problem !== undefined) throw new ConfigError(`${pp}.name`, problem);
      out.push({ name, port, protocol });
    });
  });
  return out;
}

export function parsePod(raw: unknown, defaultNamespace = 'default'): ParsedPod {
  const root = asObj(raw, 'object');
  const meta = parseMeta(root);
  const labels = parseLabels(meta.obj, 'labels', 'metadata');
  const spec = root['spec'] === undefined || root['spec'] === null ? {} : asObj(root['spec'], 'spec');
  const status = root['status'] === undefined || root['status'] === null ? {} : asObj(root['status'], 'status');
  const nodeName = optString(spec, 'nodeName', 'spec');
  const phase = optString(status, 'phase', 'status');
  const pod: Pod = {
    namespace: meta.namespace ?? defaultNamespace,
    name: meta.name,
    labels,
    ips: statusIps(status, 'podIP', 'podIPs'),
    namedPorts: namedPorts(spec),
    nodeName: nodeName === '' ? undefined : nodeName,
    hostNetwork: optBool(spec, 'hostNetwork', 'spec') ?? false,
  };
  return { pod, hostIps: statusIps(status, 'hostIP', 'hostIPs'), finished: phase === 'Succeeded' || phase === 'Failed' };
}
