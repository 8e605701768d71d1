import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProcessRunner } from '../../../src/lib/exec.js';
import { ExecError } from '../../../src/lib/errors.js';
import { toolEnv, which } from '../../../src/lib/which.js';

describe('which', () => {
  it('finds system tools by absolute path; a PATH entry cannot shadow them, a relative one is never searched', () => {
    const dir = mkdtempSync(join(tmpdir(), 'which-'));
    for (const f of ['sh', 'hub-only-here']) {
      writeFileSync(join(dir, f), '#!/bin/sh\n');
      chmodSync(join(dir, f), 0o755);
    }
    expect(which('sh', dir)).toMatch(/^\/(usr\/)?bin\/sh$/u);
    expect(which('hub-only-here', `relative/dir:${dir}`)).toBe(join(dir, 'hub-only-here'));
    expect(which('hub-not-anywhere', dir)).toBeUndefined();
    expect(which('./x')).toBe('./x');
  });

  it('pins the C locale for every tool', () => {
    expect(toolEnv({ PATH: '/bin', LANG: 'de_DE.UTF-8', LC_MESSAGES: 'de_DE.UTF-8', LANGUAGE: 'de' })).toEqual({ PATH: '/bin', LANG: 'C', LC_ALL: 'C' });
  });

  it('the process runner runs under LC_ALL=C and refuses a tool it cannot find, naming it', async () => {
    const runner = createProcessRunner();
    const out = await runner.run({ file: 'sh', args: ['-c', 'echo "$LC_ALL"'] });
    expect(out.stdout.trim()).toBe('C');
    await expect(runner.run({ file: 'hub-no-such-tool', args: [] })).rejects.toThrow(ExecError);
    await expect(runner.run({ file: 'hub-no-such-tool', args: [] })).rejects.toThrow(/hub-no-such-tool: not found/u);
  });
});
