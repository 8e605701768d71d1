/**
 * Conntrack cut on tightening (R22, implementation-defined; we cut): parse `conntrack -L` text and pick the flows
 * the current model denies, judged by the evaluator (the same semantics the compiled rules implement). The real
 * destination is the reply tuple's source (after Service DNAT). Pure.
 */
import { createEvaluator } from '../model/decide.js';
import type { PolicyModel, Protocol } from '../model/types.js';

export interface CtFlow {
  readonly protocol: Protocol;
  /** Original direction tuple, as `conntrack -D` needs it. */
  readonly src: string;
  readonly dst: string;
  readonly sport: number;
  readonly dport: number;
  /** Where the connection really goes (reply tuple source and source port). */
  readonly realDst: string;
  readonly realDport: number;
}

const PROTO: Readonly<Record<string, Protocol>> = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' };

/**
 * TCP states whose packets no longer pass as one established flow (a new SYN starts a new entry, which meets the
 * rules): nothing to cut there.
 */
const OVER = new Set(['TIME_WAIT', 'CLOSE']);

/**
 * One flow per `conntrack -L` entry of TCP/UDP/SCTP that the rules' `ct state established` would let through
 * (repeated lines once). Skipped: icmp, the summary, `[UNREPLIED]` entries (their packets are still `new` and meet
 * the rules: a denied probe leaves one per attempt) and TCP entries in TIME_WAIT or CLOSE. `conntrack -D` costs a
 * dump of the whole table per entry, so every entry not cut matters (2,000 cost 56 s here).
 */
export function parseConntrack(text: string): CtFlow[] {
  const out: CtFlow[] = [];
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/u);
    const protocol = PROTO[words[0] ?? ''];
    if (protocol === undefined || words.includes('[UNREPLIED]') || (protocol === 'TCP' && OVER.has(words[3] ?? ''))) continue;
    const vals = (key: string): string[] => words.filter((w) => w.startsWith(`${key}=`)).map((w) => w.slice(key.length + 1));
    const [src, realDst] = vals('src');
    const [dst] = vals('dst');
    const [sport, realSport] = vals('sport');
    const [dport] = vals('dport');
    if (src === undefined || dst === undefined || sport === undefined || dport === undefined) continue;
    const key = `${protocol} ${src} ${dst} ${sport} ${dport}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ protocol, src, dst, sport: Number(sport), dport: Number(dport), realDst: realDst ?? dst, realDport: Number(realSport ?? dport) });
  }
  return out;
}

/** Flows touching one of `addresses` (the scope's pods) that the model now denies. */
export function deniedFlows(model: PolicyModel, flows: readonly CtFlow[], addresses: ReadonlySet<string>): CtFlow[] {
  const evaluator = createEvaluator(model);
  return flows.filter((f) => {
    if (!addresses.has(f.src) && !addresses.has(f.realDst)) return false;
    try {
      return !evaluator.decide({ ip: f.src }, { ip: f.realDst }, f.realDport, f.protocol).allowed;
    } catch {
      return false; // not judgeable (mixed families, bad port): leave it
    }
  });
}

/** `conntrack -D` arguments deleting exactly this flow. */
export function deleteArgs(f: CtFlow, withSport = true): string[] {
  return ['-D', '-p', f.protocol.toLowerCase(), '-s', f.src, '-d', f.dst, ...(withSport ? ['--sport', String(f.sport)] : []), '--dport', String(f.dport)];
}

const natted = (f: CtFlow): boolean => f.realDst !== f.dst || f.realDport !== f.dport;
const groupKey = (f: CtFlow): string => `${f.protocol} ${f.src} ${f.dst} ${String(f.dport)}`;

/**
 * The `conntrack -D` lines deleting `denied` (out of `listed`, every flow of the listing). Each line costs a dump of
 * the whole table, so flows without NAT share one line per protocol, source, destination and port (no `--sport`):
 * the evaluator's verdict depends on nothing else, so every such flow is denied alike. A group any NAT'ed flow of
 * the listing shares (its real destination may be judged otherwise) is deleted flow by flow.
 */
export function deleteLines(denied: readonly CtFlow[], listed: readonly CtFlow[]): string[][] {
  const mixed = new Set(listed.filter(natted).map(groupKey));
  const grouped = new Set<string>();
  const out: string[][] = [];
  for (const f of denied) {
    const key = groupKey(f);
    if (natted(f) || mixed.has(key)) out.push(deleteArgs(f));
    else if (!grouped.has(key)) {
      grouped.add(key);
      out.push(deleteArgs(f, false)); // every flow of the group: no --sport
    }
  }
  return out;
}
