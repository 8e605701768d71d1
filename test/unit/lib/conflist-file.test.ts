import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNetworkConflist } from '../../../src/lib/conflist-file.js';
import { tempDir } from '../../helpers/tmp.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('readNetworkConflist (as libcni LoadConfList finds a network)', () => {
  it('takes the first *.conflist in lexical order whose name matches; skips other names, other suffixes and broken files', async () => {
    const d = tempDir('hub-confs-');
    dirs.push(d);
    writeFileSync(join(d, '00-broken.conflist'), '{');
    writeFileSync(join(d, '05-other.conflist'), JSON.stringify({ name: 'other', plugins: [{ type: 'x' }] }));
    writeFileSync(join(d, '07-single.conf'), JSON.stringify({ name: 'net', type: 'terway-hub' }));
    writeFileSync(join(d, '.10-net.conflist.123.tmp'), JSON.stringify({ name: 'net', plugins: [{ type: 'tmp' }] }));
    writeFileSync(join(d, '20-net.conflist'), JSON.stringify({ name: 'net', plugins: [{ type: 'terway-hub' }, { type: 'bandwidth' }] }));
    writeFileSync(join(d, '10-net.conflist'), JSON.stringify({ name: 'net', plugins: [{ type: 'terway-hub' }] }));
    mkdirSync(join(d, '15-dir.conflist'));
    expect(await readNetworkConflist(d, 'net')).toEqual({ file: join(d, '10-net.conflist'), plugins: [{ type: 'terway-hub' }] });
    expect(await readNetworkConflist(d, 'none')).toBeUndefined();
    expect(await readNetworkConflist(join(d, 'missing'), 'net')).toBeUndefined();
  });
});
