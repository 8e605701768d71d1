/**
 * Pure: a Decision as text for people, in the shape of policy-assistant's walkthrough: the verdict first, then per
 * direction (egress of the source, ingress of the destination) the policies that isolate that end, the rule that
 * admitted the connection or the default deny, and each rule that did not match with the clause that failed.
 */
import type { Decision, PolicyRef, Verdict } from '../model/decision.js';

const ref = (p: PolicyRef): string => `${p.namespace}/${p.name}`;

function why(v: Verdict): string {
  switch (v.reason) {
    case 'not-a-pod':
      return `allowed: ${v.subject} is not a pod of the model (NetworkPolicy does not apply)`;
    case 'host-network':
      return `allowed: ${v.subject} uses the host network (never isolated)`;
    case 'not-isolated':
      return `allowed: no NetworkPolicy selects ${v.subject} for ${v.direction}`;
    case 'same-pod':
      return 'allowed: a pod always reaches itself';
    case 'from-own-node':
      return `allowed: traffic from the node ${v.subject} runs on is always allowed (kubelet probes)`;
    case 'allowed-by-policy':
      return 'allowed';
    case 'no-rule-admits':
      return 'DENIED: no rule of an isolating policy admits it';
  }
}

function clause(index: number | undefined, list: 'from' | 'to' | 'ports'): string {
  return index === undefined ? `any ${list === 'ports' ? 'port' : 'peer'}` : `${list}[${String(index)}]`;
}

function direction(v: Verdict): string[] {
  const peerList = v.direction === 'ingress' ? 'from' : 'to';
  const lines = [`${v.direction} of ${v.subject}: ${why(v)}`];
  if (v.isolatedBy.length > 0) lines.push(`  isolated by: ${v.isolatedBy.map(ref).join(', ')}`);
  for (const h of v.hits) {
    if (h.kind === 'EndOfTier') lines.push(`  default deny (end of policies; trigger ${ref(h.policy)})`);
    else lines.push(`  admitted by ${ref(h.policy)} ${h.rule} (${clause(h.peerIndex, peerList)}, ${clause(h.portIndex, 'ports')})`);
  }
  for (const m of v.misses) lines.push(`  no match: ${ref(m.policy)} ${m.rule}: ${m.failed} did not match`);
  const withRules = new Set([...v.hits.filter((h) => h.kind !== 'EndOfTier').map((h) => ref(h.policy)), ...v.misses.map((m) => ref(m.policy))]);
  if (v.reason === 'allowed-by-policy' || v.reason === 'no-rule-admits') {
    for (const p of v.isolatedBy) if (!withRules.has(ref(p))) lines.push(`  no match: ${ref(p)} has no ${v.direction} rules (isolates only)`);
  }
  return lines;
}

export function formatDecision(d: Decision): string {
  const head = `${d.src} -> ${d.dst} ${String(d.port)}/${d.protocol} (IPv${String(d.family)}): ${d.allowed ? 'ALLOWED' : 'DENIED'}`;
  return `${[head, ...direction(d.egress), ...direction(d.ingress)].join('\n')}\n`;
}
