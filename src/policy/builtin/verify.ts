/**
 * `terway-hub policy verify`, the comparison (pure): what a scope's table holds now (nft -j read back) against what
 * applying the live model's compilation programmed, naming every drift — a missing or extra table, chain or set, a
 * rule count, a set's element count, rule comments that differ.
 */
import type { ProgrammedTable } from './apply.js';

export function tableDrift(scope: string, expected: ProgrammedTable | undefined, actual: ProgrammedTable | undefined): readonly string[] {
  if (expected === undefined && actual === undefined) return [];
  if (expected === undefined) return [`${scope}: extra table ${actual?.table ?? '?'} (the model programs none here)`];
  if (actual === undefined) return [`${scope}: missing table ${expected.table}`];
  const out: string[] = [];
  for (const c of expected.chains.filter((c) => !actual.chains.includes(c))) out.push(`${scope}: missing chain ${c}`);
  for (const c of actual.chains.filter((c) => !expected.chains.includes(c))) out.push(`${scope}: extra chain ${c}`);
  if (expected.rules !== actual.rules) out.push(`${scope}: ${String(actual.rules)} rules, the model gives ${String(expected.rules)}`);
  for (const [name, n] of Object.entries(expected.sets)) {
    const got = actual.sets[name];
    if (got === undefined) out.push(`${scope}: missing set ${name}`);
    else if (got !== n) out.push(`${scope}: set ${name} holds ${String(got)} elements, the model gives ${String(n)}`);
  }
  for (const name of Object.keys(actual.sets).filter((s) => !(s in expected.sets))) out.push(`${scope}: extra set ${name}`);
  if (expected.rules === actual.rules && expected.comments.join('\n') !== actual.comments.join('\n')) out.push(`${scope}: rule comments differ from the model's (rules replaced or reordered)`);
  return out;
}
