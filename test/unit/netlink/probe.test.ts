import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cidr, IfName, IpAddr, MacAddr, NetnsPath } from '../../../src/lib/brand.js';
import { HOST, podNs, type Op } from '../../../src/netlink/ops.js';
import { createStateProbe } from '../../../src/netlink/probe.js';
import { FakeRunner } from './fake-runner.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const P = podNs('/var/run/netns/hubrec' as NetnsPath);
const plan: Op[] = [
  { kind: 'link.up', ns: HOST, name: 'hubrec0' as IfName },
  { kind: 'rule.add', ns: HOST, from: '10.200.7.5/32' as Cidr, table: 1099, priority: 2048 },
  { kind: 'neigh.replace', ns: P, dev: 'eth0' as IfName, ip: '169.254.1.1' as IpAddr, lladdr: 'ee:11:11:11:11:01' as MacAddr },
];

function fixtureRunner(podNeigh = 'pod-neigh.json'): FakeRunner {
  return new FakeRunner((cmd) => {
    const pod = cmd.file === 'nsenter';
    const args = pod ? cmd.args.slice(2) : cmd.args;
    const kind = args.includes('link') ? 'link' : args.includes('addr') ? 'addr' : args.includes('route') ? 'route' : args.includes('rule') ? 'rule' : 'neigh';
    const file = pod && kind === 'neigh' ? podNeigh : `${pod ? 'pod' : 'host'}-${kind}.json`;
    if (file === 'missing') return { exitCode: 1, stderr: 'nsenter: cannot open /var/run/netns/hubrec: No such file or directory' };
    return { stdout: readFileSync(join(dir, file), 'utf8') };
  });
}

describe('createStateProbe', () => {
  it('runs ip -j in each namespace the plan touches and finds nothing missing', async () => {
    const runner = fixtureRunner();
    await expect(createStateProbe({ runner }).missing(plan)).resolves.toEqual([]);
    const argvs = runner.calls.map((c) => [c.cmd.file, ...c.cmd.args].join(' '));
    expect(argvs).toContain('ip -j -4 route show table all');
    expect(argvs).toContain('nsenter --net=/var/run/netns/hubrec ip -j -4 neigh show');
    expect(runner.calls).toHaveLength(10);
  });
  it('reports what it cannot observe', async () => {
    const probs = await createStateProbe({ runner: fixtureRunner('missing') }).missing(plan);
    expect(probs).toHaveLength(1);
    expect(probs[0]).toMatch(/^netns \/var\/run\/netns\/hubrec cannot be observed: .*failed \(exit 1\)/u);
  });
});
