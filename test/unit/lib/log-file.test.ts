import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileLogSink } from '../../../src/lib/log-file.js';

describe('fileLogSink (the plugin log file, bounded)', () => {
  it('appends, and renames a file larger than the bound to .1 before the first line', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hub-log-')), 'cni.log');
    const a = fileLogSink(file, 100);
    a.write('one\n');
    a.write('two\n');
    expect(readFileSync(file, 'utf8')).toBe('one\ntwo\n');
    writeFileSync(file, 'x'.repeat(101));
    const b = fileLogSink(file, 100);
    b.write('fresh\n');
    b.write('y'.repeat(200)); // one check per invocation: no rotation mid-invocation
    expect(readFileSync(`${file}.1`, 'utf8')).toBe('x'.repeat(101));
    expect(statSync(file).size).toBe(6 + 200);
    const c = fileLogSink(file, 100);
    c.write('next\n');
    expect(readFileSync(file, 'utf8')).toBe('next\n');
    expect(readFileSync(`${file}.1`, 'utf8')).toBe(`fresh\n${'y'.repeat(200)}`);
  });

  it('costs nothing when nothing is logged', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hub-log-')), 'cni.log');
    fileLogSink(file, 1);
    expect(existsSync(file)).toBe(false);
  });
});
