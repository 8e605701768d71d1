/**
 * `nft -j list table` output → a canonical summary of the table's content (pure): each chain's declaration and its
 * rules in order as canonical text with their comments, each set's and map's declaration and its elements (sorted),
 * any other object by kind and name. Handles and the listing's metainfo are left out, so the same ruleset applied
 * twice reads back equal and a hand edit that keeps counts and comments (a port replaced in a rule, one set element
 * deleted or swapped) reads back different. The text is terse and readable, not nft syntax (`ip saddr == @s`), and
 * falls back to key-sorted JSON-like text for shapes it does not know, so no content is ever dropped.
 */
import { isObj } from '../../config/fields.js';

export interface ProgrammedRule {
  /** The rule's expressions as canonical text. */
  readonly text: string;
  readonly comment: string | undefined;
}

export interface ProgrammedChain {
  /** `type filter hook forward prio -1 policy accept` for base chains, '' for regular ones. */
  readonly decl: string;
  readonly rules: readonly ProgrammedRule[];
}

export interface ProgrammedSet {
  /** `set type ipv4_addr flags interval`, `map type ifname : verdict`. */
  readonly decl: string;
  /** Canonical element text (`10.0.0.0/24`, `tcp . 80`, `"veth-xa" : jump pod0_in` for maps), sorted. */
  readonly elements: readonly string[];
}

export interface ProgrammedTable {
  readonly table: string;
  readonly chains: Readonly<Record<string, ProgrammedChain>>;
  /** Sets and maps by name. */
  readonly sets: Readonly<Record<string, ProgrammedSet>>;
  /** Every other named object (`counter c1`, `flowtable f`), sorted. */
  readonly others: readonly string[];
  /** Rules in all chains. */
  readonly rules: number;
}

const VERDICTS = new Set(['accept', 'drop', 'continue', 'return']);

function keysAre(o: Record<string, unknown>, ...keys: string[]): boolean {
  const have = Object.keys(o);
  return have.length === keys.length && keys.every((k) => k in o);
}

/** Canonical text of one value of an nft JSON expression. */
export function valueText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `{ ${v.map(valueText).join(', ')} }`;
  if (!isObj(v)) return JSON.stringify(v);
  const keys = Object.keys(v);
  const [k] = keys;
  if (keys.length === 1 && k !== undefined) {
    const x = v[k];
    if (VERDICTS.has(k) && x === null) return k;
    if ((k === 'jump' || k === 'goto') && isObj(x) && keysAre(x, 'target')) return `${k} ${valueText(x['target'])}`;
    if (k === 'concat' && Array.isArray(x)) return x.map(valueText).join(' . ');
    if (k === 'set' && Array.isArray(x)) return `{ ${x.map(elementText).sort().join(', ')} }`; // unordered; nft lists its own order
    if (k === 'set') return `{ ${valueText(x)} }`;
    if (k === 'range' && Array.isArray(x) && x.length === 2) return `${valueText(x[0])}-${valueText(x[1])}`;
    if (k === 'prefix' && isObj(x) && keysAre(x, 'addr', 'len')) return `${valueText(x['addr'])}/${valueText(x['len'])}`;
    if (k === 'payload' && isObj(x) && keysAre(x, 'protocol', 'field')) return `${valueText(x['protocol'])} ${valueText(x['field'])}`;
    if ((k === 'meta' || k === 'ct') && isObj(x) && keysAre(x, 'key')) return `${k} ${valueText(x['key'])}`;
    if (k === 'match' && isObj(x) && keysAre(x, 'op', 'left', 'right')) return `${valueText(x['left'])} ${valueText(x['op'])} ${valueText(x['right'])}`;
    if (k === 'vmap' && isObj(x) && keysAre(x, 'key', 'data')) return `${valueText(x['key'])} vmap ${valueText(x['data'])}`;
    return `${k}(${isObj(x) ? pairs(x) : valueText(x)})`;
  }
  return `(${pairs(v)})`;
}

/** `a=1 b=x`, keys sorted: the fallback for shapes valueText does not know. */
function pairs(o: Record<string, unknown>): string {
  return Object.keys(o).sort().map((key) => `${key}=${valueText(o[key])}`).join(' ');
}

/** A set element; a map element is a `[key, data]` pair. */
function elementText(e: unknown): string {
  return Array.isArray(e) && e.length === 2 ? `${valueText(e[0])} : ${valueText(e[1])}` : valueText(e);
}

function chainDecl(c: Record<string, unknown>): string {
  if (c['hook'] === undefined) return '';
  return ['type', 'hook', 'prio', 'policy', 'dev'].filter((k) => c[k] !== undefined).map((k) => `${k} ${valueText(c[k])}`).join(' ');
}

function setDecl(kind: 'set' | 'map', s: Record<string, unknown>): string {
  const type = Array.isArray(s['type']) ? s['type'].map(valueText).join(' . ') : valueText(s['type']);
  const parts = [`${kind} type ${type}${kind === 'map' ? ` : ${valueText(s['map'])}` : ''}`];
  for (const k of ['policy', 'flags', 'timeout', 'size']) if (s[k] !== undefined) parts.push(`${k} ${valueText(s[k])}`);
  return parts.join(' ');
}

/** The summary of `nft -j list table` output; undefined when the JSON has no such table. */
export function summarizeListing(json: unknown, table: string): ProgrammedTable | undefined {
  const items = isObj(json) && Array.isArray(json['nftables']) ? (json['nftables'] as unknown[]) : [];
  const chains: Record<string, { decl: string; rules: ProgrammedRule[] }> = {};
  const sets: Record<string, ProgrammedSet> = {};
  const others: string[] = [];
  const chainOf = (name: string): { decl: string; rules: ProgrammedRule[] } => (chains[name] ??= { decl: '', rules: [] });
  let rules = 0;
  let found = false;
  for (const item of items) {
    if (!isObj(item)) continue;
    for (const [kind, body] of Object.entries(item)) {
      if (kind === 'metainfo' || !isObj(body)) continue;
      const name = typeof body['name'] === 'string' ? body['name'] : '';
      if (kind === 'table') found = true;
      else if (kind === 'chain') chainOf(name).decl = chainDecl(body);
      else if (kind === 'set' || kind === 'map') sets[name] = { decl: setDecl(kind, body), elements: (Array.isArray(body['elem']) ? body['elem'].map(elementText) : []).sort() };
      else if (kind === 'rule') {
        rules++;
        const expr = Array.isArray(body['expr']) ? body['expr'] : [];
        chainOf(typeof body['chain'] === 'string' ? body['chain'] : '').rules.push({ text: expr.map(valueText).join(' '), comment: typeof body['comment'] === 'string' ? body['comment'] : undefined });
      } else others.push(`${kind} ${name}`);
    }
  }
  return found ? { table, chains, sets, others: others.sort(), rules } : undefined;
}
