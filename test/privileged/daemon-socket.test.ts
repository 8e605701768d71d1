/**
 * The daemon's socket as a boundary: root only, by the socket's own mode (0600), and readable by an operator with
 * curl (HTTP/1.1 + JSON, docs/adr/0006-plugin-daemon-http1.md). The real daemon, the real plugin binary (bun's
 * fetch) and curl, run as root and as user nobody (setpriv).
 */
import { chmodSync, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { callPlugin, PLUGIN, pluginStdin, startDaemon, type RunningDaemon } from '../helpers/hub.js';
import { hasCommand, shTry, type Ran } from '../helpers/exec.js';
import { describePrivileged } from '../helpers/privilege.js';

const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups', '--'];

const d = describePrivileged(
  'the daemon socket',
  [existsSync(PLUGIN), `plugin binary missing at ${PLUGIN}: run npm run build`],
  [hasCommand('curl'), 'curl is not installed'],
  [hasCommand('setpriv'), 'setpriv (util-linux) is not installed'],
);

d('the daemon socket', () => {
  let daemon: RunningDaemon;
  let stdin: string;

  beforeAll(async () => {
    daemon = await startDaemon({ mode: 'vpc', podCIDR: '10.214.0.0/24' });
    stdin = pluginStdin(daemon.conflist(), { cniVersion: '1.1.0' });
  });
  afterAll(async () => {
    await daemon.stop();
    daemon.cleanup();
  });

  const curl = (asNobody: boolean, path: string): Ran => shTry(asNobody ? 'setpriv' : 'curl', [...(asNobody ? [...NOBODY, 'curl'] : []), '-sS', '--unix-socket', daemon.socket, `http://localhost${path}`]);
  /** CNI STATUS through the plugin binary: one GET /v1/status over bun's fetch. */
  const pluginStatus = (asNobody: boolean): Ran & { json: unknown } =>
    asNobody ? { ...shTry('setpriv', [...NOBODY, PLUGIN], { input: stdin, env: { PATH: process.env.PATH ?? '', CNI_COMMAND: 'STATUS', CNI_PATH: '/opt/cni/bin' } }), json: undefined } : callPlugin({ command: 'STATUS' }, stdin);

  it('an operator reads the daemon with curl --unix-socket: GET /v1/status is the status as JSON', () => {
    const r = curl(false, '/v1/status');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ready: true, mode: 'vpc' });
    const unknown = curl(false, '/v1/nope');
    expect(JSON.parse(unknown.stdout)).toMatchObject({ code: 'not-found' });
    expect(pluginStatus(false)).toMatchObject({ code: 0, stdout: '' });
  });

  it('a non-root caller is refused by the socket\'s own mode (EACCES), even when its directories are open', () => {
    const dirs = [dirname(daemon.socket), dirname(dirname(daemon.socket))];
    const modes = dirs.map((p) => statSync(p).mode & 0o777);
    expect(statSync(daemon.socket).mode & 0o777).toBe(0o600);
    expect(statSync(daemon.socket).uid).toBe(0);
    try {
      for (const p of dirs) chmodSync(p, 0o755); // only the socket's mode stands between nobody and the daemon
      const plugin = pluginStatus(true);
      expect(plugin.code).toBe(1);
      expect(JSON.parse(plugin.stdout)).toMatchObject({ code: 50, msg: 'daemon unavailable', details: expect.stringContaining(`daemon unreachable at ${daemon.socket} (EACCES)`) as unknown });
      const c = curl(true, '/v1/status');
      expect(c.code).toBe(7); // curl: could not connect
      expect(c.stderr).toMatch(/Permission denied|Couldn't connect/u);

      // the control: the same caller gets through once the mode allows it, so the refusal above was the mode's
      chmodSync(daemon.socket, 0o666);
      expect(pluginStatus(true)).toMatchObject({ code: 0, stdout: '' });
      expect(JSON.parse(curl(true, '/v1/status').stdout)).toMatchObject({ ready: true });
    } finally {
      chmodSync(daemon.socket, 0o600);
      dirs.forEach((p, i) => { chmodSync(p, modes[i] ?? 0o700); });
    }
  });
});
