import { createHash } from 'node:crypto';
import { sha1Hex } from '../../../src/lib/sha1.js';
import { stableMac, vethName } from '../../../src/lib/veth-name.js';
import { dataplaneFor } from '../../../src/modes/registry.js';
import { node, spec, vpcAlloc, vprAlloc } from './fixtures.js';

describe('vethName (Terway/Calico vectors)', () => {
  it.each([
    ['eni', 'namespace', 'podname', 'eni82111e10a96'],
    ['cali', 'default', 'nginx', 'calic440f455693'],
    ['cali', 'kube-system', 'coredns-5d78c9869d-abcde', 'cali4d5f75c480c'],
  ])('%s %s/%s → %s', (prefix, namespace, name, want) => {
    expect(vethName(prefix, { namespace, name })).toBe(want);
  });

  it('adds the ifName for non-eth0 interfaces', () => {
    expect(vethName('cali', { namespace: 'default', name: 'nginx' }, 'eth1')).not.toBe('calic440f455693');
  });

  it('every dataplane names the host veth the same way', () => {
    expect(dataplaneFor('vpc').planSetup(spec, vpcAlloc, node).result.interfaces[0]?.name).toBe('calic440f455693');
    expect(dataplaneFor('veth-policy-routing').planSetup(spec, vprAlloc, node).result.interfaces[0]?.name).toBe('calic440f455693');
    expect(dataplaneFor('vpc').shapingTarget(spec, node, vpcAlloc)).toMatchObject({ kind: 'host-veth', hostIf: 'calic440f455693' });
  });

  it('stable MACs are locally administered unicast and distinct per side', () => {
    const h = stableMac('calic440f455693', 'host');
    expect(h).toMatch(/^ee(:[0-9a-f]{2}){5}$/u);
    expect(stableMac('calic440f455693', 'host')).toBe(h);
    expect(stableMac('calic440f455693', 'pod')).not.toBe(h);
  });
});

describe('sha1Hex (plain TS, for the plugin start-up)', () => {
  it.each(['', 'abc', 'default.nginx', 'a'.repeat(55), 'b'.repeat(56), 'c'.repeat(64), 'd'.repeat(119), 'ünïcødé.pöd', `${'x'.repeat(300)}.y`])('matches node:crypto for %j', (s) => {
    expect(sha1Hex(s)).toBe(createHash('sha1').update(s, 'utf8').digest('hex'));
  });
});
