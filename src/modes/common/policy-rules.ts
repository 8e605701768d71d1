/** Terway policy-routing rules for a pod IP: `512: to IP/32 lookup main`, `2048: from IP/32 lookup <ENI table>`. */
import type { IpAddr } from '../../lib/brand.js';
import { hostCidr } from '../../lib/net.js';
import { HOST, type Op } from '../../netlink/ops.js';
import { RULE_PRIO_FROM_POD, RULE_PRIO_TO_POD, type EniFacts, type HostRuleFacts } from '../types.js';

export function podPolicyRules(ip: IpAddr, eni: EniFacts): readonly Op[] {
  return [
    { kind: 'rule.add', ns: HOST, to: hostCidr(ip), table: 'main', priority: RULE_PRIO_TO_POD },
    { kind: 'rule.add', ns: HOST, from: hostCidr(ip), table: eni.table, priority: RULE_PRIO_FROM_POD },
  ];
}

/** `default via <vSwitch gw> dev <ENI> onlink table <ENI table>`: shared by every pod on the ENI. */
export function eniTableDefaultRoute(eni: EniFacts): readonly Op[] {
  return [{ kind: 'route.replace', ns: HOST, dst: 'default', via: eni.gateway, dev: eni.link, onlink: true, table: eni.table, shared: true }];
}

/**
 * Removes both rules. A table left undefined matches the rule of that priority and selector in any table (for
 * orphans, whose mode and allocation are unknown).
 */
export function removePodPolicyRules(ip: IpAddr, fromTable: number | undefined, toTable: 'main' | undefined): readonly Op[] {
  return [
    { kind: 'rule.del', ns: HOST, to: hostCidr(ip), priority: RULE_PRIO_TO_POD, ...(toTable !== undefined ? { table: toTable } : {}) },
    { kind: 'rule.del', ns: HOST, from: hostCidr(ip), priority: RULE_PRIO_FROM_POD, ...(fromTable !== undefined ? { table: fromTable } : {}) },
  ];
}

const HOST_32 = /^(\d{1,3}(?:\.\d{1,3}){3})\/32$/u;

/**
 * The pod IP of a rule these planners make: `512: to X/32 lookup main` or `2048: from X/32 lookup <number>`;
 * undefined for any other rule.
 */
export function claimPolicyRule(rule: HostRuleFacts): IpAddr | undefined {
  const toIp = rule.to === undefined ? undefined : HOST_32.exec(rule.to)?.[1];
  const fromIp = rule.from === undefined ? undefined : HOST_32.exec(rule.from)?.[1];
  if (rule.priority === RULE_PRIO_TO_POD && toIp !== undefined && rule.from === undefined && rule.table === 'main') return toIp as IpAddr;
  if (rule.priority === RULE_PRIO_FROM_POD && fromIp !== undefined && rule.to === undefined && /^\d+$/u.test(rule.table)) return fromIp as IpAddr;
  return undefined;
}
