/**
 * `terway-hub install-cni --from SRC --to DIR [--name NAME]`: the DaemonSet's init step. Copies the plugin binary
 * into the host's CNI bin dir the way the daemon writes its conflist (temp file in DIR, fsync, rename, fsync of DIR),
 * so kubelet never runs a half-written plugin and a power loss leaves either the old or the new binary.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../daemon/install.js';
import { ConfigError } from '../lib/errors.js';

export const INSTALL_CNI_USAGE = '--from SRC --to DIR [--name NAME]   install the plugin binary atomically (fsync\'d) as DIR/NAME';

export async function installCni(argv: readonly string[], out: (line: string) => void): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: { from: { type: 'string' }, to: { type: 'string' }, name: { type: 'string' } } });
  if (values.from === undefined || values.to === undefined) throw new ConfigError('install-cni', `usage: terway-hub install-cni ${INSTALL_CNI_USAGE}`);
  const name = values.name ?? basename(values.from);
  if (name === '' || name.includes('/') || name.startsWith('.')) throw new ConfigError('install-cni --name', `must be a plain file name; got ${JSON.stringify(name)}`);
  const content = await readFile(values.from);
  const path = await writeFileAtomic(values.to, name, content, 0o755);
  out(`installed ${values.from} as ${path} (${String(content.length)} bytes)`);
  return 0;
}
