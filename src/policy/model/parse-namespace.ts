/** core/v1 Namespace and Node → model. A namespace always carries kubernetes.io/metadata.name (R15). */
import { ConfigError } from '../../lib/errors.js';
import { quote } from '../../lib/text.js';
import { asObj, kindOf, optString } from '../../config/fields.js';
import { formatIp, parseIpAddr } from './ip.js';
import { isDnsLabel, parseMeta } from './meta.js';
import { parseLabels } from './selector.js';
import { NAMESPACE_NAME_LABEL, type Namespace, type Node } from './types.js';

/** A namespace known only by name: its labels are the automatic name label alone. */
export function namespaceOf(name: string, labels: Readonly<Record<string, string>> = {}, synthesized = true): Namespace {
  return { name, labels: { ...labels, [NAMESPACE_NAME_LABEL]: name }, synthesized };
}

export function parseNamespace(raw: unknown): Namespace {
  const meta = parseMeta(asObj(raw, 'object'));
  if (!isDnsLabel(meta.name)) throw new ConfigError('metadata.name', `not a valid namespace name: ${quote(meta.name)}`);
  const labels = parseLabels(meta.obj, 'labels', 'metadata');
  const given = labels[NAMESPACE_NAME_LABEL];
  if (given !== undefined && given !== meta.name) {
    throw new ConfigError(`metadata.labels.${NAMESPACE_NAME_LABEL}`, `must equal the namespace name ${quote(meta.name)}; got ${quote(given)}`);
  }
  return namespaceOf(meta.name, labels, false);
}

/** Node addresses of type InternalIP and ExternalIP (status.addresses). */
export function parseNode(raw: unknown): Node {
  const root = asObj(raw, 'object');
  const meta = parseMeta(root);
  const status = root['status'] === undefined || root['status'] === null ? {} : asObj(root['status'], 'status');
  const addresses = status['addresses'] ?? [];
  if (!Array.isArray(addresses)) throw new ConfigError('status.addresses', `must be a list; got ${kindOf(addresses)}`);
  const ips: string[] = [];
  addresses.forEach((a: unknown, i) => {
    const p = `status.addresses[${String(i)}]`;
    const o = asObj(a, p);
    const type = optString(o, 'type', p);
    if (type !== 'InternalIP' && type !== 'ExternalIP') return;
    const address = optString(o, 'address', p) ?? '';
    const ip = parseIpAddr(address);
    if (ip === undefined) throw new ConfigError(`${p}.address`, `not an IP address: ${quote(address)}`);
    const text = formatIp(ip);
    if (!ips.includes(text)) ips.push(text);
  });
  return { name: meta.name, ips };
}
