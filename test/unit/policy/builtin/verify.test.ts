/**
 * `policy verify`'s comparison over real `nft -j list table` output (fixtures/: written by make-listings.ts with
 * the real nft from the compiled ruleset of fixtures/model.ts, then tampered with by hand): the same table reads
 * back equal whatever its handles; a port replaced in a rule, a set element deleted or swapped for another (counts
 * and comments unchanged) are drift naming the chain and rule or the set and element.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileRuleset } from '../../../../src/policy/builtin/compile.js';
import { summarizeListing, valueText, type ProgrammedTable } from '../../../../src/policy/builtin/listing.js';
import { tableDrift } from '../../../../src/policy/builtin/verify.js';
import { FIXTURE_INPUT } from './fixtures/model.js';

const DIR = fileURLToPath(new URL('fixtures', import.meta.url));
const TABLE = 'inet terway-hub';
const json = (name: string): { nftables: Record<string, Record<string, unknown>>[] } => JSON.parse(readFileSync(join(DIR, name), 'utf8')) as { nftables: Record<string, Record<string, unknown>>[] };
function table(listing: unknown): ProgrammedTable {
  const t = summarizeListing(listing, TABLE);
  if (t === undefined) throw new Error('no table in the listing');
  return t;
}
const applied = table(json('listing.json'));

describe('nft listing summary', () => {
  it('the fixtures are the current compiler\'s (else regenerate them with make-listings.ts)', () => {
    expect(compileRuleset(FIXTURE_INPUT).text).toBe(readFileSync(join(DIR, 'ruleset.nft'), 'utf8'));
  });

  it('reads every chain, rule and set element the compiled ruleset has', () => {
    const compiled = compileRuleset(FIXTURE_INPUT);
    expect(applied.rules).toBe(compiled.rules);
    expect(Object.keys(applied.sets)).toHaveLength(compiled.sets);
    expect(Object.values(applied.sets).reduce((n, s) => n + s.elements.length, 0)).toBe(compiled.elements);
    expect(applied.chains['ingress_forward']).toEqual({
      decl: 'type filter hook forward prio 0 policy accept',
      rules: [{ text: 'ct state in { established, related } accept', comment: undefined }, { text: 'meta oifname vmap @ingress_pods', comment: undefined }],
    });
    expect(applied.chains['np0_in']?.rules[0]).toEqual({ text: 'ip saddr == @np0_in_0_peers_v4 meta l4proto . th dport == @np0_in_0_ports accept', comment: 'x/web ingress[0]' });
    expect(applied.sets['np1_eg_0_peers_v4']).toEqual({ decl: 'set type ipv4_addr flags { interval }', elements: ['10.0.0.0/24', '10.0.2.0-10.0.255.255'] });
    expect(applied.sets['ingress_pods']?.elements).toEqual(['veth-xa : jump pod0_in', 'veth-xb : jump pod1_in']);
    expect(summarizeListing({ nftables: [{ metainfo: {} }] }, TABLE)).toBeUndefined();
  });

  it('shapes it does not know keep all their content (key-sorted)', () => {
    expect(valueText({ counter: { packets: 3, bytes: 180 } })).toBe('counter(bytes=180 packets=3)');
    expect(valueText({ payload: { base: 'nh', offset: 96, len: 32 } })).toBe('payload(base=nh len=32 offset=96)');
    expect(valueText({ a: 1, b: [2, 'x'] })).toBe('(a=1 b={ 2, x })');
  });
});

describe('tableDrift over real listings', () => {
  it('none for the same table, whatever its handles and the listing\'s metainfo', () => {
    const renumbered = json('listing.json');
    for (const item of renumbered.nftables) for (const body of Object.values(item)) if (typeof body['handle'] === 'number') body['handle'] += 100;
    renumbered.nftables[0] = { metainfo: { version: '9.9' } };
    expect(tableDrift('host', applied, table(renumbered))).toEqual([]);
  });

  it('a port replaced in a rule by hand (`nft replace rule`, comment kept) names the chain, the rule and both matches', () => {
    const now = table(json('listing-port-replaced.json'));
    expect(now.rules).toBe(applied.rules);
    expect(tableDrift('host', applied, now)).toEqual([
      'host: chain np0_in rule 0 ("x/web ingress[0]") is `ip saddr == @np0_in_0_peers_v4 meta l4proto . th dport == { tcp . 8080 } accept # x/web ingress[0]`, ' +
        'the model gives `ip saddr == @np0_in_0_peers_v4 meta l4proto . th dport == @np0_in_0_ports accept # x/web ingress[0]`',
    ]);
  });

  it('a set element deleted names the set and the element', () => {
    expect(tableDrift('host', applied, table(json('listing-element-deleted.json')))).toEqual([
      'host: set np1_eg_0_ports holds 1 elements, the model gives 2',
      'host: set np1_eg_0_ports lacks udp . 53',
    ]);
  });

  it('an element swapped for another (same count) names both', () => {
    expect(tableDrift('host', applied, table(json('listing-element-swapped.json')))).toEqual([
      'host: set np1_eg_0_ports lacks udp . 53',
      'host: set np1_eg_0_ports holds udp . 54, which the model does not give',
    ]);
  });

  it('a rule added, a base chain\'s policy changed, a set and a chain gone, a counter added', () => {
    const edited = json('listing.json');
    const items = edited.nftables;
    const accept = items.find((i) => i['rule']?.['chain'] === 'ingress_forward');
    if (accept === undefined) throw new Error('no ingress_forward rule');
    items.push({ rule: { ...accept['rule'], handle: 999, expr: [{ accept: null }] } });
    const hook = items.find((i) => i['chain']?.['name'] === 'egress_input');
    if (hook?.['chain'] !== undefined) hook['chain']['policy'] = 'drop';
    edited.nftables = items.filter((i) => i['set']?.['name'] !== 'node_v4' && i['chain']?.['name'] !== 'pod2_eg' && i['rule']?.['chain'] !== 'pod2_eg');
    edited.nftables.push({ counter: { family: 'inet', table: 'terway-hub', name: 'c1', handle: 1000, packets: 0, bytes: 0 } });
    expect(tableDrift('host', applied, table(edited))).toEqual([
      'host: chain egress_input is "type filter hook input prio -1 policy drop", the model gives "type filter hook input prio -1 policy accept"',
      'host: chain ingress_forward has 3 rules, the model gives 2',
      'host: chain ingress_forward has a rule the model does not give: `accept`',
      'host: missing chain pod2_eg',
      'host: missing set node_v4',
      'host: extra counter c1',
    ]);
  });

  it('a missing or an extra table', () => {
    expect(tableDrift('host', applied, undefined)).toEqual(['host: missing table inet terway-hub']);
    expect(tableDrift('host', undefined, applied)).toEqual(['host: extra table inet terway-hub (the model programs none here)']);
    expect(tableDrift('host', undefined, undefined)).toEqual([]);
  });
});
