/**
 * One daemon per state directory: a second daemon on the same config refuses at once (non-zero exit, naming the
 * PID of the one holding the lock) without touching the first's socket, store or conflist; the first keeps
 * serving. After the first is killed with SIGKILL (no clean-up of its own), the kernel has dropped the lock: a new
 * daemon starts on the same state dir.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, NODE, PLUGIN, startDaemon, type RunningDaemon } from '../helpers/hub.js';
import { shTry } from '../helpers/exec.js';
import { describePrivileged } from '../helpers/privilege.js';

const d = describePrivileged('two daemons', [existsSync(PLUGIN), `plugin binary missing at ${PLUGIN}: run npm run build`]);

d('two daemons on one state dir', () => {
  let first: RunningDaemon;

  beforeAll(async () => {
    first = await startDaemon({ mode: 'vpc', podCIDR: '10.215.7.0/24' });
  });

  afterAll(async () => {
    await first.stop();
    first.cleanup();
  });

  const status = (): ReturnType<typeof shTry> => shTry(NODE, [CLI, 'status', '--socket', first.socket, '--json']);

  it('the second refuses, naming the first PID; the first keeps serving', () => {
    const holder = Number(readFileSync(join(first.dir, 'state', 'daemon.pid'), 'utf8').trim());
    expect(readFileSync(`/proc/${String(holder)}/cmdline`, 'utf8')).toContain(first.configPath);
    const socketBefore = statSync(first.socket).ino;

    const second = shTry(NODE, [CLI, 'daemon', '--config', first.configPath], { timeoutMs: 20_000 });
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(`another terway-hub daemon (PID ${String(holder)}) holds ${join(first.dir, 'state', 'daemon.lock')}`);

    expect(statSync(first.socket).ino).toBe(socketBefore); // not unlinked and re-bound
    expect(existsSync(first.conflistPath)).toBe(true);
    const st = status();
    expect({ code: st.code, out: st.stdout }).toMatchObject({ code: 0 });
    expect(JSON.parse(st.stdout)).toMatchObject({ ready: true, mode: 'vpc' });
  });

  it('a SIGKILLed holder leaves no stale lock: the next daemon starts', async () => {
    const holder = Number(readFileSync(join(first.dir, 'state', 'daemon.pid'), 'utf8').trim());
    process.kill(holder, 'SIGKILL');
    await first.stop(); // waits for the exit (the process is gone: nothing ran on its way out)
    expect(existsSync(join(first.dir, 'state', 'daemon.lock'))).toBe(true); // the file stays; the lock died with the process
    await first.restart();
    expect(JSON.parse(status().stdout)).toMatchObject({ ready: true });
  });
});
