/**
 * The standalone plugin binary against malformed input (the right CNI error code, nothing changed on the host),
 * and DEL while the daemon is down (host cleaned, release recorded, finished by the daemon when it is back).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callPlugin, PLUGIN, pluginStdin, startDaemon, type CniCall, type RunningDaemon } from '../helpers/hub.js';
import { diffHost, snapshotHost } from '../helpers/host-state.js';
import { createNetns, type TestNetns } from '../helpers/netns.js';
import { shTry } from '../helpers/exec.js';
import { rand, testSubnet } from '../helpers/names.js';
import { describePrivileged } from '../helpers/privilege.js';
import { waitFor } from '../helpers/wait.js';

const d = describePrivileged('plugin binary contract tests', [existsSync(PLUGIN), `plugin binary missing at ${PLUGIN}: run npm run build`]);

d('the plugin binary', () => {
  const tag = rand();
  let daemon: RunningDaemon;
  let ns: TestNetns;
  const subnet = testSubnet('10.213').subnet3;

  // A digit in the prefix (issue 7, defect 5: the plugin refused what the daemon wrote); host links are vi0…, netns vi…
  const notANetns = join(mkdtempSync(join(tmpdir(), 'hub-notns-')), 'file');
  writeFileSync(notANetns, 'a regular file, not a namespace');

  beforeAll(async () => {
    daemon = await startDaemon({ mode: 'vpc', podCIDR: `${subnet}.0/24`, extra: { vethPrefix: 'vi0' } });
    ns = createNetns(`vic-${tag}`);
  });
  afterAll(async () => {
    ns.remove();
    await daemon.stop();
    daemon.cleanup();
  });

  interface Bad {
    readonly what: string;
    readonly call: Partial<CniCall>;
    readonly stdin?: (good: Record<string, unknown>) => string;
    readonly code: number;
    readonly msg?: RegExp;
  }
  const good = (): CniCall => ({ command: 'ADD', containerId: `bad${tag}`, netns: ns.path, ifName: 'eth0', args: 'IgnoreUnknown=1' });
  const table: Bad[] = [
    { what: 'undecodable JSON', call: {}, stdin: () => '{"cniVersion":"1.0.0",', code: 6 },
    { what: 'missing env vars (all named)', call: { containerId: undefined, netns: undefined, ifName: undefined } as never, code: 4, msg: /CNI_CONTAINERID.*CNI_NETNS.*CNI_IFNAME/u },
    { what: 'unsupported version', call: {}, stdin: (c) => JSON.stringify({ ...c, cniVersion: '0.2.0' }), code: 1 },
    { what: 'missing version', call: {}, stdin: (c) => JSON.stringify({ ...c, cniVersion: undefined }), code: 1 },
    { what: 'missing network name', call: {}, stdin: (c) => JSON.stringify({ ...c, name: undefined }), code: 7 },
    { what: 'interface name longer than 15', call: { ifName: 'eth0123456789012' }, code: 4 },
    { what: 'interface name ..', call: { ifName: '..' }, code: 4 },
    { what: 'interface name with /', call: { ifName: 'et/h0' }, code: 4 },
    { what: 'interface name with :', call: { ifName: 'eth:0' }, code: 4 },
    { what: 'interface name with a space', call: { ifName: 'eth 0' }, code: 4 },
    { what: 'container id with shell metacharacters', call: { containerId: 'x;rm -rf /' }, code: 4 },
    { what: 'container id with $()', call: { containerId: '$(reboot)' }, code: 4 },
    { what: 'relative netns path', call: { netns: 'var/run/netns/x' }, code: 4 },
    { what: 'unknown CNI_ARGS key without IgnoreUnknown', call: { args: 'FOO=bar' }, code: 4, msg: /CNI_ARGS/u },
    { what: 'CHECK on 0.3.1', call: { command: 'CHECK' }, stdin: (c) => JSON.stringify({ ...c, cniVersion: '0.3.1' }), code: 1 },
    { what: 'STATUS on 1.0.0', call: { command: 'STATUS' }, stdin: (c) => JSON.stringify({ ...c, cniVersion: '1.0.0' }), code: 1 },
    { what: 'unknown command', call: { command: 'FROB' }, code: 4 },
    { what: 'socket is not absolute', call: {}, stdin: (c) => JSON.stringify({ ...c, socket: 'daemon.sock' }), code: 7 },
    // issue 7's corpus
    { what: 'interface name of 8 × é (16 bytes)', call: { ifName: 'éééééééé' }, code: 4, msg: /bytes/u },
    { what: 'netns that does not exist', call: { netns: `/var/run/netns/vi-missing-${tag}` }, code: 4, msg: /does not exist/u },
    { what: 'netns that is a regular file', call: { netns: notANetns }, code: 4, msg: /not a namespace/u },
    { what: 'CHECK netns that does not exist', call: { command: 'CHECK', netns: `/var/run/netns/vi-missing-${tag}` }, code: 4 },
  ];

  it.each(table)('$what -> code $code, host unchanged', ({ call, stdin, code, msg }) => {
    const conf = JSON.parse(pluginStdin(daemon.conflist())) as Record<string, unknown>;
    const before = snapshotHost();
    const r = callPlugin({ ...good(), ...call }, stdin ? stdin(conf) : JSON.stringify(conf));
    expect(r.code).not.toBe(0);
    const err = r.json as { code: number; msg: string; details?: string };
    expect(err.code).toBe(code);
    expect(typeof err.msg).toBe('string');
    if (msg) expect(`${err.msg} ${err.details ?? ''}`).toMatch(msg);
    expect(diffHost(before, snapshotHost())).toEqual({ added: [], removed: [] });
    expect(ns.ipJson<{ ifname: string }[]>(['link', 'show']).map((l) => l.ifname)).toEqual(['lo']);
  });

  it('CNI_IFNAME with invalid UTF-8 (eth\\xff) -> code 4, nothing created', () => {
    const before = snapshotHost();
    const conf = pluginStdin(daemon.conflist());
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', CNI_COMMAND: 'ADD', CNI_CONTAINERID: `utf${tag}`, CNI_NETNS: ns.path, CNI_PATH: '/opt/cni/bin' };
    // Node cannot put raw bytes in an env value; bash can.
    const r = shTry('bash', ['-c', `CNI_IFNAME=$'eth\\xff' exec "$0"`, PLUGIN], { input: conf, env });
    expect(r.code).not.toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ code: 4, msg: expect.stringContaining('CNI_IFNAME is not valid UTF-8') as unknown });
    expect(diffHost(before, snapshotHost())).toEqual({ added: [], removed: [] });
    expect(ns.ipJson<{ ifname: string }[]>(['link', 'show']).map((l) => l.ifname)).toEqual(['lo']);
  });

  it('a 10 MB vethPrefix is refused (code 7) with a short message', () => {
    const conf = JSON.parse(pluginStdin(daemon.conflist())) as Record<string, unknown>;
    const r = callPlugin(good(), JSON.stringify({ ...conf, vethPrefix: 'v'.repeat(10 * 1024 * 1024) }));
    expect((r.json as { code: number }).code).toBe(7);
    expect(r.stdout.length).toBeLessThan(1000);
  });

  it('CHECK of an attachment the daemon does not know -> code 3', () => {
    const r = callPlugin({ ...good(), command: 'CHECK', containerId: `never${tag}` }, pluginStdin(daemon.conflist()));
    expect((r.json as { code: number }).code).toBe(3);
  });

  it('VERSION lists the supported versions', () => {
    const r = callPlugin({ command: 'VERSION' }, JSON.stringify({ cniVersion: '1.0.0' }));
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ cniVersion: '1.0.0', supportedVersions: ['0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  });

  it('reads no .env or bunfig.toml from its working directory (kubelet\'s cwd is not its config); stdin on /dev/null works', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hub-cwd-'));
    writeFileSync(join(cwd, '.env'), 'CNI_COMMAND=VERSION\n');
    writeFileSync(join(cwd, 'bunfig.toml'), 'preload = ["./evil.ts"]\n');
    writeFileSync(join(cwd, 'evil.ts'), 'console.log("preloaded");\n');
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    const planted = spawnSync(PLUGIN, [], { cwd, env, input: JSON.stringify({ cniVersion: '1.0.0' }), encoding: 'utf8' });
    expect(planted.stdout).not.toContain('supportedVersions');
    expect(planted.stdout).not.toContain('preloaded');
    // the control: the same call with the variable really set answers, also with stdin on /dev/null (a character device)
    const real = spawnSync(PLUGIN, [], { cwd, env: { ...env, CNI_COMMAND: 'VERSION' }, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    expect({ status: real.status, supported: (JSON.parse(real.stdout) as { supportedVersions: string[] }).supportedVersions.length > 0 }).toEqual({ status: 0, supported: true });
  });

  it('STATUS is ready while the daemon serves', () => {
    const r = callPlugin({ command: 'STATUS' }, pluginStdin(daemon.conflist(), { cniVersion: '1.1.0' }));
    expect({ code: r.code, out: r.stdout }).toEqual({ code: 0, out: '' });
  });

  it('DEL with the daemon down cleans the host, succeeds, and the daemon finishes the release when back', async () => {
    const before = snapshotHost();
    const call = { containerId: `down${tag}`, netns: ns.path, ifName: 'eth0', args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=down-${tag}` };
    const added = callPlugin({ command: 'ADD', ...call }, pluginStdin(daemon.conflist()));
    expect({ code: added.code, err: added.stderr }).toMatchObject({ code: 0 });
    const stdinWithPrev = pluginStdin(daemon.conflist(), { prevResult: added.json });
    await daemon.stop();

    const st = callPlugin({ command: 'STATUS' }, pluginStdin(daemon.conflist(), { cniVersion: '1.1.0' }));
    expect((st.json as { code: number }).code).toBe(50);
    const again = callPlugin({ command: 'ADD', ...call, containerId: `other${tag}` }, pluginStdin(daemon.conflist()));
    expect((again.json as { code: number }).code).toBe(11);

    const r = callPlugin({ command: 'DEL', ...call }, stdinWithPrev);
    expect({ code: r.code, out: r.stdout, err: r.stderr }).toMatchObject({ code: 0, out: '' });
    expect(diffHost(before, snapshotHost())).toEqual({ added: [], removed: [] });
    const pendingDir = join(daemon.socket, '..', 'pending-release');
    expect(readdirSync(pendingDir).filter((f) => f.endsWith('.json'))).toHaveLength(1);
    // a legal 300-character container id (was ENAMETOOLONG, code 11)
    const long = callPlugin({ command: 'DEL', ...call, containerId: 'l'.repeat(300) }, pluginStdin(daemon.conflist()));
    expect({ code: long.code, out: long.stdout }).toEqual({ code: 0, out: '' });
    expect(readdirSync(pendingDir).filter((f) => f.endsWith('.json'))).toHaveLength(2);

    await daemon.restart();
    await waitFor(() => !readdirSync(pendingDir).some((f) => f.endsWith('.json')), { timeoutMs: 10_000, stepMs: 100 }).catch(() => undefined); // asserted next
    expect(readdirSync(pendingDir).filter((f) => f.endsWith('.json'))).toEqual([]);
    // the lease is gone: CHECK says the container is unknown
    const chk = callPlugin({ command: 'CHECK', ...call }, stdinWithPrev);
    expect(chk.code).not.toBe(0);
  });
});
