/**
 * Golden files of the rendered policy artefacts (test/unit/policy/golden). Tests compare against the committed
 * file; `UPDATE_GOLDEN=1` rewrites them (review the diff before committing). A missing golden file fails.
 */
import { expect } from '@jest/globals';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'golden');

export function expectGolden(name: string, actual: string): void {
  const file = join(GOLDEN_DIR, name);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file)) throw new Error(`golden file ${file} is missing (run with UPDATE_GOLDEN=1 and review it)`);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

export function json(v: unknown): string {
  return `${JSON.stringify(v, null, 2)}\n`;
}
