/** Field and label selectors as kube-apiserver parses them (the subset the emulator needs). */
import type { KubeObject } from './object.js';
import { fieldAt } from './object.js';

export type Matcher = (obj: KubeObject) => boolean;

const matchAll: Matcher = () => true;

/** `metadata.name=x,spec.nodeName!=y` (`=`, `==`, `!=`); any dotted path is looked up on the object. */
export function parseFieldSelector(raw: string | null): Matcher {
  if (raw === null || raw.trim() === '') return matchAll;
  const terms = raw.split(',').map((term) => {
    const m = /^\s*([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*?)\s*$/.exec(term);
    if (m === null) throw new SelectorError(`invalid field selector term ${JSON.stringify(term)}`);
    const [, path = '', op, value = ''] = m;
    const negate = op === '!=';
    return (obj: KubeObject): boolean => {
      const actual = fieldAt(obj, path);
      const str = typeof actual === 'string' || typeof actual === 'number' || typeof actual === 'boolean' ? String(actual) : '';
      return negate ? str !== value : str === value;
    };
  });
  return (obj) => terms.every((t) => t(obj));
}

/** `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`, comma-joined. */
export function parseLabelSelector(raw: string | null): Matcher {
  if (raw === null || raw.trim() === '') return matchAll;
  const terms = splitTerms(raw).map(parseLabelTerm);
  return (obj) => {
    const labels = labelsOf(obj);
    return terms.every((t) => t(labels));
  };
}

export class SelectorError extends Error {}

type LabelTerm = (labels: Readonly<Record<string, string>>) => boolean;

function parseLabelTerm(term: string): LabelTerm {
  const t = term.trim();
  let m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(t);
  if (m !== null) {
    const [, key = '', op, list = ''] = m;
    const values = new Set(list.split(',').map((v) => v.trim()));
    return op === 'in'
      ? (labels) => labels[key] !== undefined && values.has(labels[key])
      : (labels) => labels[key] === undefined || !values.has(labels[key]);
  }
  m = /^([\w./-]+)\s*(==|!=|=)\s*([\w./-]*)$/.exec(t);
  if (m !== null) {
    const [, key = '', op, value = ''] = m;
    return op === '!=' ? (labels) => labels[key] !== value : (labels) => labels[key] === value;
  }
  m = /^!\s*([\w./-]+)$/.exec(t);
  if (m !== null) {
    const key = m[1] ?? '';
    return (labels) => labels[key] === undefined;
  }
  m = /^([\w./-]+)$/.exec(t);
  if (m !== null) {
    const key = m[1] ?? '';
    return (labels) => labels[key] !== undefined;
  }
  throw new SelectorError(`invalid label selector term ${JSON.stringify(term)}`);
}

function splitTerms(raw: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of raw) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.filter((s) => s.trim() !== '');
}

function labelsOf(obj: KubeObject): Record<string, string> {
  const labels = fieldAt(obj, 'metadata.labels');
  const out: Record<string, string> = {};
  if (typeof labels === 'object' && labels !== null) {
    for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') out[k] = v;
  }
  return out;
}
