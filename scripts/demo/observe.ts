/**
 * What an operator sees through the CLI (`terway-hub status`, `why` when this build has it, `policy verify`) and
 * what the builtin NetworkPolicy backend programmed into nftables.
 */
import { CLI, NODE, type RunningDaemon } from '../../test/helpers/hub.js';
import { BUILTIN_TABLE } from './host.js';
import { run, say } from './ui.js';

export function cli(daemon: RunningDaemon, args: readonly string[]): { code: number; stdout: string; stderr: string } {
  return run([NODE, CLI, ...args, '--socket', daemon.socket]);
}

export function showStatus(daemon: RunningDaemon): void {
  const r = cli(daemon, ['status']);
  say(`$ terway-hub status   (exit ${String(r.code)})`);
  for (const l of r.stdout.trimEnd().split('\n')) say(`  ${l}`);
}

/** `terway-hub why NS/POD` when this build has the command; says so when it does not. */
export function showWhy(daemon: RunningDaemon, pod: string): void {
  const help = run([NODE, CLI, 'help']).stdout;
  if (!/^ {2}why\b/mu.test(help)) {
    say('(`terway-hub why NS/POD` is not in this build yet: skipped)');
    return;
  }
  const r = cli(daemon, ['why', pod]);
  say(`$ terway-hub why ${pod}   (exit ${String(r.code)})`);
  for (const l of `${r.stdout}${r.stderr}`.trimEnd().split('\n')) say(`  ${l}`);
}

/** The builtin backend's table in brief: each chain with its rule count, each set with its element count. */
export function showTable(): void {
  const r = run(['nft', 'list', 'table', ...BUILTIN_TABLE]);
  if (r.code !== 0) {
    say(`(no nftables table ${BUILTIN_TABLE.join(' ')}: ${r.stderr.trim()})`);
    return;
  }
  say(`$ nft list table ${BUILTIN_TABLE.join(' ')}   (in brief: ${String(r.stdout.split('\n').length)} lines)`);
  const blocks = r.stdout.split(/^\s*(?=(?:chain|set|map) \S+ \{)/mu).slice(1);
  for (const b of blocks) {
    const [, kind = '', name = ''] = /^(chain|set|map) (\S+)/u.exec(b) ?? [];
    if (kind === 'chain') {
      const rules = b.split('\n').slice(1).filter((l) => l.trim() !== '' && l.trim() !== '}' && !/^\s*(type|policy) /u.test(l));
      say(`  chain ${name.padEnd(24)} ${String(rules.length)} rules`);
    } else {
      const elements = /elements = \{([^}]*)\}/u.exec(b)?.[1];
      say(`  ${kind.padEnd(5)} ${name.padEnd(24)} ${String(elements === undefined ? 0 : elements.split(',').length)} elements`);
    }
  }
}

export function verify(daemon: RunningDaemon): { ok: boolean; text: string } {
  const r = cli(daemon, ['policy', 'verify']);
  return { ok: r.code === 0, text: `${r.stdout}${r.stderr}`.trim() };
}
