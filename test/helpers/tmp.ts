/** Throwaway directories (the caller removes them). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix = 'hub-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
