/**
 * The shipped manifests (manifests/base, components, examples) agree with the code, and each defect of the old
 * single-file manifest stays fixed: per-node pod addresses, no Terway ConfigMap in the install set, the plugin
 * installed from the path the build writes, node setup in a privileged init step, the conflist kept and sorting
 * first, affinity, resources, probes, the log dir.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { parseDaemonConfig, type DaemonConfig } from '../../src/config/daemon-config.js';
import { parseClusterConfig } from '../../src/config/eni-config.js';
import { hubModeFor } from '../../src/config/mode-mapping.js';
import { effectiveConfig } from '../../src/daemon/k8s/effective-config.js';
import { setFromCidr, setIps } from '../../src/ipam/range.js';
import type { ConfigMapInfo, NodeInfo } from '../../src/k8s/types.js';
import { COMPONENTS, MANIFESTS, REPO, build, componentDir, exampleFiles, find, readKustomization, readObjects, referencedFiles, yamlFilesIn, type K8sObject } from '../helpers/manifests.js';

type Container = { name: string; image: string; command: string[]; securityContext?: { privileged?: boolean; capabilities?: { add?: string[] } }; resources?: { requests?: { memory?: string } }; startupProbe?: unknown; volumeMounts?: { name: string; mountPath: string }[] };
type PodSpec = { initContainers: Container[]; containers: Container[]; volumes: { name: string; hostPath?: { path: string; type?: string } }[]; affinity?: unknown };

const base = build(join(MANIFESTS, 'base'));
const podSpec = (objs: readonly K8sObject[]): PodSpec => (find(objs, 'DaemonSet', 'terway-hub') as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
const configText = (objs: readonly K8sObject[]): string => (find(objs, 'ConfigMap', 'terway-hub-config') as unknown as { data: Record<string, string> }).data['config.yaml'] ?? '';
const shipped = (objs: readonly K8sObject[] = base): DaemonConfig => parseDaemonConfig(parse(configText(objs)));
const mebibytes = (q: string): number => {
  const m = /^(\d+)(Mi|Gi)$/u.exec(q);
  if (m === null) throw new Error(`unexpected quantity ${q}`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
};

describe('manifests: kustomizations resolve', () => {
  const dirs = [join(MANIFESTS, 'base'), ...COMPONENTS.map(componentDir)];
  it.each(dirs.map((d) => [d.slice(MANIFESTS.length + 1), d]))('%s: every listed file exists and every YAML file is listed', (_, dir) => {
    const k = readKustomization(dir);
    const listed = referencedFiles(k);
    for (const f of listed) expect(existsSync(join(dir, f))).toBe(true);
    expect(yamlFilesIn(dir).sort()).toEqual([...listed].sort());
  });
  it('the old single file is gone and nothing refers to it', () => {
    expect(existsSync(join(MANIFESTS, 'terway-hub.yaml'))).toBe(false);
    const grep = spawnSync('git', ['-C', REPO, 'grep', '--untracked', '-l', '-F', ['manifests', 'terway-hub.yaml'].join('/')], { encoding: 'utf8' });
    expect(grep.stdout.trim()).toBe('');
  });
  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  const kust = kubectl.status === 0 ? it : it.skip;
  if (kubectl.status !== 0) process.stdout.write('manifests: kubectl missing, `kubectl kustomize` cross-check skipped\n');
  kust('`kubectl kustomize manifests/base` yields the objects this resolver yields', () => {
    const out = spawnSync('kubectl', ['kustomize', join(MANIFESTS, 'base')], { encoding: 'utf8' });
    expect(out.stderr).toBe('');
    const ids = (objs: readonly K8sObject[]): string[] => objs.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort();
    const theirs = out.stdout.split(/^---$/mu).map((d) => parse(d) as K8sObject);
    expect(ids(theirs)).toEqual(ids(base));
    expect(podSpec(theirs)).toEqual(podSpec(base));
  });
  kust.each(COMPONENTS.map((c) => [c]))('`kubectl kustomize` of an overlay with the %s component yields what this resolver yields', (name) => {
    const overlay = mkdtempSync(join(tmpdir(), 'mf-overlay-'));
    try {
      writeFileSync(join(overlay, 'kustomization.yaml'), `resources: [${relative(overlay, join(MANIFESTS, 'base'))}]\ncomponents: [${relative(overlay, componentDir(name))}]\n`);
      const out = spawnSync('kubectl', ['kustomize', overlay], { encoding: 'utf8' });
      expect(out.stderr).toBe('');
      const theirs = out.stdout.split(/^---$/mu).map((d) => parse(d) as K8sObject);
      const ours = build(join(MANIFESTS, 'base'), [componentDir(name)]);
      const byId = (objs: readonly K8sObject[]): Record<string, K8sObject> => Object.fromEntries(objs.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
      expect(byId(theirs)).toEqual(byId(ours));
    } finally {
      rmSync(overlay, { recursive: true, force: true });
    }
  });
});

describe('manifests: the install set', () => {
  it('does not contain Terway\'s kube-system/eni-config', () => {
    expect(base.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name)).toEqual(['terway-hub-config']);
  });
  it('ships a daemon config the daemon accepts, with no fixed address range, the conflist kept and sorting first', () => {
    const cfg = shipped();
    expect(cfg.vpc).toBeUndefined();
    expect(cfg.local).toBeUndefined();
    expect(cfg.cloud.provider).toBe('aliyun');
    expect(cfg.keepConflistOnExit).toBe(true);
    expect(cfg.conflistName).toBe('05-terway-hub.conflist');
    // libcni loads the first file in lexical order: the hub's must sort before the other CNIs' usual names (a
    // chained Cilium writes none: the hub renders it with custom-cni-conf)
    for (const other of ['10-aws.conflist', '10-calico.conflist', '10-terway.conflist', '10-terway.conf', '10-flannel.conflist', '87-podman-bridge.conflist']) expect([cfg.conflistName, other].sort()[0]).toBe(cfg.conflistName);
    expect(cfg.socket).toBe('/var/run/terway-hub/daemon.sock');
  });
  it('fully qualifies every image (a registry host, not a short name the runtime resolves as it likes)', () => {
    const images = [base, ...COMPONENTS.map((c) => build(join(MANIFESTS, 'base'), [componentDir(c)]))].flatMap((objs) => [...podSpec(objs).initContainers, ...podSpec(objs).containers].map((c) => c.image));
    for (const image of images) expect(image.split('/')[0]).toMatch(/^localhost$|[.:]/u);
    expect(podSpec(base).containers[0]?.image).toBe('localhost/terway-hub:0.1.0');
  });
  it('installs the plugin from the path the build writes, with the atomic install-cni subcommand, privileged', () => {
    const init = podSpec(base).initContainers.find((c) => c.name === 'install-cni');
    expect(init?.command).toEqual(['node', '/opt/terway-hub/dist/main/cli.js', 'install-cni', '--from', '/opt/terway-hub/dist/bin/terway-hub', '--to', '/host/opt/cni/bin']);
    expect(init?.securityContext?.privileged).toBe(true);
    // the image puts the repo's dist/ at /opt/terway-hub/dist (Containerfile)
    const containerfile = readObjectsText(join(REPO, 'Containerfile'));
    expect(containerfile).toMatch(/^COPY dist\/ \/opt\/terway-hub\/dist\/$/mu);
  });
  it('runs node setup in a privileged init step before the daemon, with the same config', () => {
    const names = podSpec(base).initContainers.map((c) => c.name);
    expect(names).toEqual(['install-cni', 'node-setup']);
    const setup = podSpec(base).initContainers[1];
    expect(setup?.command.slice(0, 3)).toEqual(['node', '/opt/terway-hub/dist/main/cli.js', 'node-setup']);
    expect(setup?.command).toContain('/etc/terway-hub/config.yaml');
    expect(setup?.securityContext?.privileged).toBe(true);
  });
  it('keeps the daemon container unprivileged, with a startup probe and at least 128Mi requested', () => {
    const daemon = podSpec(base).containers.find((c) => c.name === 'daemon');
    expect(daemon?.securityContext?.privileged).toBeUndefined();
    expect(daemon?.securityContext?.capabilities?.add).toEqual(['NET_ADMIN', 'NET_RAW', 'SYS_ADMIN']);
    expect(mebibytes(daemon?.resources?.requests?.memory ?? '0Mi')).toBeGreaterThanOrEqual(128);
    expect(daemon?.startupProbe).toBeDefined();
    expect(daemon?.command).toEqual(['node', '/opt/terway-hub/dist/main/cli.js', 'daemon', '--config', '/etc/terway-hub/config.yaml']);
  });
  it('creates /var/log/terway-hub on the host (the plugin logs there)', () => {
    const log = podSpec(base).volumes.find((v) => v.hostPath?.path === '/var/log/terway-hub');
    expect(log?.hostPath?.type).toBe('DirectoryOrCreate');
    expect(shipped().cniLogFile.startsWith('/var/log/terway-hub/')).toBe(true);
  });
  it('schedules only on linux/amd64 nodes that are not virtual', () => {
    const text = JSON.stringify(podSpec(base).affinity);
    expect(text).toContain('{"key":"kubernetes.io/os","operator":"In","values":["linux"]}');
    expect(text).toContain('{"key":"kubernetes.io/arch","operator":"In","values":["amd64"]}');
    expect(text).toContain('{"key":"type","operator":"NotIn","values":["virtual-kubelet"]}');
  });
});

describe('manifests: pod addresses come per node', () => {
  const cm = (file: string): ConfigMapInfo => {
    const [o] = readObjects(file) as unknown as { metadata: { name: string; namespace: string }; data: Record<string, string> }[];
    if (o === undefined) throw new Error(file);
    return { namespace: o.metadata.namespace, name: o.metadata.name, data: o.data, resourceVersion: '1' };
  };
  const node = (name: string, podCIDR?: string): NodeInfo => ({ name, uid: name, labels: {}, annotations: {}, resourceVersion: '1', ...(podCIDR !== undefined ? { podCIDR } : {}) });
  const run = (eniConfig: ConfigMapInfo, n: NodeInfo): ReturnType<typeof effectiveConfig> =>
    effectiveConfig({ local: shipped(), node: n, configMap: (ns, name) => (ns === eniConfig.namespace && name === eniConfig.name ? eniConfig : undefined) });

  it('VPC: two nodes with different podCIDRs get disjoint pod addresses, each from its own podCIDR', () => {
    const vpc = cm(join(MANIFESTS, 'examples', 'eni-config-vpc.yaml'));
    const pools = [node('a', '10.244.1.0/24'), node('b', '10.244.2.0/24'), node('c', '10.244.3.0/25')].map((n) => {
      const res = run(vpc, n);
      if (!res.ok) throw new Error(`node ${n.name}: ${'error' in res ? res.error.message : 'refused'}`);
      expect(res.config.daemon.mode).toBe('vpc');
      expect(res.config.daemon.vpc?.podCIDR).toBe(n.podCIDR);
      return setIps(setFromCidr(res.config.daemon.vpc?.podCIDR ?? '', 'podCIDR'));
    });
    const seen = new Set<string>();
    for (const ips of pools) {
      expect(ips.length).toBeGreaterThan(100);
      for (const ip of ips) {
        expect(seen.has(ip)).toBe(false);
        seen.add(ip);
      }
    }
  });
  it('VPC: a node without spec.podCIDR gets no addresses at all', () => {
    const res = run(cm(join(MANIFESTS, 'examples', 'eni-config-vpc.yaml')), node('bare'));
    expect(res.ok).toBe(false);
  });
  it.each(['eni-config-enimultiip-veth.yaml', 'eni-config-enimultiip-ipvlan.yaml', 'eni-config-eni.yaml'])('%s: the addresses come from the cloud, none from the config', (file) => {
    const res = run(cm(join(MANIFESTS, 'examples', file)), node('a', '10.244.1.0/24'));
    if (!res.ok) throw new Error('error' in res ? res.error.message : 'refused');
    expect(res.config.daemon.cloud.provider).toBe('aliyun');
    expect(res.config.daemon.local).toBeUndefined();
    expect(res.config.daemon.vpc).toBeUndefined();
  });
});

describe('manifests: examples', () => {
  const expected: Record<string, string> = {
    'eni-config-vpc.yaml': 'vpc',
    'eni-config-enimultiip-veth.yaml': 'veth-policy-routing',
    'eni-config-enimultiip-ipvlan.yaml': 'ipvlan',
    'eni-config-eni.yaml': 'eni',
  };
  it('has one commented eni-config per mode, each parsing without warnings', () => {
    const files = exampleFiles();
    expect(files.map((f) => f.slice(f.lastIndexOf('/') + 1)).sort()).toEqual(Object.keys(expected).sort());
    for (const f of files) {
      const [o] = readObjects(f) as unknown as { metadata: { name: string }; data: Record<string, string> }[];
      expect(o?.metadata.name).toBe('eni-config');
      const cluster = parseClusterConfig({ id: f, data: o?.data ?? {} });
      expect(cluster.warnings).toEqual([]);
      expect(hubModeFor(cluster.daemonMode, cluster.cni)).toBe(expected[f.slice(f.lastIndexOf('/') + 1)]);
      expect(readObjectsText(f)).toMatch(/^# EXAMPLE, not part of the install set/u);
    }
  });
});

describe('manifests: policy components', () => {
  it.each(COMPONENTS.map((c) => [c]))('%s: its config is the base config plus a policy section that selects it', (name) => {
    const objs = build(join(MANIFESTS, 'base'), [componentDir(name)]);
    const withPolicy = parse(configText(objs)) as Record<string, unknown>;
    const { policy, ...rest } = withPolicy;
    expect(rest).toEqual(parse(configText(base)));
    const cfg = shipped(objs);
    expect(cfg.policy.backend).toBe(name);
    const binary = name === 'felix' ? cfg.policy.felix.binary : cfg.policy.cilium.agentBinary;
    expect(policy).toBeDefined();
    // the binary the config names is where the component's init step copies it, in a volume the daemon mounts
    const spec = podSpec(objs);
    const copier = spec.initContainers.find((c) => c.name === 'policy-binary');
    const mount = spec.containers[0]?.volumeMounts?.find((m) => m.name === 'policy-bin');
    expect(copier?.command.at(-1)?.replace('/policy-bin', mount?.mountPath ?? '?')).toBe(binary);
  });
});

function readObjectsText(file: string): string {
  return readFileSync(file, 'utf8');
}
