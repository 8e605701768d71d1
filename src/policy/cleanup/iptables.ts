/**
 * A backend's iptables residue, from one `iptables-save` dump to one `iptables-restore --noflush` script. Pure.
 *
 * Removed: every chain whose name starts with a residue prefix (flushed, then deleted, so chains that jump to each
 * other go too), and in the other chains every rule that jumps/goes to such a chain, carries a residue comment
 * prefix, or matches a residue ipset (so the sets can be destroyed afterwards). Nothing else is touched: the hub's
 * own chains, kube-proxy's and the admin's stay as they are. One restore per dump is atomic per table.
 */

export interface IptablesResidueSpec {
  readonly tables: readonly string[];
  readonly chainPrefixes: readonly string[];
  readonly ruleCommentPrefixes: readonly string[];
  readonly ipsetPrefixes: readonly string[];
}

export interface IptablesCleanup {
  /** The restore script (`*table … COMMIT` per table with residue); undefined when there is none. */
  readonly script: string | undefined;
  /** `table/chain` of every residue chain found, and `table: rule` of every rule deleted from another chain. */
  readonly removed: readonly string[];
  /** Whether residue chains exist in the filter table (the FORWARD policy was then the backend's to set). */
  readonly filterChains: boolean;
}

interface TableDump {
  readonly name: string;
  readonly chains: string[];
  readonly rules: { readonly chain: string; readonly line: string }[];
}

function parseSave(text: string): readonly TableDump[] {
  const tables: TableDump[] = [];
  let cur: TableDump | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line.startsWith('*')) {
      cur = { name: line.slice(1), chains: [], rules: [] };
      tables.push(cur);
    } else if (cur !== undefined && line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0];
      if (name !== undefined && name !== '') cur.chains.push(name);
    } else if (cur !== undefined && line.startsWith('-A ')) {
      const chain = line.split(' ')[1];
      if (chain !== undefined) cur.rules.push({ chain, line });
    } else if (line === 'COMMIT') {
      cur = undefined;
    }
  }
  return tables;
}

/** The values following `flag` in a saved rule (quoted values unquoted; iptables-save quotes with "…"). */
function flagValues(line: string, flag: string): readonly string[] {
  const out: string[] = [];
  const re = new RegExp(`(?:^| )${flag} ("(?:[^"\\\\]|\\\\.)*"|\\S+)`, 'gu');
  for (const m of line.matchAll(re)) {
    const v = m[1] ?? '';
    out.push(v.startsWith('"') ? v.slice(1, -1).replace(/\\(.)/gu, '$1') : v);
  }
  return out;
}

const startsWithAny = (s: string, prefixes: readonly string[]): boolean => prefixes.some((p) => s.startsWith(p));

function isResidueRule(line: string, spec: IptablesResidueSpec): boolean {
  const targets = [...flagValues(line, '-j'), ...flagValues(line, '-g')];
  return (
    targets.some((t) => startsWithAny(t, spec.chainPrefixes)) ||
    flagValues(line, '--comment').some((c) => startsWithAny(c, spec.ruleCommentPrefixes)) ||
    flagValues(line, '--match-set').some((s) => startsWithAny(s, spec.ipsetPrefixes))
  );
}

export function planIptablesCleanup(saveText: string, spec: IptablesResidueSpec): IptablesCleanup {
  const parts: string[] = [];
  const removed: string[] = [];
  let filterChains = false;
  for (const t of parseSave(saveText)) {
    if (!spec.tables.includes(t.name)) continue;
    const chains = t.chains.filter((c) => startsWithAny(c, spec.chainPrefixes));
    const rules = t.rules.filter((r) => !chains.includes(r.chain) && isResidueRule(r.line, spec));
    if (chains.length === 0 && rules.length === 0) continue;
    if (t.name === 'filter' && chains.length > 0) filterChains = true;
    removed.push(...chains.map((c) => `${t.name}/${c}`), ...rules.map((r) => `${t.name}: ${r.line}`));
    parts.push(
      `*${t.name}`,
      ...rules.map((r) => `-D ${r.line.slice('-A '.length)}`),
      ...chains.map((c) => `-F ${c}`),
      ...chains.map((c) => `-X ${c}`),
      'COMMIT',
    );
  }
  return { script: parts.length === 0 ? undefined : `${parts.join('\n')}\n`, removed, filterChains };
}
