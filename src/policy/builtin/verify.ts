/**
 * `terway-hub policy verify`, the comparison (pure): what a scope's table holds now (nft -j read back, canonical:
 * listing.ts) against what applying the live model's compilation programmed (the same read back right after the
 * apply; the enforcer checks separately that the model still compiles to the script it applied). Content, not
 * counts: every chain's declaration and its rules in order (text and comment), every set's declaration and its
 * elements, other objects. Each drift is named: the chain and rule (index and comment) with both texts, or the set
 * and the elements it lacks or has in excess.
 */
import type { ProgrammedChain, ProgrammedRule, ProgrammedSet, ProgrammedTable } from './listing.js';

/** At most this many elements are named per set and direction; the rest are counted. */
const MAX_NAMED = 5;

const ruleName = (chain: string, i: number, r: ProgrammedRule): string => `chain ${chain} rule ${String(i)}${r.comment === undefined ? '' : ` ("${r.comment}")`}`;
const ruleLine = (r: ProgrammedRule): string => `${r.text}${r.comment === undefined ? '' : ` # ${r.comment}`}`;

function named(list: readonly string[]): string {
  const shown = list.slice(0, MAX_NAMED).join(', ');
  return list.length > MAX_NAMED ? `${shown} and ${String(list.length - MAX_NAMED)} more` : shown;
}

/** Elements of `a` not in `b` (multiset). */
function minus(a: readonly string[], b: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const x of b) left.set(x, (left.get(x) ?? 0) + 1);
  return a.filter((x) => {
    const n = left.get(x) ?? 0;
    if (n === 0) return true;
    left.set(x, n - 1);
    return false;
  });
}

function chainDrift(scope: string, name: string, expected: ProgrammedChain, actual: ProgrammedChain): string[] {
  const out: string[] = [];
  if (expected.decl !== actual.decl) out.push(`${scope}: chain ${name} is "${actual.decl}", the model gives "${expected.decl}"`);
  const [e, a] = [expected.rules, actual.rules];
  if (e.length === a.length) {
    e.forEach((r, i) => {
      const got = a[i];
      if (got !== undefined && ruleLine(got) !== ruleLine(r)) out.push(`${scope}: ${ruleName(name, i, r)} is \`${ruleLine(got)}\`, the model gives \`${ruleLine(r)}\``);
    });
    return out;
  }
  out.push(`${scope}: chain ${name} has ${String(a.length)} rules, the model gives ${String(e.length)}`);
  const [lines, want] = [a.map(ruleLine), e.map(ruleLine)];
  for (const extra of minus(lines, want)) out.push(`${scope}: chain ${name} has a rule the model does not give: \`${extra}\``);
  for (const missing of minus(want, lines)) out.push(`${scope}: chain ${name} lacks the model's rule \`${missing}\``);
  return out;
}

function setDrift(scope: string, name: string, expected: ProgrammedSet, actual: ProgrammedSet): string[] {
  const out: string[] = [];
  if (expected.decl !== actual.decl) out.push(`${scope}: set ${name} is "${actual.decl}", the model gives "${expected.decl}"`);
  if (expected.elements.length !== actual.elements.length) out.push(`${scope}: set ${name} holds ${String(actual.elements.length)} elements, the model gives ${String(expected.elements.length)}`);
  const lacks = minus(expected.elements, actual.elements);
  const extra = minus(actual.elements, expected.elements);
  if (lacks.length > 0) out.push(`${scope}: set ${name} lacks ${named(lacks)}`);
  if (extra.length > 0) out.push(`${scope}: set ${name} holds ${named(extra)}, which the model does not give`);
  return out;
}

/** Named things in both, with what is only on one side reported as missing or extra. */
function compareNamed<T>(scope: string, what: string, expected: Readonly<Record<string, T>>, actual: Readonly<Record<string, T>>, diff: (name: string, e: T, a: T) => string[]): string[] {
  const out: string[] = [];
  for (const [name, e] of Object.entries(expected)) {
    const a = actual[name];
    out.push(...(a === undefined ? [`${scope}: missing ${what} ${name}`] : diff(name, e, a)));
  }
  for (const name of Object.keys(actual).filter((n) => !(n in expected))) out.push(`${scope}: extra ${what} ${name}`);
  return out;
}

export function tableDrift(scope: string, expected: ProgrammedTable | undefined, actual: ProgrammedTable | undefined): readonly string[] {
  if (expected === undefined && actual === undefined) return [];
  if (expected === undefined) return [`${scope}: extra table ${actual?.table ?? '?'} (the model programs none here)`];
  if (actual === undefined) return [`${scope}: missing table ${expected.table}`];
  return [
    ...compareNamed(scope, 'chain', expected.chains, actual.chains, (n, e, a) => chainDrift(scope, n, e, a)),
    ...compareNamed(scope, 'set', expected.sets, actual.sets, (n, e, a) => setDrift(scope, n, e, a)),
    ...minus(actual.others, expected.others).map((o) => `${scope}: extra ${o}`),
    ...minus(expected.others, actual.others).map((o) => `${scope}: missing ${o}`),
  ];
}
