/**
 * The builtin compiler's output: structure, comments, sets (cidr − except, named ports per destination, endPort),
 * scopes, determinism, refusals; every script is checked by the real `nft -c` when root (it applies nothing).
 */
import { spawnSync } from 'node:child_process';
import { compileRuleset, type CompileScope, type CompiledRuleset } from '../../../../src/policy/builtin/compile.js';
import type { PolicyModel } from '../../../../src/policy/model/types.js';
import { hasCommand } from '../../../helpers/exec.js';
import { isRoot } from '../../../helpers/privilege.js';
import { basicPods, pod, policy, SERVE, world } from '../model/fixture.js';

const canCheck = isRoot() && hasCommand('nft') && hasCommand('unshare');
if (!canCheck) console.warn('SKIP nft -c checks of compiled rulesets: needs root and nft (they run in a fresh netns via unshare -n)');

/** `nft -c -f -` in a fresh netns; the error text when nft refuses the script. */
function nftCheck(text: string): string {
  if (!canCheck) return '';
  const r = spawnSync('unshare', ['-n', 'nft', '-c', '-f', '-'], { input: text, encoding: 'utf8' });
  return r.status === 0 ? '' : `nft -c exit ${String(r.status)}: ${r.stderr}`;
}

const HOST: CompileScope = { kind: 'host', pods: [{ pod: 'x/a', ifname: 'veth-xa' }, { pod: 'x/b', ifname: 'veth-xb' }, { pod: 'y/a', ifname: 'veth-ya' }, { pod: 'y/b', ifname: 'veth-yb' }] };

function compile(model: PolicyModel, scope: CompileScope = HOST): CompiledRuleset {
  const out = compileRuleset({ model, nodeName: 'node-1', scope });
  expect(nftCheck(out.text)).toBe('');
  return out;
}

const setLine = (text: string, name: string): string => text.split('\n').find((l) => l.includes(`set ${name} `)) ?? '';
const chain = (text: string, name: string): string[] => {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === `chain ${name} {`);
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && l.trim() === '}');
  return lines.slice(start + 1, end).map((l) => l.trim());
};

