/**
 * The live NetworkPolicy model against the Kubernetes API emulator through the REAL client: objects created,
 * updated and deleted change the snapshot; a bad object is refused (logged, a node Warning event) and left out.
 * Then the daemon with the emulator, asked by the real CLI without -f over its socket (explain, matrix, diff).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDaemonConfig } from '../../src/config/daemon-config.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { LivePolicyModel, REASON_OBJECT_REFUSED } from '../../src/daemon/policy/live-model.js';
import { silentLogger } from '../../src/lib/log.js';
import { nodeAdapters } from '../../src/main/adapters.js';
import { decide } from '../../src/policy/model/decide.js';
import { matrix } from '../../src/policy/model/matrix.js';
import type { PolicyModel } from '../../src/policy/model/types.js';
import { startKubeEmulator, type KubeEmulator } from '../k8s-emulator/index.js';
import { emulatedKubeApi } from '../k8s-emulator/testing.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { eventually } from '../helpers/wait.js';

let emu: KubeEmulator;
beforeAll(async () => {
  emu = await startKubeEmulator();
});
afterAll(async () => {
  await emu.close();
});
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const kind of ['Pod', 'NetworkPolicy', 'Namespace', 'Node']) {
    for (const o of emu.list(kind)) {
      const md = o['metadata'] as { namespace?: string; name: string };
      emu.delete(kind, md.namespace ?? '', md.name);
    }
  }
});

function node(name: string, ip: string): object {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }] } };
}

function pod(namespace: string, name: string, nodeName: string, ip: string, labels: Record<string, string> = {}, ports: object[] = []): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: { nodeName, containers: [{ name: 'app', image: 'busybox', ports }] },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
  };
}

function policy(namespace: string, name: string, spec: object): object {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
}

const WEB_FROM_CLIENTS = { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ port: 'http' }] }] };

function seed(nodeName: string): void {
  emu.put('Node', node(nodeName, '192.168.7.1'));
  emu.put('Namespace', { metadata: { name: 'x', labels: { team: 'x' } } });
  emu.put('Pod', pod('x', 'web', nodeName, '10.7.0.10', { app: 'web' }, [{ name: 'http', containerPort: 8080 }]));
  emu.put('Pod', pod('x', 'client', nodeName, '10.7.0.11', { role: 'client' }));
  emu.put('Pod', pod('x', 'other', nodeName, '10.7.0.12'));
  emu.put('Pod', pod('x', 'elsewhere', 'node-other', '10.7.9.9', { role: 'client' }));
  emu.put('NetworkPolicy', policy('x', 'web-from-clients', WEB_FROM_CLIENTS));
}

const allowed = (m: PolicyModel, from: string, to: string, port: number): boolean => decide(m, { pod: from }, { pod: to }, port, 'TCP').allowed;

describe('LivePolicyModel + real informers + API emulator', () => {
  it('follows creates, updates and deletes; refuses a bad object with an event and keeps the rest', async () => {
    seed('node-a');
    const kube = emulatedKubeApi(emu);
    const informers = { pods: kube.clusterPodInformer(), nodes: kube.nodeInformer('node-a'), policies: kube.networkPolicyInformer(), namespaces: kube.namespaceInformer() };
    cleanups.push(() => { for (const i of Object.values(informers)) i.stop(); });
    await Promise.all(Object.values(informers).map((i) => i.start()));
    const warnings: string[] = [];
    const live = new LivePolicyModel({ ...informers, warn: (reason, message) => warnings.push(`${reason}: ${message}`), log: silentLogger });
    live.start();
    cleanups.push(() => { live.stop(); });
    const changes: PolicyModel[] = [];
    live.onChange((m) => changes.push(m));

    let m = live.snapshot();
    // the cluster's pods: a peer bound to another node is matched by the podSelector like a local one
    expect(m.pods.map((p) => `${p.namespace}/${p.name}`)).toEqual(['x/client', 'x/elsewhere', 'x/other', 'x/web']);
    expect(allowed(m, 'x/elsewhere', 'x/web', 8080)).toBe(true);
    expect(decide(m, { ip: '10.7.9.9' }, { pod: 'x/web' }, 8080, 'TCP').ingress.reason).toBe('allowed-by-policy');
    expect(m.pods.find((p) => p.name === 'web')?.namedPorts).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(m.namespaces.get('x')?.labels).toEqual({ team: 'x', 'kubernetes.io/metadata.name': 'x' });
    expect(m.nodes.get('node-a')?.ips).toEqual(['192.168.7.1']);
    expect(m.policies.map((p) => p.name)).toEqual(['web-from-clients']);
    expect(allowed(m, 'x/client', 'x/web', 8080)).toBe(true);
    expect(allowed(m, 'x/other', 'x/web', 8080)).toBe(false);
    expect(decide(m, { ip: '192.168.7.1' }, { pod: 'x/web' }, 8080, 'TCP').ingress.reason).toBe('from-own-node');

    // update: x/other becomes a client → admitted
    emu.put('Pod', pod('x', 'other', 'node-a', '10.7.0.12', { role: 'client' }));
    await eventually(() => { expect(allowed(live.snapshot(), 'x/other', 'x/web', 8080)).toBe(true); });
    expect(changes.length).toBeGreaterThan(0);
    expect(changes.at(-1)).toBe(live.snapshot());

    // a bad object (an out-of-range port the emulator does not validate): refused, the good version goes too
    emu.put('NetworkPolicy', policy('x', 'web-from-clients', { ...WEB_FROM_CLIENTS, ingress: [{ ports: [{ port: 70000 }] }] }));
    emu.put('NetworkPolicy', policy('x', 'deny-all', { podSelector: {} }));
    await eventually(() => { expect(live.snapshot().policies.map((p) => p.name)).toEqual(['deny-all']); });
    expect(live.refused()).toEqual([expect.stringContaining('NetworkPolicy x/web-from-clients: spec.ingress[0].ports[0].port: must be 1..65535')]);
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^${REASON_OBJECT_REFUSED}: NetworkPolicy x/web-from-clients: spec\\.ingress\\[0\\]\\.ports\\[0\\]\\.port`, 'u'))]);
    expect(live.objects().some((o) => o.kind === 'NetworkPolicy' && o.metadata['name'] === 'web-from-clients')).toBe(false);
    m = live.snapshot();
    expect(allowed(m, 'x/client', 'x/web', 8080)).toBe(false); // deny-all isolates; the refused allow is not there

    // fixed: back in, the refusal cleared
    emu.put('NetworkPolicy', policy('x', 'web-from-clients', WEB_FROM_CLIENTS));
    await eventually(() => { expect(allowed(live.snapshot(), 'x/client', 'x/web', 8080)).toBe(true); });
    expect(live.refused()).toEqual([]);

    // deletes: a pod and a policy leave the model
    emu.delete('NetworkPolicy', 'x', 'deny-all');
    emu.delete('Pod', 'x', 'client');
    await eventually(() => {
      expect(live.snapshot().policies.map((p) => p.name)).toEqual(['web-from-clients']);
      expect(live.snapshot().pods.map((p) => p.name)).toEqual(['elsewhere', 'other', 'web']);
    });
  });
});

describe('daemon + emulator, asked by the CLI without -f', () => {
  it('explain, matrix and diff read the live model over the socket; a refused object is reported as a node event', async () => {
    const nodeName = 'node-cli';
    seed(nodeName);
    emu.put('NetworkPolicy', policy('x', 'broken', { podSelector: {}, ingres: [] })); // misspelt field: refused
    const dir = tempDir('hub-policy-live-');
    const cfg = parseDaemonConfig({
      mode: 'veth-policy-routing',
      socket: join(dir, 'run', 'daemon.sock'),
      stateDir: join(dir, 'state'),
      cniConfDir: join(dir, 'net.d'),
      cniLogFile: join(dir, 'log', 'cni.log'), // not /var/log on the test host (the daemon creates the directory)
      httpListen: '',
      nodeName,
      local: { eni: { link: 'eth1', gateway: '192.168.0.1', ips: '192.168.0.10-192.168.0.20', subnet: '192.168.0.0/24' } },
      vpc: { podCIDR: '10.9.0.0/24' },
    });
    const daemon = new Daemon(cfg, {
      kube: emulatedKubeApi(emu, { eventHost: nodeName }),
      ...nodeAdapters({ sysctl: () => Promise.resolve(), runner: { run: () => Promise.resolve({ stdout: '', stderr: '', exitCode: 0 }) }, sysfs: () => Promise.resolve('7') }),
      kubeSyncTimeoutMs: 5000,
      kubeRetry: { attempts: 5, baseDelayMs: 20 },
    });
    await daemon.start();
    cleanups.push(() => daemon.stop());
    await eventually(() => { expect(daemon.policyModel.snapshot().policies.map((p) => p.name)).toEqual(['web-from-clients']); });
    await eventually(() => {
      const ev = emu.list('Event').filter((e) => e['reason'] === REASON_OBJECT_REFUSED);
      expect(ev.map((e) => e['message'])).toEqual([expect.stringContaining('NetworkPolicy x/broken: spec.ingres: unknown field')]);
    });
    const sock = ['--socket', cfg.socket];

    const m = await runCli(['policy', 'matrix', ...sock, '--port', '8080', '--json']);
    expect(m.code).toBe(0);
    expect(JSON.parse(m.stdout)).toEqual(matrix(daemon.policyModel.snapshot(), [{ port: 8080, protocol: 'TCP' }]));
    expect(Object.keys(JSON.parse(m.stdout) as object)).toHaveLength(4 * 3); // x/elsewhere (another node) included
    expect(m.stderr).toContain('warning: left out of the live model: NetworkPolicy x/broken: spec.ingres: unknown field');

    const denied = await runCli(['policy', 'explain', ...sock, '--from', 'x/other', '--to', 'x/web', '--port', '8080']);
    expect(denied.code).toBe(1);
    expect(denied.stdout).toContain('no match: x/web-from-clients ingress[0]: peer did not match');
    const ok = await runCli(['policy', 'explain', ...sock, '--from', 'x/client', '--to', 'x/web', '--port', '8080']);
    expect(ok.code).toBe(0);

    // what-if: x/other labelled a client, and a default deny for x
    const whatIf = join(dir, 'what-if.yaml');
    writeFileSync(whatIf, [
      readFileSync('test/fixtures/policy/tighten.yaml', 'utf8').split('---').at(-1) ?? '', // x/default-deny
      '---',
      JSON.stringify(pod('x', 'other', nodeName, '10.7.0.12', { role: 'client' })),
    ].join('\n'));
    const d = await runCli(['policy', 'diff', ...sock, '-f', whatIf, '--port', '8080', '--json']);
    expect(d.code).toBe(1);
    expect(d.stderr).not.toContain('Namespace x: not in the input'); // x is live: its labels are kept, no "assumed" note
    const diff = JSON.parse(d.stdout) as { allowedToDenied: string[]; deniedToAllowed: string[] };
    expect(diff.deniedToAllowed).toEqual(['x/other->x/web:8080/TCP']);
    // the default deny isolates every x pod; web still admits clients (x/elsewhere, on another node, is one)
    expect([...diff.allowedToDenied].sort()).toEqual([
      'x/client->x/elsewhere:8080/TCP', 'x/client->x/other:8080/TCP', 'x/elsewhere->x/client:8080/TCP', 'x/elsewhere->x/other:8080/TCP',
      'x/other->x/client:8080/TCP', 'x/other->x/elsewhere:8080/TCP', 'x/web->x/client:8080/TCP', 'x/web->x/elsewhere:8080/TCP', 'x/web->x/other:8080/TCP',
    ]);
    const same = await runCli(['policy', 'diff', ...sock, '-f', 'test/fixtures/policy/empty.yaml']);
    expect([same.code, same.stdout]).toEqual([0, '0 changes over 12 pod pair/port combinations\n']);
  });
});
