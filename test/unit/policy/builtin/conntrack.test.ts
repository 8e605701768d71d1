import { deleteArgs, deniedFlows, parseConntrack } from '../../../../src/policy/builtin/conntrack.js';
import { basicPods, policy, world } from '../model/fixture.js';

const LISTING = [
  'tcp      6 431999 ESTABLISHED src=10.0.1.1 dst=10.0.2.1 sport=40000 dport=80 src=10.0.2.1 dst=10.0.1.1 sport=80 dport=40000 [ASSURED] mark=0 use=1',
  'tcp      6 431999 ESTABLISHED src=10.0.1.1 dst=10.0.2.1 sport=40000 dport=80 src=10.0.2.1 dst=10.0.1.1 sport=80 dport=40000 [ASSURED] mark=0 use=1',
  'udp      17 29 src=10.0.1.2 dst=10.96.0.10 sport=5353 dport=53 [UNREPLIED] src=10.0.2.2 dst=10.0.1.2 sport=8053 dport=5353 mark=0 use=1',
  'icmp     1 29 src=10.0.1.1 dst=10.0.2.1 type=8 code=0 id=7 src=10.0.2.1 dst=10.0.1.1 type=0 code=0 id=7 mark=0 use=1',
  'conntrack v1.4.7 (conntrack-tools): 4 flow entries have been shown.',
].join('\n');

describe('conntrack cut', () => {
  it('parses TCP/UDP entries once each, with the real destination from the reply tuple (DNAT)', () => {
    expect(parseConntrack(LISTING)).toEqual([
      { protocol: 'TCP', src: '10.0.1.1', dst: '10.0.2.1', sport: 40000, dport: 80, realDst: '10.0.2.1', realDport: 80 },
      { protocol: 'UDP', src: '10.0.1.2', dst: '10.96.0.10', sport: 5353, dport: 53, realDst: '10.0.2.2', realDport: 8053 },
    ]);
  });

  it('picks only flows of the scope that the model denies, and deletes them by their original tuple', () => {
    const flows = parseConntrack(LISTING);
    const all = new Set(['10.0.1.1', '10.0.1.2', '10.0.2.1', '10.0.2.2']);
    expect(deniedFlows(world({ pods: basicPods() }), flows, all)).toEqual([]);
    const denyY = world({ pods: basicPods(), policies: [policy('y/deny', { podSelector: {}, policyTypes: ['Ingress'] })] });
    const denied = deniedFlows(denyY, flows, all);
    expect(denied.map((f) => f.realDst)).toEqual(['10.0.2.1', '10.0.2.2']);
    expect(deniedFlows(denyY, flows, new Set(['10.0.9.9']))).toEqual([]);
    expect(denied[1] && deleteArgs(denied[1])).toEqual(['-D', '-p', 'udp', '-s', '10.0.1.2', '-d', '10.96.0.10', '--sport', '5353', '--dport', '53']);
  });
});
