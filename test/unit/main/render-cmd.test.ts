/**
 * `terway-hub render`: the shipped manifests' ConfigMaps render to a conflist the hub's plugin reads (per node),
 * through the CLI's own file reading; a refused config exits 1 naming its field, bad flags exit 2.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { objectsOf, runRender, RENDER_EXIT, type RenderIo } from '../../../src/main/cmd/render.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? yamlFiles(p) : /\.ya?ml$/u.test(n) ? [p] : [];
  });
}

/** Every shipped file holding an `eni-config` ConfigMap (examples included). */
const shipped = yamlFiles(join(ROOT, 'manifests')).filter((f) =>
  objectsOf(readFileSync(f, 'utf8'), f).some((o) => (o as { kind?: string; metadata?: { name?: string } }).kind === 'ConfigMap' && (o as { metadata?: { name?: string } }).metadata?.name === 'eni-config'),
);

/** The shipped daemon config: the ConfigMap holding `config.yaml` (install set, not the examples). */
const daemonConfig = yamlFiles(join(ROOT, 'manifests')).find((f) => objectsOf(readFileSync(f, 'utf8'), f).some((o) => (o as { kind?: string; data?: Record<string, unknown> }).kind === 'ConfigMap' && (o as { data?: Record<string, unknown> }).data?.['config.yaml'] !== undefined));

interface Run {
  code: number;
  out: string;
  err: string;
}

async function render(args: string[], files: Record<string, string> = {}): Promise<Run> {
  const r: Run = { code: -1, out: '', err: '' };
  const io: RenderIo = {
    out: (t) => { r.out += t; },
    err: (t) => { r.err += t; },
    readText: (p) => (files[p] !== undefined ? Promise.resolve(files[p]) : Promise.resolve(readFileSync(p, 'utf8'))),
  };
  r.code = await runRender(args, io);
  return r;
}

const NODE = (name: string, cidr: string): string => `apiVersion: v1\nkind: Node\nmetadata: { name: ${name} }\nspec: { podCIDR: ${cidr} }\n`;

describe('terway-hub render', () => {
  it('finds the shipped eni-config ConfigMaps and daemon config', () => {
    expect(shipped.length).toBeGreaterThan(0);
    expect(daemonConfig).toBeDefined();
  });

  it.each(shipped.map((f) => [f.slice(ROOT.length)]))('renders %s with the shipped daemon config: a conflist whose first plugin is the hub', async (rel) => {
    const base = ['-f', daemonConfig ?? 'missing', '-f', join(ROOT, rel)];
    const r = await render([...base, '--node', 'node.yaml', '--json'], { 'node.yaml': NODE('n1', '10.244.3.0/24') });
    expect(r.err).not.toMatch(/refused|error/u);
    expect(r.code).toBe(RENDER_EXIT.ok);
    const j = JSON.parse(r.out) as { ok: boolean; nodeName: string; conflist: { path: string; content: string }; policy: { backend: string; files: { path: string }[] } };
    expect(j.ok).toBe(true);
    expect(j.nodeName).toBe('n1');
    expect(j.conflist.path).toMatch(/\.conflist$/u);
    const conflist = JSON.parse(j.conflist.content) as { name: string; plugins: { type: string }[] };
    expect(conflist.plugins[0]?.type).toBe('terway-hub');
    expect(j.conflist.path).toMatch(/^\/host\/etc\/cni\/net\.d\//u);
    const text = await render([...base, '--node', 'node.yaml'], { 'node.yaml': NODE('n1', '10.244.3.0/24') });
    expect(text.out).toContain(`# ${j.conflist.path}`);
    for (const f of j.policy.files) expect(text.out).toContain(`# ${f.path}`);
  });

  it('renders a VPC config with a felix backend: its files name the node', async () => {
    const cm = [
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: terway-hub-config, namespace: kube-system }\ndata:\n  config.yaml: |\n    mode: vpc\n    vpc: { podCIDR: 10.88.0.0/24 }\n    policy: { backend: felix, felix: { binary: /usr/bin/calico-felix, version: "3.28.0" } }\n',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: eni-config, namespace: kube-system }\ndata:\n  daemon_mode: VPC\n  eni_conf: \'{"version": "1", "service_cidr": "10.96.0.0/12"}\'\n',
    ].join('---\n');
    const r = await render(['-f', 'cm.yaml', '--node', 'node.yaml', '--json'], { 'cm.yaml': cm, 'node.yaml': NODE('n7', '10.244.7.0/24') });
    expect(r.err).toBe('');
    expect(r.code).toBe(RENDER_EXIT.ok);
    const j = JSON.parse(r.out) as { mode: string; policy: { backend: string; files: { path: string; content: string }[]; process?: string[] } };
    expect(j.mode).toBe('vpc');
    expect(j.policy.backend).toBe('felix');
    expect(j.policy.files.length).toBeGreaterThan(0);
    expect(j.policy.files.map((f) => f.content).join('\n')).toContain('n7');
    expect(j.policy.process?.[0]).toBe('/usr/bin/calico-felix');
  });

  it('refuses a config the daemon would refuse, naming the field (exit 1)', async () => {
    const bad = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: eni-config, namespace: kube-system }\ndata:\n  daemon_mode: ENIMultiIP\n  eni_conf: \'{"max_pool_size": -3}\'\n';
    const r = await render(['-f', 'bad.yaml', '--json'], { 'bad.yaml': bad });
    expect(r.code).toBe(RENDER_EXIT.refused);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, field: 'eni_conf.max_pool_size' });
    expect(r.err).toContain('refused: eni_conf.max_pool_size');
  });

  it('refuses a policy backend the mode cannot run (exit 1, field policy.backend)', async () => {
    const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: terway-hub-config }\ndata:\n  config.yaml: |\n    mode: vpc\n    vpc: { podCIDR: 10.88.0.0/24 }\n    policy: { backend: felix, felix: { binary: /usr/bin/calico-felix } }\n';
    const r = await render(['-f', 'cm.yaml', '--node', 'node.yaml', '--json'], { 'cm.yaml': cm, 'node.yaml': NODE('n2', '10.244.2.0/24') });
    expect(r.code).toBe(RENDER_EXIT.refused);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, field: 'policy.backend' });
  });

  it('refuses a VPC config on a Node without spec.podCIDR, as the daemon would (exit 1)', async () => {
    const vpc = shipped.find((f) => readFileSync(f, 'utf8').includes('daemon_mode: VPC'));
    if (vpc === undefined) throw new Error('no shipped eni-config with daemon_mode: VPC (manifests/examples/)');
    const r = await render(['-f', daemonConfig ?? 'missing', '-f', vpc, '--node', 'node.yaml', '--json'], { 'node.yaml': 'apiVersion: v1\nkind: Node\nmetadata: { name: bare }\n' });
    expect(r.code).toBe(RENDER_EXIT.refused);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, field: 'node.spec.podCIDR' });
  });

  it('exits 2 on bad flags or a file without a ConfigMap', async () => {
    expect((await render([])).code).toBe(RENDER_EXIT.usage);
    expect((await render(['-f', 'x.yaml'], { 'x.yaml': 'apiVersion: v1\nkind: Secret\nmetadata: { name: s }\n' })).code).toBe(RENDER_EXIT.usage);
    expect((await render(['-f', 'x.yaml', '--iptables', 'pf'], { 'x.yaml': '' })).code).toBe(RENDER_EXIT.usage);
  });
});
