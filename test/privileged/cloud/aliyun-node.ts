/**
 * An emulated Aliyun node for the privileged daemon suites: the ECS OpenAPI + metadata emulator on loopback (its host
 * hook makes a host link per attached ENI, reaching its vSwitch netns gateway), a host link standing in for the
 * primary ENI (its MAC from the emulator), STS credentials in a mounted credentials file (AccessKeyId, secret and
 * SecurityToken: every secret kind the daemon must never print), and the daemon config selecting the provider.
 * The emulator lives in the test process: plugin calls go through callPluginAsync (a blocking call would stall it).
 */
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { EcsEmulator, netnsHostLinks } from '../../ecs-emulator/index.js';
import type { NetnsHostLinks } from '../../ecs-emulator/host-links.js';
import { callPluginAsync, pluginStdin, type RunningDaemon } from '../../helpers/hub.js';
import { runner, sh, shTry } from '../../helpers/exec.js';
import { tempDir } from '../../helpers/tmp.js';
import { createNetns, type TestNetns } from '../../helpers/netns.js';

export const POD_VSWITCH = 'vsw-node0000000000000002';

const fast = (initial: string, duration: string, steps: number) => ({ InitialDelay: initial, Duration: duration, Factor: 1.5, Jitter: 0.2, Steps: steps });
export const FAST_BACKOFF = {
  '': fast('0ms', '100ms', 6),
  eni_create: fast('0ms', '200ms', 4),
  eni_ops: fast('0ms', '100ms', 6),
  eni_release: fast('0ms', '100ms', 8),
  eni_ip_ops: fast('0ms', '100ms', 6),
  wait_eni_status: fast('50ms', '100ms', 15),
  eni_delete_confirm: fast('50ms', '100ms', 10),
  meta_assign_private_ip: fast('0ms', '100ms', 20),
  meta_unassign_private_ip: fast('0ms', '100ms', 20),
};

export interface Secrets {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken: string;
}

export interface AliyunNode {
  readonly emu: EcsEmulator;
  readonly links: NetnsHostLinks;
  readonly primaryLink: string;
  readonly credentialPath: string;
  /** Every secret value the daemon was ever given (grows with `writeCredentials`). */
  readonly secrets: string[];
  writeCredentials(c: Secrets): void;
  /** The daemon config's `cloud` section (and friends) for startDaemon's `extra`. */
  daemonExtra(mode: string, pool: Record<string, unknown>): Record<string, unknown>;
  cleanup(): Promise<void>;
}

export function newSecrets(): Secrets {
  return { accessKeyId: `STS.${randomBytes(9).toString('hex')}`, accessKeySecret: randomBytes(18).toString('base64url'), securityToken: `CAIS${randomBytes(30).toString('base64url')}` };
}

export async function startAliyunNode(prefix: string): Promise<AliyunNode> {
  const emu = await EcsEmulator.start({ instanceType: 'ecs.g6.xlarge' });
  const links = netnsHostLinks(prefix);
  emu.state.hook = links;
  const primary = emu.state.enis.get(emu.node.primaryEniId);
  const primaryLink = `${prefix}pr`;
  // a veth end (no dummy driver everywhere) with the primary ENI's MAC; its peer stays unused on the host
  sh('ip', ['link', 'add', primaryLink, 'address', primary?.mac ?? '', 'type', 'veth', 'peer', 'name', `${prefix}pq`]);
  sh('ip', ['link', 'set', primaryLink, 'up']);
  const dir = tempDir('ad-creds-');
  const credentialPath = join(dir, 'credentials.json');
  const secrets: string[] = [];
  const writeCredentials = (c: Secrets): void => {
    secrets.push(c.accessKeyId, c.accessKeySecret, c.securityToken);
    writeFileSync(credentialPath, JSON.stringify({ AccessKeyId: c.accessKeyId, AccessKeySecret: c.accessKeySecret, SecurityToken: c.securityToken, Expiration: new Date(Date.now() + 3600_000).toISOString() }));
  };
  const first = newSecrets();
  emu.api.addAccessKey({ id: first.accessKeyId, secret: first.accessKeySecret, securityToken: first.securityToken });
  writeCredentials(first);
  return {
    emu,
    links,
    primaryLink,
    credentialPath,
    secrets,
    writeCredentials,
    daemonExtra: (mode, pool) => ({
      mode,
      httpListen: '127.0.0.1:0',
      cloud: {
        provider: 'aliyun',
        metadataEndpoint: emu.metadata.url,
        ecsEndpoint: emu.api.endpoint,
        protocol: 'http',
        readTimeoutMs: 1500,
        eniConf: {
          version: '1',
          vswitches: { [emu.node.zoneId]: [POD_VSWITCH] },
          security_groups: ['sg-emulated0001'],
          credential_path: credentialPath,
          service_cidr: '10.96.0.0/16',
          // quicker retries and waits than Terway's seconds: the suites run in seconds
          backoff_override: FAST_BACKOFF,
        },
      },
      pool,
    }),
    cleanup: async () => {
      shTry('ip', ['link', 'del', primaryLink]);
      await links.cleanup();
      await emu.close();
    },
  };
}

export interface Pod {
  readonly ns: TestNetns;
  readonly name: string;
  readonly containerId: string;
  ip: string;
  result: Record<string, unknown>;
}

export function newPod(prefix: string, n: string): Pod {
  return { ns: createNetns(`${prefix}${n}`), name: `pod-${n}-${prefix}`, containerId: `ctr${n}${prefix}`, ip: '', result: {} };
}

const cniArgs = (p: Pod): string => `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${p.name};K8S_POD_INFRA_CONTAINER_ID=${p.containerId}`;

export async function addPod(daemon: RunningDaemon, p: Pod) {
  const r = await callPluginAsync({ command: 'ADD', containerId: p.containerId, netns: p.ns.path, ifName: 'eth0', args: cniArgs(p) }, pluginStdin(daemon.conflist()));
  if (r.code === 0) {
    p.result = r.json as Record<string, unknown>;
    p.ip = ((p.result.ips as { address: string }[] | undefined)?.[0]?.address ?? '').split('/')[0] ?? '';
  }
  return r;
}

export function delPod(daemon: RunningDaemon, p: Pod) {
  return callPluginAsync({ command: 'DEL', containerId: p.containerId, netns: p.ns.path, ifName: 'eth0', args: cniArgs(p) }, pluginStdin(daemon.conflist(), { prevResult: p.result }));
}

/** Ping from the pod without blocking the event loop (the emulator serves the daemon meanwhile). */
export async function pingFrom(p: Pod, ip: string): Promise<number> {
  const r = await runner.run({ file: 'ip', args: ['netns', 'exec', p.ns.name, 'ping', '-c', '1', '-W', '2', ip] });
  return r.exitCode;
}

/** The daemon's /metrics text (its http listener logged as `http serving`). */
export async function metricsOf(daemon: RunningDaemon): Promise<string> {
  // the last one: a restarted daemon listens on a new port
  const m = /"address":"([^"]+)"/u.exec(daemon.logs().split('\n').filter((l) => l.includes('http serving')).pop() ?? '');
  if (m === null) throw new Error('no http address in the daemon log');
  return (await fetch(`http://${m[1] ?? ''}/metrics`)).text();
}
