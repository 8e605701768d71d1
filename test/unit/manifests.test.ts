/** The shipped manifests agree with the code: the daemon config and the eni-config ConfigMap parse, names match. */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { parseDaemonConfig } from '../../src/config/daemon-config.js';
import { parseClusterConfig } from '../../src/config/eni-config.js';
import { hubModeFor } from '../../src/config/mode-mapping.js';

type Doc = { kind: string; metadata: { name: string }; data?: Record<string, string>; spec?: unknown };
const docs = parseAllDocuments(readFileSync(new URL('../../manifests/terway-hub.yaml', import.meta.url), 'utf8')).map((d) => {
  expect(d.errors).toEqual([]);
  return d.toJS() as Doc;
});
const byName = (kind: string, name: string): Doc => {
  const doc = docs.find((d) => d.kind === kind && d.metadata.name === name);
  if (!doc) throw new Error(`no ${kind} ${name} in manifests/terway-hub.yaml`);
  return doc;
};

describe('manifests/terway-hub.yaml', () => {
  it('ships a daemon config that the daemon accepts', () => {
    const cm = byName('ConfigMap', 'terway-hub-config');
    const cfg = parseDaemonConfig(parseAllDocuments(cm.data?.['config.yaml'] ?? '')[0]?.toJS());
    expect(cfg.socket).toBe('/var/run/terway-hub/daemon.sock');
    expect(cfg.networkName).toBe('terway-hub');
  });
  it('ships an eni-config that maps to the veth-policy-routing dataplane', () => {
    const cm = byName('ConfigMap', 'eni-config');
    const cluster = parseClusterConfig({ id: 'kube-system/eni-config', data: cm.data ?? {} });
    expect(cluster.warnings).toEqual([]);
    expect(hubModeFor(cluster.daemonMode, cluster.cni)).toBe('veth-policy-routing');
  });
  it('runs the daemon from the CLI entry with the node name and installs the plugin binary', () => {
    const text = JSON.stringify(byName('DaemonSet', 'terway-hub'));
    expect(text).toContain('dist/main/cli.js');
    expect(text).toContain('NODE_NAME');
    expect(text).toContain('/host/opt/cni/bin/terway-hub');
  });
});
