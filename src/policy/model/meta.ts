/** metadata.name / metadata.namespace of a Kubernetes object, checked as DNS labels/subdomains. */
import { ConfigError } from '../../lib/errors.js';
import { quote } from '../../lib/text.js';
import { asObj, kindOf, optString, type Obj } from '../../config/fields.js';
import type { Protocol } from './types.js';
import { PROTOCOLS } from './types.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/u;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/u;

export interface Meta {
  readonly name: string;
  readonly namespace: string | undefined;
  readonly obj: Obj;
}

/**
 * Refuses fields the schema does not have, as kubectl's default strict field validation does: in a NetworkPolicy a
 * misspelt `ingres:` or `polcyTypes:` would otherwise change what the policy isolates without a word.
 */
export function refuseUnknownFields(o: Obj, known: readonly string[], path: string): void {
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) throw new ConfigError(path === '' ? key : `${path}.${key}`, `unknown field (known: ${known.join(', ')})`);
  }
}

/** `metadata` with a required name (DNS subdomain) and an optional namespace (DNS label). */
export function parseMeta(root: Obj): Meta {
  if (root['metadata'] === undefined || root['metadata'] === null) throw new ConfigError('metadata', 'is required');
  const obj = asObj(root['metadata'], 'metadata');
  const name = optString(obj, 'name', 'metadata');
  if (name === undefined) throw new ConfigError('metadata.name', 'is required');
  if (!DNS_SUBDOMAIN.test(name)) throw new ConfigError('metadata.name', `not a valid object name: ${quote(name)}`);
  const namespace = optString(obj, 'namespace', 'metadata');
  if (namespace !== undefined && !DNS_LABEL.test(namespace)) throw new ConfigError('metadata.namespace', `not a valid namespace name: ${quote(namespace)}`);
  return { name, namespace, obj };
}

export function isDnsLabel(s: string): boolean {
  return DNS_LABEL.test(s);
}

/** A protocol field: absent or null defaults to TCP (R4); only TCP, UDP and SCTP are valid. */
export function parseProtocol(o: Obj, key: string, path: string): Protocol {
  const v = o[key];
  if (v === undefined || v === null) return 'TCP';
  if (typeof v !== 'string' || !(PROTOCOLS as readonly string[]).includes(v)) {
    throw new ConfigError(`${path}.${key}`, `must be one of TCP, UDP, SCTP; got ${quote(v)}`);
  }
  return v as Protocol;
}

/** What a bad value was, for an error message: `nothing` for an absent field, else fields.ts's kindOf. */
export function got(v: unknown): string {
  return v === undefined ? 'nothing' : kindOf(v);
}

/** IANA_SVC_NAME: 1..15 of [a-z0-9-], at least one letter, no leading/trailing or double hyphen. */
export function portNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > 15) return `a port name must be 1..15 characters: ${quote(name)}`;
  if (!/^[a-z0-9-]+$/u.test(name) || !/[a-z]/u.test(name) || name.startsWith('-') || name.endsWith('-') || name.includes('--')) {
    return `not a valid port name (IANA_SVC_NAME): ${quote(name)}`;
  }
  return undefined;
}
