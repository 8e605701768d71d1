/** Fixtures for the privileged netlink tests: the real executor and probe, this run's tag, pod specs. */
import { writeFile } from 'node:fs/promises';
import type { IfName } from '../../../src/lib/brand.js';
import { silentLogger } from '../../../src/lib/log.js';
import { createExecutor } from '../../../src/netlink/executor.js';
import { createStateProbe } from '../../../src/netlink/probe.js';
import type { NodeFacts, PodNetworkSpec } from '../../../src/modes/types.js';
import { runner, shAsync } from '../../helpers/exec.js';
import { rand } from '../../helpers/names.js';
import { netnsPath } from '../../helpers/netns.js';

export const executor = createExecutor({ runner, log: silentLogger, writeSysctl: (path, value) => writeFile(path, value) });
export const probe = createStateProbe({ runner });

export async function ping(ns: string, ip: string): Promise<string> {
  return shAsync('ip', 'netns', 'exec', ns, 'ping', '-c', '1', '-W', '3', ip);
}

export const tag = rand(6);
export const node: NodeFacts = { vethPrefix: 'hub' };

export function podSpec(netnsName: string, podName: string, podNamespace = `hubtest-${tag}`): PodNetworkSpec {
  return {
    pod: { namespace: podNamespace, name: podName },
    containerId: `c-${tag}-${podName}`,
    netns: netnsPath(netnsName),
    ifName: 'eth0' as IfName,
  };
}
