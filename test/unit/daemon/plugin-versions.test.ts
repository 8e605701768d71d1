/** The chain's plugins asked VERSION for real: Debian's reference plugins in /usr/lib/cni (no root needed). */
import { describe, expect, it } from '@jest/globals';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseChain } from '../../../src/config/cni-chain.js';
import { PluginVersionProbe, parseVersionAnswer } from '../../../src/daemon/plugin-versions.js';
import { createProcessRunner } from '../../../src/lib/exec.js';
import { planConflist } from '../../../src/templates/chain-plan.js';
import { describeIf } from '../../helpers/privilege.js';
import { tempDir } from '../../helpers/tmp.js';

const REF = '/usr/lib/cni';
const d = describeIf(['portmap', 'tuning', 'firewall', 'bandwidth'].every((p) => existsSync(join(REF, p))), `needs Debian's containernetworking-plugins in ${REF}`);
const items = parseChain([{ type: 'portmap', capabilities: { portMappings: true } }, { type: 'tuning' }, { type: 'firewall' }, { type: 'bandwidth', capabilities: { bandwidth: true } }], (i) => `chain[${String(i)}]`, 'chain');

d('PluginVersionProbe with the reference plugins', () => {
  it('asks each binary VERSION; the rendered conflist offers only what all support (no 1.1.0 with portmap 1.1.1)', async () => {
    const probe = new PluginVersionProbe({ runner: createProcessRunner() });
    const dirs = ['/nonexistent/cni', REF];
    const v = await probe.versionsOf(items, dirs, '1.1.0');
    for (const t of ['portmap', 'tuning', 'firewall', 'bandwidth']) {
      expect(v.get(t)).toMatchObject({ ok: true, binary: join(REF, t), supported: expect.arrayContaining(['0.4.0', '1.0.0']) });
      expect((v.get(t) as { supported: readonly string[] } | undefined)?.supported).not.toContain('1.1.0');
    }
    const plan = planConflist(
      { cniVersion: '1.0.0', cniVersions: ['0.4.0', '1.0.0', '1.1.0'], networkName: 'n', socket: '/s', vethPrefix: 'cali', mtu: 1500, cniLogFile: '/l', cniBinDirs: dirs },
      { items },
      v,
    );
    expect(plan.context.cniVersions).toEqual(['0.4.0', '1.0.0']);
    expect(plan.shaping).toBe(false);
  });
  it('reports a type found in no dir, and a binary whose VERSION answer is not one', async () => {
    const dir = tempDir('hub-pv-');
    const fake = join(dir, 'liar');
    writeFileSync(fake, '#!/bin/sh\necho not-json\n');
    chmodSync(fake, 0o755);
    const probe = new PluginVersionProbe({ runner: createProcessRunner() });
    const v = await probe.versionsOf(parseChain([{ type: 'nosuch' }, { type: 'liar' }], (i) => `c[${String(i)}]`, 'c'), [dir], '1.0.0');
    expect(v.get('nosuch')).toEqual({ ok: false, problem: 'no executable "nosuch" found' });
    expect(v.get('liar')).toMatchObject({ ok: false, problem: expect.stringContaining('VERSION answered no JSON') });
  });
});

describe('parseVersionAnswer', () => {
  it('reads supportedVersions, the legacy 0.2.0 answer, and refuses garbage', () => {
    expect(parseVersionAnswer('{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}')).toEqual(['0.4.0', '1.0.0']);
    expect(parseVersionAnswer('{"cniVersion":"0.2.0"}')).toEqual(['0.1.0', '0.2.0']);
    expect(parseVersionAnswer('{"supportedVersions":["x"]}')).toMatch(/not a list of versions/u);
  });
});
