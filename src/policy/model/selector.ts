/**
 * Label selectors (R2, R14): matchLabels AND matchExpressions; In/NotIn need values, Exists/DoesNotExist none;
 * NotIn and DoesNotExist match objects that lack the key; an empty selector matches everything.
 */
import { ConfigError } from '../../lib/errors.js';
import { quote } from '../../lib/text.js';
import { asObj, kindOf, optStringMap, type Obj } from '../../config/fields.js';
import { got, refuseUnknownFields } from './meta.js';
import type { LabelRequirement, LabelSelector, Labels, SelectorOperator } from './types.js';

const OPERATORS: readonly SelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

export const EMPTY_SELECTOR: LabelSelector = { matchLabels: {}, matchExpressions: [] };

/** A label key: optional DNS-subdomain prefix + "/" + a name of 1..63 [A-Za-z0-9._-], alphanumeric at both ends. */
const NAME = /^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)$/u;
const PREFIX = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/u;

export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && !PREFIX.test(prefix)) return `label key prefix is not a DNS subdomain: ${quote(key)}`;
  if (!NAME.test(name)) return `not a valid label key: ${quote(key)}`;
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  return value === '' || NAME.test(value) ? undefined : `not a valid label value: ${quote(value)}`;
}

/** Labels of an object (metadata.labels): keys and values checked as the API server does. */
export function parseLabels(o: Obj, key: string, path: string): Labels {
  const labels = optStringMap(o, key, path) ?? {};
  for (const [k, v] of Object.entries(labels)) {
    const problem = labelKeyProblem(k) ?? labelValueProblem(v);
    if (problem !== undefined) throw new ConfigError(`${path}.${key}.${k}`, problem);
  }
  return labels;
}

function parseRequirement(raw: unknown, path: string): LabelRequirement {
  const o = asObj(raw, path);
  refuseUnknownFields(o, ['key', 'operator', 'values'], path);
  const key = o['key'];
  if (typeof key !== 'string') throw new ConfigError(`${path}.key`, `must be a string; got ${got(key)}`);
  const keyProblem = labelKeyProblem(key);
  if (keyProblem !== undefined) throw new ConfigError(`${path}.key`, keyProblem);
  const op = o['operator'];
  if (typeof op !== 'string' || !(OPERATORS as readonly string[]).includes(op)) {
    throw new ConfigError(`${path}.operator`, `must be one of In, NotIn, Exists, DoesNotExist; got ${got(op)}`);
  }
  const operator = op as SelectorOperator;
  const rawValues = o['values'] ?? [];
  if (!Array.isArray(rawValues)) throw new ConfigError(`${path}.values`, `must be a list of strings; got ${kindOf(rawValues)}`);
  const values = rawValues.map((v: unknown, i) => {
    if (typeof v !== 'string') throw new ConfigError(`${path}.values[${String(i)}]`, `must be a string; got ${kindOf(v)}`);
    const problem = labelValueProblem(v);
    if (problem !== undefined) throw new ConfigError(`${path}.values[${String(i)}]`, problem);
    return v;
  });
  if ((operator === 'In' || operator === 'NotIn') && values.length === 0) {
    throw new ConfigError(`${path}.values`, `must be non-empty when operator is ${operator}`);
  }
  if ((operator === 'Exists' || operator === 'DoesNotExist') && values.length > 0) {
    throw new ConfigError(`${path}.values`, `must be empty when operator is ${operator}`);
  }
  return { key, operator, values };
}

/** A LabelSelector object; `null` is refused here (callers treat an absent field before calling). */
export function parseLabelSelector(raw: unknown, path: string): LabelSelector {
  const o = asObj(raw, path);
  refuseUnknownFields(o, ['matchLabels', 'matchExpressions'], path);
  const matchLabels = parseLabels(o, 'matchLabels', path);
  const rawExpr = o['matchExpressions'] ?? [];
  if (!Array.isArray(rawExpr)) throw new ConfigError(`${path}.matchExpressions`, `must be a list; got ${kindOf(rawExpr)}`);
  const matchExpressions = rawExpr.map((r: unknown, i) => parseRequirement(r, `${path}.matchExpressions[${String(i)}]`));
  return { matchLabels, matchExpressions };
}

/** Optional selector field: absent or null → undefined (the API's "not set"). */
export function optLabelSelector(o: Obj, key: string, path: string): LabelSelector | undefined {
  const v = o[key];
  return v === undefined || v === null ? undefined : parseLabelSelector(v, `${path}.${key}`);
}

function requirementMatches(r: LabelRequirement, labels: Labels): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = labels[r.key];
  switch (r.operator) {
    case 'In':
      return has && value !== undefined && r.values.includes(value);
    case 'NotIn':
      return !has || value === undefined || !r.values.includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}

export function selectorMatches(sel: LabelSelector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels)) {
    if (!Object.hasOwn(labels, k) || labels[k] !== v) return false;
  }
  return sel.matchExpressions.every((r) => requirementMatches(r, labels));
}
