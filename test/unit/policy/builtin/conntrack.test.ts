import { deleteArgs, deleteLines, deniedFlows, parseConntrack, type CtFlow } from '../../../../src/policy/builtin/conntrack.js';
import { basicPods, policy, world } from '../model/fixture.js';

const LISTING = [
  'tcp      6 431999 ESTABLISHED src=10.0.1.1 dst=10.0.2.1 sport=40000 dport=80 src=10.0.2.1 dst=10.0.1.1 sport=80 dport=40000 [ASSURED] mark=0 use=1',
  'tcp      6 431999 ESTABLISHED src=10.0.1.1 dst=10.0.2.1 sport=40000 dport=80 src=10.0.2.1 dst=10.0.1.1 sport=80 dport=40000 [ASSURED] mark=0 use=1',
  'udp      17 29 src=10.0.1.2 dst=10.96.0.10 sport=5353 dport=53 src=10.0.2.2 dst=10.0.1.2 sport=8053 dport=5353 mark=0 use=1',
  // what denied probes and finished connections leave: their next packets are `new` and meet the rules
  'udp      17 29 src=10.0.1.2 dst=10.0.2.1 sport=5354 dport=81 [UNREPLIED] src=10.0.2.1 dst=10.0.1.2 sport=81 dport=5354 mark=0 use=1',
  'tcp      6 119 SYN_SENT src=10.0.1.2 dst=10.0.2.1 sport=40001 dport=80 [UNREPLIED] src=10.0.2.1 dst=10.0.1.2 sport=80 dport=40001 mark=0 use=1',
  'tcp      6 118 TIME_WAIT src=10.0.1.2 dst=10.0.2.2 sport=40002 dport=80 src=10.0.2.2 dst=10.0.1.2 sport=80 dport=40002 [ASSURED] mark=0 use=1',
  'tcp      6 9 CLOSE src=10.0.1.2 dst=10.0.2.2 sport=40003 dport=80 src=10.0.2.2 dst=10.0.1.2 sport=80 dport=40003 [ASSURED] mark=0 use=1',
  'icmp     1 29 src=10.0.1.1 dst=10.0.2.1 type=8 code=0 id=7 src=10.0.2.1 dst=10.0.1.1 type=0 code=0 id=7 mark=0 use=1',
  'conntrack v1.4.7 (conntrack-tools): 8 flow entries have been shown.',
].join('\n');

describe('conntrack cut', () => {
  it('parses the TCP/UDP entries that pass as established once each, with the real destination from the reply tuple (DNAT)', () => {
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

  it('deletes flows without NAT one line per protocol, source, destination and port; NAT\'ed ones and their group flow by flow', () => {
    const flow = (src: string, dst: string, sport: number, dport: number, real?: string): CtFlow => ({ protocol: 'TCP', src, dst, sport, dport, realDst: real ?? dst, realDport: dport });
    const plain = [flow('10.0.1.1', '10.0.2.1', 40000, 80), flow('10.0.1.1', '10.0.2.1', 40001, 80), flow('10.0.1.1', '10.0.2.1', 40002, 81)];
    const natted = flow('10.0.1.1', '10.96.0.10', 40003, 80, '10.0.2.2');
    const sharesNatGroup = flow('10.0.1.1', '10.96.0.10', 40004, 80);
    expect(deleteLines([...plain, natted, sharesNatGroup], [...plain, natted, sharesNatGroup])).toEqual([
      ['-D', '-p', 'tcp', '-s', '10.0.1.1', '-d', '10.0.2.1', '--dport', '80'],
      ['-D', '-p', 'tcp', '-s', '10.0.1.1', '-d', '10.0.2.1', '--dport', '81'],
      deleteArgs(natted),
      deleteArgs(sharesNatGroup),
    ]);
    expect(deleteLines([], plain)).toEqual([]);
  });
});