describe('builtin nftables compiler', () => {
  it('without policies: empty vmaps, no pod chains, the table is replaced atomically', () => {
    const out = compile(world({ pods: basicPods() }));
    expect(out.text.split('\n').slice(0, 3)).toEqual(['table inet terway-hub', 'delete table inet terway-hub', 'table inet terway-hub {']);
    expect(out.isolated).toEqual([]);
    expect(out.text).not.toMatch(/chain pod\d/u);
    expect(out.text).toContain('map ingress_pods { type ifname : verdict; }');
    expect(chain(out.text, 'ingress_forward')).toEqual(['type filter hook forward priority filter; policy accept;', 'ct state established,related accept', 'oifname vmap @ingress_pods']);
    expect(chain(out.text, 'egress_forward')[2]).toBe('iifname vmap @egress_pods');
    expect(chain(out.text, 'egress_input')[0]).toBe('type filter hook input priority filter - 1; policy accept;');
  });

  it('isolates only the selected pods and directions; default drop and jumps commented with the policies', () => {
    const model = world({ pods: basicPods(), policies: [policy('x/deny', { podSelector: { matchLabels: { pod: 'a' } } }), policy('x/also', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{}] })] });
    const out = compile(model);
    expect(out.isolated).toEqual([
      { pod: 'x/a', ifname: 'veth-xa', ingress: ['x/also', 'x/deny'], egress: [] },
      { pod: 'x/b', ifname: 'veth-xb', ingress: ['x/also'], egress: [] },
    ]);
    expect(out.text).toContain('map ingress_pods { type ifname : verdict; elements = { "veth-xa" : jump pod0_in, "veth-xb" : jump pod1_in }; }');
    expect(out.text).toContain('map egress_pods { type ifname : verdict; }');
    expect(chain(out.text, 'pod0_in')).toEqual([
      'ct state invalid drop',
      'ip saddr @node_v4 accept comment "from the node (kubelet probes)"',
      'jump np0_in comment "x/also"',
      'jump np1_in comment "x/deny"',
      'drop comment "x/a ingress isolated by x/also, x/deny"',
    ]);
    expect(chain(out.text, 'np0_in')).toEqual(['accept comment "x/also ingress[0]"']);
    expect(chain(out.text, 'np1_in')).toEqual([]);
    expect(setLine(out.text, 'node_v4')).toContain('elements = { 192.168.0.1 }');
  });

  it('peers: selector pods resolved to IPs, ipBlock cidr − except as intervals; ports: endPort ranges, protocol-only', () => {
    const model = world({
      pods: basicPods(),
      namespaceLabels: { y: { team: 'y' } },
      policies: [policy('x/p', {
        podSelector: {},
        ingress: [{
          from: [{ namespaceSelector: { matchLabels: { team: 'y' } } }, { ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.1.0/24'] } }, { ipBlock: { cidr: 'fd00::/64', except: ['fd00::/65'] } }],
          ports: [{ port: 80, endPort: 90 }, { port: 85 }, { protocol: 'UDP' }],
        }],
      })],
    });
    const out = compile(model);
    expect(setLine(out.text, 'np0_in_0_peers_v4')).toContain('elements = { 10.0.0.0/24, 10.0.2.0-10.0.255.255 }');
    expect(setLine(out.text, 'np0_in_0_peers_v6')).toContain('elements = { fd00::8000:0:0:0/65 }');
    expect(setLine(out.text, 'np0_in_0_ports')).toContain('elements = { tcp . 80-90, udp . 0-65535 }');
    expect(chain(out.text, 'np0_in')).toEqual([
      'ip saddr @np0_in_0_peers_v4 meta l4proto . th dport @np0_in_0_ports accept comment "x/p ingress[0]"',
      'ip6 saddr @np0_in_0_peers_v6 meta l4proto . th dport @np0_in_0_ports accept comment "x/p ingress[0]"',
    ]);
  });

  it('named ports resolve on the destination: the protected pods for ingress, each peer pod for egress', () => {
    const web = (port: number): typeof SERVE => [{ name: 'web', port, protocol: 'TCP' }];
    const pods = [pod('x/a', '10.0.1.1', {}, { namedPorts: web(8080) }), pod('x/b', '10.0.1.2', {}, { namedPorts: web(9090) }), pod('y/a', '10.0.2.1', {}, { namedPorts: web(7070) }), pod('y/b', '10.0.2.2')];
    const model = world({
      pods,
      policies: [
        policy('x/in', { podSelector: {}, ingress: [{ ports: [{ port: 'web' }] }] }),
        policy('y/out', { podSelector: { matchLabels: { pod: 'b' } }, egress: [{ to: [{ namespaceSelector: {} }], ports: [{ port: 'web' }, { port: 'web', protocol: 'UDP' }] }] }),
      ],
    });
    const out = compile(model);
    expect(setLine(out.text, 'np0_in_0_named_v4')).toContain('elements = { 10.0.1.1 . tcp . 8080, 10.0.1.2 . tcp . 9090 }');
    expect(chain(out.text, 'np0_in')).toEqual(['ip daddr . meta l4proto . th dport @np0_in_0_named_v4 accept comment "x/in ingress[0]"']);
    expect(setLine(out.text, 'np1_eg_0_named_v4')).toContain('elements = { 10.0.1.1 . tcp . 8080, 10.0.1.2 . tcp . 9090, 10.0.2.1 . tcp . 7070 }');
    expect(chain(out.text, 'np1_eg')).toEqual(['ip daddr @np1_eg_0_peers_v4 ip daddr . meta l4proto . th dport @np1_eg_0_named_v4 accept comment "y/out egress[0]"']);
  });

  it('identical sets are declared once and shared (content-addressed)', () => {
    const spec = { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 80 }] }] };
    const out = compile(world({ pods: basicPods(), policies: [policy('x/one', spec), policy('x/two', spec)] }));
    expect(chain(out.text, 'np1_in')).toEqual(['ip saddr @np0_in_0_peers_v4 meta l4proto . th dport @np0_in_0_ports accept comment "x/two ingress[0]"']);
    expect(out.text).not.toContain('set np1_in_0');
  });

  it('a rule whose peers select no address compiles to no rule (it admits nothing)', () => {
    const model = world({ pods: basicPods(), policies: [policy('x/p', { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { none: 'x' } } }] }] })] });
    expect(chain(compile(model).text, 'np0_in')).toEqual([]);
  });

  it('pod scope: its own table, ingress on input and egress on output of the pod interface', () => {
    const model = world({ pods: basicPods(), policies: [policy('x/p', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })] });
    const out = compile(model, { kind: 'pod', pod: { pod: 'x/a', ifname: 'eth0' } });
    expect(out.table).toBe('inet terway-hub-pod');
    expect(chain(out.text, 'egress_output').slice(0, 3)).toEqual(['type filter hook output priority filter - 1; policy accept;', 'ct state established,related accept', 'oifname vmap @egress_pods']);
    expect(chain(out.text, 'ingress_input')[2]).toBe('iifname vmap @ingress_pods');
    expect(out.text).toContain('elements = { "eth0" : jump pod0_in }');
    expect(out.text).toContain('elements = { "eth0" : jump pod0_eg }');
  });

  it('is deterministic whatever the order of the local pods; counts rules, sets and elements', () => {
    const model = world({ pods: basicPods(), policies: [policy('x/p', { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] })] });
    const a = compile(model);
    const b = compile(model, { kind: 'host', pods: [...HOST.pods].reverse() });
    expect(b.text).toBe(a.text);
    expect(a.rules).toBe(a.text.split('\n').filter((l) => /^\t\t(?!type )/u.test(l)).length);
    expect(a.sets).toBe((a.text.match(/^\t(set|map) /gmu) ?? []).length);
  });

  it('refuses bad or duplicate interface names; reports pods missing from the model; skips hostNetwork pods', () => {
    const model = world({ pods: [...basicPods(), pod('x/h', '192.168.0.1', {}, { hostNetwork: true })], policies: [policy('x/p', { podSelector: {} })] });
    expect(() => compileRuleset({ model, nodeName: 'node-1', scope: { kind: 'host', pods: [{ pod: 'x/a', ifname: 'bad name"' }] } })).toThrow(/interface name/u);
    expect(() => compileRuleset({ model, nodeName: 'node-1', scope: { kind: 'host', pods: [{ pod: 'x/a', ifname: 'v1' }, { pod: 'x/b', ifname: 'v1' }] } })).toThrow(/two pods/u);
    const out = compile(model, { kind: 'host', pods: [{ pod: 'x/h', ifname: 'vh' }, { pod: 'q/gone', ifname: 'vq' }] });
    expect(out.unknown).toEqual(['q/gone']);
    expect(out.isolated).toEqual([]);
  });

  it('random models compile to scripts nft accepts', () => {
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const pick = <T,>(xs: readonly T[]): T => xs[rnd(xs.length)] as T;
    for (let round = 0; round < 25; round++) {
      const pods = Array.from({ length: 6 }, (_, i) => pod(`${pick(['x', 'y'])}/p${String(i)}`, rnd(4) === 0 ? [`10.1.0.${String(i + 1)}`, `fd00::${String(i + 1)}`] : `10.1.0.${String(i + 1)}`, { app: pick(['a', 'b']) }, { namedPorts: SERVE }));
      const peer = (): Record<string, unknown> => pick([
        { podSelector: { matchLabels: { app: pick(['a', 'b']) } } },
        { namespaceSelector: {} },
        { ipBlock: { cidr: '10.1.0.0/24', except: [`10.1.0.${String(rnd(8) * 4)}/30`] } },
        { ipBlock: { cidr: 'fd00::/120', except: ['fd00::/124'] } },
      ]);
      const port = (): Record<string, unknown> => pick([{ port: 80 }, { port: 80, endPort: 81 + rnd(100) }, { protocol: 'UDP' }, { port: 'serve-80-tcp' }, { port: 'serve-80-udp', protocol: 'UDP' }, { protocol: 'SCTP', port: 9 }]);
      const rule = (): Record<string, unknown> => ({ ...(rnd(3) > 0 ? { from: [peer(), peer()], to: [peer()] } : {}), ...(rnd(3) > 0 ? { ports: [port(), port()] } : {}) });
      const policies = Array.from({ length: 4 }, (_, i) => {
        const r = rule();
        return policy(`${pick(['x', 'y'])}/np${String(i)}`, { podSelector: rnd(2) === 0 ? {} : { matchLabels: { app: 'a' } }, policyTypes: pick([['Ingress'], ['Egress'], ['Ingress', 'Egress']]), ingress: [{ from: r['from'], ports: r['ports'] }], egress: [{ to: r['to'], ports: r['ports'] }] });
      });
      const model = world({ pods, policies });
      compile(model, { kind: 'host', pods: pods.map((p, i) => ({ pod: `${p.namespace}/${p.name}`, ifname: `v${String(i)}` })) });
    }
  });
});
