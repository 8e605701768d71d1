/**
 * The reference CNI plugins (Debian's containernetworking-plugins in /usr/lib/cni) run as a runtime runs them: the
 * config on stdin, the CNI_* environment, the result JSON on stdout. One place for the benches that compare with them.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const REF = '/usr/lib/cni';

type Result = Record<string, unknown> | undefined;

const envOf = (command: string, env: Record<string, string>): NodeJS.ProcessEnv => ({ PATH: process.env.PATH ?? '', CNI_COMMAND: command, CNI_PATH: REF, ...env });

function resultOf(plugin: string, command: string, code: number | null, out: string, err: string): Result {
  if (code !== 0) throw new Error(`${plugin} ${command} failed: ${out} ${err}`);
  return out.trim() ? (JSON.parse(out) as Record<string, unknown>) : undefined;
}

export function refExec(plugin: string, command: string, env: Record<string, string>, conf: unknown): Result {
  const r = spawnSync(join(REF, plugin), [], { input: JSON.stringify(conf), encoding: 'utf8', env: envOf(command, env) });
  return resultOf(plugin, command, r.status, r.stdout, r.stderr);
}

/** refExec without blocking the event loop (many pods at once). */
export function refExecAsync(plugin: string, command: string, env: Record<string, string>, conf: unknown): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(REF, plugin), [], { env: envOf(command, env), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve(resultOf(plugin, command, code, out, err));
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
    child.stdin.end(JSON.stringify(conf));
  });
}
