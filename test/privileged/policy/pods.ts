/**
 * The 3×3 "pods" of the builtin-backend packet tests: netns `nb-NS-POD` wired by hand to the suite's host netns
 * the Terway veth way (pod /32 on eth0, default via 169.254.1.1 with a permanent neighbour to the host veth's MAC,
 * host /32 routes with the node address as source), each running scripts/demo/probe-agent.ts (TCP+UDP echo servers + prober).
 */
import { sh, shTry } from '../../helpers/exec.js';
import { createNetns, type TestNetns } from '../../helpers/netns.js';

export { Agent, BUN, startAgent, type Target } from '../../../scripts/demo/agent.js';
export const NODE_IP = '192.168.77.1';
const HOST_MAC = 'ee:ee:ee:ee:ee:ee';

export interface TestPod {
  readonly namespace: string;
  readonly name: string;
  readonly ip: string;
  readonly hostVeth: string;
  readonly netns: TestNetns;
}

/** Creates netns `nb-NS-POD`, its veth pair (host side `nbvNSPOD`) and routes; the host forwards. */
export function wirePod(namespace: string, name: string, ip: string): TestPod {
  const netns = createNetns(`nb-${namespace}-${name}`);
  const hostVeth = `nbv${namespace}${name}`;
  sh('ip', ['link', 'add', hostVeth, 'address', HOST_MAC, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns.name]);
  sh('ip', ['link', 'set', hostVeth, 'up']);
  sh('ip', ['route', 'add', `${ip}/32`, 'dev', hostVeth, 'src', NODE_IP]);
  const n = (args: string[]): void => {
    sh('ip', ['-n', netns.name, ...args]);
  };
  n(['addr', 'add', `${ip}/32`, 'dev', 'eth0']);
  n(['link', 'set', 'eth0', 'up']);
  n(['route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
  n(['route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
  n(['neigh', 'add', '169.254.1.1', 'lladdr', HOST_MAC, 'dev', 'eth0', 'nud', 'permanent']);
  return { namespace, name, ip, hostVeth, netns };
}

/** The node address on lo and forwarding on, in the suite's host netns; returns the undo. */
export function prepareHost(): () => void {
  const forward = sh('sysctl', ['-n', 'net.ipv4.ip_forward']).trim();
  sh('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  sh('ip', ['addr', 'add', `${NODE_IP}/32`, 'dev', 'lo']);
  return () => {
    shTry('ip', ['addr', 'del', `${NODE_IP}/32`, 'dev', 'lo']);
    shTry('sysctl', ['-qw', `net.ipv4.ip_forward=${forward}`]);
  };
}
