/**
 * One validator per concept: what the daemon accepts in its config, the plugin accepts in the conflist the daemon
 * writes (and both refuse the same values).
 */
import { describe, expect, it } from '@jest/globals';
import { parseCniRequest, type Env } from '../../../src/cni/args.js';
import { CniError } from '../../../src/cni/errors.js';
import { parseDaemonConfig } from '../../../src/config/daemon-config.js';
import { ConfigError } from '../../../src/lib/errors.js';
import { containerIdProblem, podIdentityProblem, vethPrefixProblem } from '../../../src/lib/validate/names.js';
import { socketPathProblem } from '../../../src/lib/validate/paths.js';
import { parseAllocateRequest } from '../../../src/rpc/messages.js';
import { planConflist } from '../../../src/templates/chain-plan.js';
import { renderConflist } from '../../../src/templates/render.js';

const vpc = { vpc: { podCIDR: '10.244.1.0/24' } };
const addEnv: Env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c0ffee', CNI_NETNS: '/var/run/netns/p1', CNI_IFNAME: 'eth0' };

function daemonAccepts(raw: Record<string, unknown>): boolean {
  try {
    parseDaemonConfig({ ...vpc, ...raw });
    return true;
  } catch (e) {
    if (e instanceof ConfigError) return false;
    throw e;
  }
}

function pluginAccepts(plugin: Record<string, unknown>): boolean {
  try {
    parseCniRequest(addEnv, JSON.stringify({ cniVersion: '1.0.0', name: 'terway-hub', type: 'terway-hub', ...plugin }));
    return true;
  } catch (e) {
    if (e instanceof CniError) return false;
    throw e;
  }
}

/** The stdin libcni derives from the daemon's conflist: the plugin entry plus cniVersion and name. */
function stdinFromDaemonConfig(raw: Record<string, unknown>): string {
  const cfg = parseDaemonConfig({ ...vpc, ...raw });
  const conflist = JSON.parse(
    renderConflist(planConflist(cfg, { items: [] }, new Map()).context),
  ) as { cniVersion: string; name: string; plugins: Record<string, unknown>[] };
  return JSON.stringify({ cniVersion: conflist.cniVersion, name: conflist.name, ...conflist.plugins[0] });
}

const PREFIX_SAMPLES = ['cali', 'eni0', 'vi', 'v', 'a1', 'z9z9', 'veth', 'eni', 'ab12', '', '0abc', 'Cali', 'calico', 'eni_', 'ca-l', 'cal ', 'é', 'eth\ufffd', 'x'.repeat(5)];

describe('vethPrefix: one rule on both sides', () => {
  it.each(PREFIX_SAMPLES)('daemon and plugin agree on %j', (prefix) => {
    const daemon = daemonAccepts({ vethPrefix: prefix });
    expect(pluginAccepts({ vethPrefix: prefix })).toBe(daemon);
    expect(vethPrefixProblem(prefix) === undefined).toBe(daemon);
  });

  it('accepts digits after the first letter on both sides (eni0), and every accepted prefix fits IFNAMSIZ', () => {
    expect(daemonAccepts({ vethPrefix: 'eni0' })).toBe(true);
    for (const p of PREFIX_SAMPLES.filter((x) => vethPrefixProblem(x) === undefined)) expect(p.length + 11).toBeLessThanOrEqual(15);
  });

  it('round-trips: a daemon configured with eni0 writes a conflist whose ADD parses with vethPrefix eni0', () => {
    const req = parseCniRequest(addEnv, stdinFromDaemonConfig({ vethPrefix: 'eni0' }));
    expect(req.command).toBe('ADD');
    expect('config' in req ? req.config.vethPrefix : undefined).toBe('eni0');
    const del = parseCniRequest({ ...addEnv, CNI_COMMAND: 'DEL' }, stdinFromDaemonConfig({ vethPrefix: 'eni0' }));
    expect('config' in del ? del.config.vethPrefix : undefined).toBe('eni0');
  });
});

describe('other shared concepts', () => {
  it.each(['/var/run/terway-hub/daemon.sock', `/${'s'.repeat(106)}`, `/${'s'.repeat(107)}`, 'daemon.sock', '/a\0b'])('socket %j: daemon and plugin agree', (socket) => {
    const daemon = daemonAccepts({ socket });
    expect(pluginAccepts({ socket })).toBe(daemon);
    expect(socketPathProblem(socket) === undefined).toBe(daemon);
  });

  it.each(['terway-hub', 'a.b_c-1', 'a b', '-x', ''])('network name %j: daemon and plugin agree', (networkName) => {
    const daemon = daemonAccepts({ networkName });
    expect(pluginAccepts({ name: networkName })).toBe(daemon && networkName !== '');
  });

  it('the plugin (CNI_ARGS) and the daemon (Allocate) apply one pod identity rule', () => {
    const allocate = (podNamespace: string, podName: string): boolean => {
      try {
        parseAllocateRequest({ containerId: 'c', ifName: 'eth0', netns: '/var/run/netns/p', podNamespace, podName, infraContainerId: '' });
        return true;
      } catch {
        return false;
      }
    };
    for (const [ns, name] of [['default', 'web-0'], ['', ''], ['kube-system', 'a.b'], ['Default', 'web'], ['default', 'web/x'], ['a'.repeat(64), 'p'], ['ns', 'p'.repeat(254)]] as const) {
      const args = `K8S_POD_NAMESPACE=${ns};K8S_POD_NAME=${name}`;
      let plugin = true;
      try {
        parseCniRequest({ ...addEnv, CNI_ARGS: args }, JSON.stringify({ cniVersion: '1.0.0', name: 'n' }));
      } catch {
        plugin = false;
      }
      expect({ ns, name, plugin }).toEqual({ ns, name, plugin: allocate(ns, name) });
      expect(podIdentityProblem(ns, name) === undefined).toBe(plugin);
    }
  });

  it('one container-id rule (libcni): 300 characters are legal, shell metacharacters are not', () => {
    expect(containerIdProblem('a'.repeat(300))).toBeUndefined();
    expect(containerIdProblem('a;b')).toBeDefined();
    expect(() => parseAllocateRequest({ containerId: 'a;b', ifName: 'eth0', netns: '/n', podNamespace: '', podName: '', infraContainerId: '' })).toThrow(/containerId/u);
  });
});
