/**
 * networking.k8s.io/v1 NetworkPolicy → model, applying the API server's defaulting (R3 policyTypes, R4 protocol TCP,
 * absent podSelector = {}) and validation (R2, R5, R6). Errors name the field relative to the object.
 */
import { ConfigError } from '../../lib/errors.js';
import { quote } from '../../lib/text.js';
import { asObj, kindOf, type Obj } from '../../config/fields.js';
import { isStrictSubnet, parseCidrBlock, type CidrBlock } from './ip.js';
import { got, parseMeta, parseProtocol, portNameProblem, refuseUnknownFields } from './meta.js';
import { EMPTY_SELECTOR, optLabelSelector } from './selector.js';
import type { IpBlock, NetworkPolicy, Peer, PolicyPort, PolicyRule } from './types.js';

function optList(o: Obj, key: string, path: string): readonly unknown[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new ConfigError(`${path}.${key}`, `must be a list; got ${kindOf(v)}`);
  return v as readonly unknown[];
}

function parseIpBlock(raw: unknown, path: string): IpBlock {
  const o = asObj(raw, path);
  refuseUnknownFields(o, ['cidr', 'except'], path);
  const cidrRaw = o['cidr'];
  if (typeof cidrRaw !== 'string' || cidrRaw === '') throw new ConfigError(`${path}.cidr`, `is required (a CIDR); got ${got(cidrRaw)}`);
  const cidr = parseCidrBlock(cidrRaw);
  if (cidr === undefined) throw new ConfigError(`${path}.cidr`, `not a CIDR: ${quote(cidrRaw)}`);
  const except: string[] = [];
  const exceptBlocks: CidrBlock[] = [];
  (optList(o, 'except', path) ?? []).forEach((e, i) => {
    const p = `${path}.except[${String(i)}]`;
    if (typeof e !== 'string') throw new ConfigError(p, `must be a CIDR string; got ${kindOf(e)}`);
    const block = parseCidrBlock(e);
    if (block === undefined) throw new ConfigError(p, `not a CIDR: ${quote(e)}`);
    if (!isStrictSubnet(block, cidr)) throw new ConfigError(p, `must be a strict subset of cidr ${cidrRaw}: ${quote(e)}`);
    except.push(e);
    exceptBlocks.push(block);
  });
  return { cidr: cidrRaw, except, block: cidr, exceptBlocks };
}

export function parsePeer(raw: unknown, path: string): Peer {
  const o = asObj(raw, path);
  refuseUnknownFields(o, ['podSelector', 'namespaceSelector', 'ipBlock'], path);
  const podSelector = optLabelSelector(o, 'podSelector', path);
  const namespaceSelector = optLabelSelector(o, 'namespaceSelector', path);
  const ipBlockRaw = o['ipBlock'];
  const hasIpBlock = ipBlockRaw !== undefined && ipBlockRaw !== null;
  if (hasIpBlock) {
    if (podSelector !== undefined || namespaceSelector !== undefined) {
      throw new ConfigError(path, 'may not specify both ipBlock and another peer (podSelector/namespaceSelector)');
    }
    return { kind: 'ipBlock', ipBlock: parseIpBlock(ipBlockRaw, `${path}.ipBlock`) };
  }
  if (podSelector === undefined && namespaceSelector === undefined) {
    throw new ConfigError(path, 'must specify a peer: podSelector, namespaceSelector or ipBlock');
  }
  return { kind: 'pods', podSelector, namespaceSelector };
}

export function parsePolicyPort(raw: unknown, path: string): PolicyPort {
  const o = asObj(raw, path);
  refuseUnknownFields(o, ['protocol', 'port', 'endPort'], path);
  const protocol = parseProtocol(o, 'protocol', path);
  const p = o['port'];
  let port: number | string | undefined;
  if (p === undefined || p === null) port = undefined;
  else if (typeof p === 'number') {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new ConfigError(`${path}.port`, `must be 1..65535 or a port name; got ${quote(p)}`);
    port = p;
  } else if (typeof p === 'string') {
    const problem = portNameProblem(p);
    if (problem !== undefined) throw new ConfigError(`${path}.port`, problem);
    port = p;
  } else throw new ConfigError(`${path}.port`, `must be a number or a port name; got ${kindOf(p)}`);
  const e = o['endPort'];
  let endPort: number | undefined;
  if (e !== undefined && e !== null) {
    if (typeof e !== 'number' || !Number.isInteger(e) || e < 1 || e > 65535) throw new ConfigError(`${path}.endPort`, `must be 1..65535; got ${quote(e)}`);
    if (port === undefined) throw new ConfigError(`${path}.endPort`, 'may not be set when port is not specified');
    if (typeof port === 'string') throw new ConfigError(`${path}.endPort`, 'may not be set when port is a named port');
    if (e < port) throw new ConfigError(`${path}.endPort`, `must be >= port ${String(port)}; got ${String(e)}`);
    endPort = e;
  }
  return { protocol, port, endPort };
}

function parseRule(raw: unknown, path: string, peersKey: 'from' | 'to'): PolicyRule {
  const o = raw === null ? {} : asObj(raw, path);
  refuseUnknownFields(o, [peersKey, 'ports'], path);
  const peers = (optList(o, peersKey, path) ?? []).map((p, i) => parsePeer(p, `${path}.${peersKey}[${String(i)}]`));
  const ports = (optList(o, 'ports', path) ?? []).map((p, i) => parsePolicyPort(p, `${path}.ports[${String(i)}]`));
  return { peers, ports };
}

function parsePolicyTypes(spec: Obj, hasEgressRules: boolean): NetworkPolicy['policyTypes'] {
  const list = optList(spec, 'policyTypes', 'spec') ?? [];
  if (list.length === 0) return { ingress: true, egress: hasEgressRules }; // R3 defaulting
  if (list.length > 2) throw new ConfigError('spec.policyTypes', `may hold at most 2 entries; got ${String(list.length)}`);
  let ingress = false;
  let egress = false;
  list.forEach((t, i) => {
    const p = `spec.policyTypes[${String(i)}]`;
    if (t === 'Ingress' && !ingress) ingress = true;
    else if (t === 'Egress' && !egress) egress = true;
    else throw new ConfigError(p, t === 'Ingress' || t === 'Egress' ? `duplicate ${t}` : `must be Ingress or Egress; got ${quote(t)}`);
  });
  return { ingress, egress };
}

/**
 * `raw` is one NetworkPolicy object. `defaultNamespace` stands in for an absent metadata.namespace (what
 * `kubectl apply -f` does with the context's namespace).
 */
export function parseNetworkPolicy(raw: unknown, defaultNamespace = 'default'): NetworkPolicy {
  const root = asObj(raw, 'object');
  const meta = parseMeta(root);
  const spec = root['spec'] === undefined || root['spec'] === null ? {} : asObj(root['spec'], 'spec');
  refuseUnknownFields(spec, ['podSelector', 'policyTypes', 'ingress', 'egress'], 'spec');
  const podSelector = optLabelSelector(spec, 'podSelector', 'spec') ?? EMPTY_SELECTOR;
  const ingress = (optList(spec, 'ingress', 'spec') ?? []).map((r, i) => parseRule(r, `spec.ingress[${String(i)}]`, 'from'));
  const egress = (optList(spec, 'egress', 'spec') ?? []).map((r, i) => parseRule(r, `spec.egress[${String(i)}]`, 'to'));
  const policyTypes = parsePolicyTypes(spec, egress.length > 0);
  return { namespace: meta.namespace ?? defaultNamespace, name: meta.name, podSelector, policyTypes, ingress, egress };
}
