import { describe, expect, it } from '@jest/globals';
import { parseChain } from '../../../src/config/cni-chain.js';
import { chooseCniVersion, commonVersions, hubCapabilities, planConflist, type ConflistSettings, type PluginVersions } from '../../../src/templates/chain-plan.js';

const settings: ConflistSettings = {
  cniVersion: '1.0.0',
  cniVersions: ['0.4.0', '1.0.0', '1.1.0'],
  networkName: 'hub',
  socket: '/run/hub.sock',
  vethPrefix: 'cali',
  mtu: 1500,
  cniLogFile: '/var/log/hub.log',
  cniBinDirs: ['/opt/cni/bin', '/usr/lib/cni'],
};
const chain = (...entries: Record<string, unknown>[]) => parseChain(entries, (i) => `chain[${String(i)}]`, 'chain');
/** What Debian's containernetworking-plugins 1.1.1 answer to VERSION. */
const debian: PluginVersions = { ok: true, binary: '/usr/lib/cni/x', supported: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0'] };
const versions = (types: string[], v: PluginVersions = debian) => new Map(types.map((t) => [t, v]));

describe('planConflist', () => {
  it('without a chain: the daemon config versions and the hub claiming bandwidth (as before)', () => {
    const p = planConflist(settings, { items: [] }, new Map());
    expect(p.shaping).toBe(true);
    expect(p.context).toMatchObject({ cniVersion: '1.0.0', cniVersions: ['0.4.0', '1.0.0', '1.1.0'], capabilities: { bandwidth: true }, chain: [] });
  });
  it('with portmap + tuning: their order kept, only the versions all support (no 1.1.0 with Debian portmap)', () => {
    const p = planConflist(settings, { items: chain({ type: 'portmap', capabilities: { portMappings: true } }, { type: 'tuning' }) }, versions(['portmap', 'tuning']));
    expect(p.context.cniVersions).toEqual(['0.4.0', '1.0.0']);
    expect(p.context.cniVersion).toBe('1.0.0');
    expect(p.context.chain.map((e) => e.type)).toEqual(['portmap', 'tuning']);
    expect(p.context.capabilities).toEqual({ bandwidth: true });
  });
  it('a chained shaper (type bandwidth, or a bandwidth capability): the hub neither claims it nor shapes', () => {
    for (const entry of [{ type: 'bandwidth', capabilities: { bandwidth: true } }, { type: 'my-shaper', capabilities: { bandwidth: true } }]) {
      const p = planConflist(settings, { items: chain(entry) }, versions([entry.type]));
      expect(p.shaping).toBe(false);
      expect(p.context.shaping).toBe(false);
      expect(p.context.capabilities).toEqual({});
    }
  });
  it("merges the terway entry's capabilities into the hub's", () => {
    expect(hubCapabilities({ portMappings: true }, false)).toEqual({ bandwidth: true, portMappings: true });
    expect(hubCapabilities({ bandwidth: false }, false)).toEqual({ bandwidth: false });
    expect(hubCapabilities({ portMappings: true }, true)).toEqual({ portMappings: true });
  });
  it('refuses a missing binary or no common version, naming the entry, the binary and the dirs', () => {
    const items = chain({ type: 'portmap' });
    expect(() => commonVersions(settings.cniVersions, items, new Map([['portmap', { ok: false, problem: 'no executable "portmap" found' }]]), settings.cniBinDirs)).toThrow(
      /chain\[0\]\.type.*no executable "portmap" found \(searched \/opt\/cni\/bin, \/usr\/lib\/cni\)/u,
    );
    const old: PluginVersions = { ok: true, binary: '/opt/cni/bin/portmap', supported: ['0.1.0', '0.2.0'] };
    expect(() => commonVersions(settings.cniVersions, items, new Map([['portmap', old]]), settings.cniBinDirs)).toThrow(/\/opt\/cni\/bin\/portmap\) supports CNI versions \[0\.1\.0, 0\.2\.0\]/u);
  });
  it('keeps the configured cniVersion when the chain supports it, else the highest common one below it', () => {
    expect(chooseCniVersion('1.0.0', ['0.4.0', '1.0.0'])).toBe('1.0.0');
    expect(chooseCniVersion('1.1.0', ['0.4.0', '1.0.0'])).toBe('1.0.0');
    expect(chooseCniVersion('0.3.1', ['0.4.0', '1.0.0'])).toBe('1.0.0');
  });
});
