/**
 * The libcni driver (test/helpers/libcni.ts) against libcni's own rules: version choice (conf.go), per-plugin
 * config assembly (buildOneConfig, injectRuntimeConfig and its upstream test vector), the environment
 * (Args.AsEnv), and the chain order, prevResult threading and first-error stop, with fake plugins (shell scripts
 * that record their stdin and env, like libcni's noop test plugin). No privileges needed.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPluginConfig, cniEnv, compareVersions, explain, LibcniDriver, offeredVersions, pickVersion, runtimeConfigFor, type Json } from '../../helpers/libcni.js';
import { tempDir } from '../../helpers/tmp.js';

describe('version choice (libcni ≥ 1.2 NetworkConfFromBytes)', () => {
  it.each<[Json, string, string]>([
    [{ cniVersion: '1.0.0', cniVersions: ['0.4.0', '1.0.0', '1.1.0'] }, '1.1.0', '1.1.0'],
    [{ cniVersion: '1.0.0', cniVersions: ['0.4.0', '1.0.0', '1.1.0'] }, '1.0.0', '1.0.0'],
    [{ cniVersion: '1.0.0', cniVersions: ['0.4.0', '1.0.0', '1.1.0'] }, '0.4.0', '0.4.0'],
    [{ cniVersion: '1.0.0', cniVersions: ['0.4.0'] }, '1.1.0', '1.0.0'], // cniVersion joins the list
    [{ cniVersion: '0.3.1' }, '1.1.0', '0.3.1'], // no cniVersions: cniVersion as it is
    [{ cniVersion: '9.9.9' }, '1.1.0', '9.9.9'], // … even above current (only cniVersions entries are filtered)
    [{ cniVersions: ['0.3.1', '2.0.0'] }, '1.1.0', '0.3.1'], // entries above current are skipped
    [{ cniVersion: '0.4.0', cniVersions: ['0.10.0', '0.9.0'] }, '1.1.0', '0.10.0'], // semver, not string, order
  ])('%j with libcni implementing %s picks %s', (conflist, current, want) => {
    expect(pickVersion(conflist, current)).toBe(want);
  });

  it('refuses a non-string cniVersions entry, as libcni does', () => {
    expect(() => pickVersion({ cniVersion: '1.0.0', cniVersions: ['1.0.0', 1] })).toThrow(/cniVersions index 1/u);
  });

  it('offered versions are cniVersions ∪ cniVersion, in semver order', () => {
    expect(offeredVersions({ cniVersion: '1.0.0', cniVersions: ['1.1.0', '0.4.0'] })).toEqual(['0.4.0', '1.0.0', '1.1.0']);
    expect(compareVersions('0.10.0', '0.9.1')).toBe(1);
  });
});

describe('per-plugin config (buildOneConfig, injectRuntimeConfig)', () => {
  it("libcni's capability vector: only declared-true keys the runtime passes", () => {
    const entry = { type: 'x', capabilities: { portMappings: true, somethingElse: true, noCapability: false } };
    const args = { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], somethingElse: [1, 2], noCapability: 'n', notAdded: 'x' };
    expect(runtimeConfigFor(entry, args)).toEqual({ portMappings: args.portMappings, somethingElse: [1, 2] });
    expect(runtimeConfigFor(entry, { notAdded: 1 })).toBeUndefined();
    expect(runtimeConfigFor({ type: 'x' }, args)).toBeUndefined();
  });

  it('injects name and cniVersion over the entry, prevResult when given, and replaces runtimeConfig', () => {
    const entry = { type: 'tuning', name: 'own', cniVersion: '0.3.1', capabilities: { mac: true }, runtimeConfig: { stale: 1 }, sysctl: { a: '1' } };
    const prev = { cniVersion: '1.0.0', ips: [] };
    const conf = buildPluginConfig('net', '1.0.0', entry, prev, { mac: 'c2:00:00:00:00:01', bandwidth: {} });
    expect(conf).toEqual({ type: 'tuning', name: 'net', cniVersion: '1.0.0', capabilities: { mac: true }, runtimeConfig: { mac: 'c2:00:00:00:00:01' }, sysctl: { a: '1' }, prevResult: prev });
    const first = buildPluginConfig('net', '1.0.0', { type: 'a' }, undefined, undefined);
    expect(first).toEqual({ type: 'a', name: 'net', cniVersion: '1.0.0' });
    expect(entry.runtimeConfig).toEqual({ stale: 1 }); // the conflist is not modified
  });

  it('the environment always carries the six CNI variables (empty when unknown), nothing inherited but PATH', () => {
    const env = cniEnv('ADD', { containerId: 'c1', netns: '/run/netns/p', ifName: 'eth0', args: [['IgnoreUnknown', '1'], ['K8S_POD_NAME', 'web']] }, ['/a', '/b'], '/bin');
    expect(env).toEqual({ PATH: '/bin', CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/p', CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=web', CNI_IFNAME: 'eth0', CNI_PATH: '/a:/b' });
    expect(cniEnv('GC', undefined, ['/a'], '/bin')).toEqual({ PATH: '/bin', CNI_COMMAND: 'GC', CNI_CONTAINERID: '', CNI_NETNS: '', CNI_ARGS: '', CNI_IFNAME: '', CNI_PATH: '/a' });
  });
});

/**
 * A fake plugin: records stdin and CNI_* env as `<log>/<seq>-<type>-<cmd>.{json,env}`; on ADD prints
 * `<dir>/<type>.result` (or the prevResult back, with `cniVersion` removed when `<type>.noversion` exists); exits 1
 * with a CNI error when `<dir>/<type>.fail-<cmd>` exists.
 */
function fakePlugin(dir: string, type: string): void {
  const script = `#!/bin/sh
d=${JSON.stringify(dir)}
n=$(ls "$d/log" | wc -l)
f="$d/log/$(printf %03d "$n")-${type}-$CNI_COMMAND"
cat > "$f.json"
env | grep '^CNI_' | sort > "$f.env"
if [ -e "$d/${type}.fail-$CNI_COMMAND" ]; then echo '{"cniVersion":"1.0.0","code":7,"msg":"boom","details":"${type} says no"}'; echo 'stderr words' >&2; exit 1; fi
if [ "$CNI_COMMAND" = ADD ]; then cat "$d/${type}.result"; fi
exit 0
`;
  writeFileSync(join(dir, 'bin', type), script);
  chmodSync(join(dir, 'bin', type), 0o755);
}

describe('chain execution with recording fake plugins', () => {
  let dir: string;
  let driver: LibcniDriver;
  const conflist = {
    cniVersion: '1.0.0',
    cniVersions: ['0.4.0', '1.0.0'],
    name: 'chainnet',
    plugins: [{ type: 'first', capabilities: { bandwidth: true } }, { type: 'second', capabilities: { portMappings: true } }, { type: 'third' }],
  };
  const att = {
    containerId: 'ctr1',
    netns: '/run/netns/p1',
    ifName: 'eth0',
    args: [['IgnoreUnknown', '1']] as const,
    capabilityArgs: { portMappings: [{ hostPort: 1, containerPort: 2, protocol: 'tcp' }], bandwidth: { ingressRate: 8 } },
  };
  const r1 = { cniVersion: '1.0.0', ips: [{ address: '10.0.0.5/32' }] };
  const r2 = { cniVersion: '1.0.0', ips: [{ address: '10.0.0.5/32' }], interfaces: [{ name: 'x' }] };
  const r3 = { ips: [{ address: '10.0.0.5/32' }], interfaces: [{ name: 'x' }, { name: 'y' }] };

  const logs = (): { file: string; stdin: Json; env: string }[] =>
    readdirSync(join(dir, 'log'))
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => ({
        file: f.replace(/\.json$/u, ''),
        stdin: JSON.parse(readFileSync(join(dir, 'log', f), 'utf8')) as Json,
        env: readFileSync(join(dir, 'log', f.replace(/\.json$/u, '.env')), 'utf8'),
      }));

  beforeEach(() => {
    dir = tempDir('libcni-');
    mkdirSync(join(dir, 'bin'));
    mkdirSync(join(dir, 'log'));
    for (const t of ['first', 'second', 'third']) fakePlugin(dir, t);
    writeFileSync(join(dir, 'first.result'), JSON.stringify(r1));
    writeFileSync(join(dir, 'second.result'), JSON.stringify(r2));
    writeFileSync(join(dir, 'third.result'), JSON.stringify(r3));
    driver = new LibcniDriver({ binDirs: [join(dir, 'nowhere'), join(dir, 'bin')] });
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('ADD runs in order, each with the previous result and its own capabilities; CHECK in order, DEL in reverse, both with the final result', () => {
    const add = driver.add(conflist, att);
    expect({ ok: add.ok, error: add.error }).toEqual({ ok: true, error: undefined });
    // the last result had no cniVersion: it is taken to be the config's
    expect(add.result).toEqual({ ...r3, cniVersion: '1.0.0' });
    const added = add.added;
    if (added === undefined) throw new Error('no cached ADD');
    expect(driver.check(added).ok).toBe(true);
    expect(driver.del(conflist, att, added.result).ok).toBe(true);

    const l = logs();
    expect(l.map((x) => x.file.slice(4))).toEqual(['first-ADD', 'second-ADD', 'third-ADD', 'first-CHECK', 'second-CHECK', 'third-CHECK', 'third-DEL', 'second-DEL', 'first-DEL']);
    const [a1, a2, a3] = l;
    expect(a1?.stdin).toEqual({ type: 'first', capabilities: { bandwidth: true }, name: 'chainnet', cniVersion: '1.0.0', runtimeConfig: { bandwidth: { ingressRate: 8 } } });
    expect(a2?.stdin).toEqual({ type: 'second', capabilities: { portMappings: true }, name: 'chainnet', cniVersion: '1.0.0', prevResult: r1, runtimeConfig: { portMappings: att.capabilityArgs.portMappings } });
    expect(a3?.stdin).toEqual({ type: 'third', name: 'chainnet', cniVersion: '1.0.0', prevResult: r2 });
    for (const x of l.slice(3)) expect(x.stdin.prevResult).toEqual({ ...r3, cniVersion: '1.0.0' });
    expect(a1?.env).toBe(
      [`CNI_ARGS=IgnoreUnknown=1`, 'CNI_COMMAND=ADD', 'CNI_CONTAINERID=ctr1', 'CNI_IFNAME=eth0', 'CNI_NETNS=/run/netns/p1', `CNI_PATH=${join(dir, 'nowhere')}:${join(dir, 'bin')}`, ''].join('\n'),
    );
  });

  it('ADD stops at the first failing plugin and names it; DEL without a cache sends no prevResult', () => {
    writeFileSync(join(dir, 'second.fail-ADD'), '');
    const add = driver.add(conflist, att);
    expect(add.ok).toBe(false);
    expect(add.failed?.type).toBe('second');
    expect(add.error).toMatch(/^plugin type="second" failed \(add\): boom; second says no \(code 7\)\n {2}stderr of second: stderr words$/u);
    expect(explain(add)).toContain('first:ADD=0 second:ADD=1');
    expect(add.runs.map((r) => r.type)).toEqual(['first', 'second']);
    const del = driver.del(conflist, att);
    expect(del.ok).toBe(true);
    expect(logs().filter((x) => x.file.endsWith('-DEL')).map((x) => x.stdin.prevResult)).toEqual([undefined, undefined, undefined]);
  });

  it('DEL stops at the first failing plugin (the ones before it in the list are not called)', () => {
    writeFileSync(join(dir, 'second.fail-DEL'), '');
    const del = driver.del(conflist, att, r3);
    expect(del.runs.map((r) => `${r.type}:${String(r.code)}`)).toEqual(['third:0', 'second:1']);
    expect(del.error).toContain('plugin type="second" failed (del)');
  });

  it('CHECK below 0.4.0 is refused as libcni does, and disableCheck skips the plugins', () => {
    const old = { ...conflist, cniVersion: '0.3.1', cniVersions: undefined };
    const added = { conflist: old, cniVersion: '0.3.1', attachment: att, result: r3 };
    expect(driver.check(added).error).toBe('configuration version "0.3.1" does not support the CHECK command');
    const off = { ...conflist, disableCheck: true };
    expect(driver.check({ conflist: off, cniVersion: '1.0.0', attachment: att, result: r3 })).toMatchObject({ ok: true, runs: [] });
    expect(logs()).toEqual([]);
  });

  it('a plugin missing from every bin dir is named', () => {
    expect(() => driver.add({ ...conflist, plugins: [{ type: 'absent' }] }, att)).toThrow(/failed to find plugin "absent" in path/u);
  });

  it('GC (1.1.0): stale cached attachments get a full DEL, then every plugin gets GC with the valid list and an empty container env', () => {
    const v11 = { ...conflist, cniVersions: ['1.1.0'] };
    const valid = [{ containerID: 'ctr2', ifname: 'eth0' }];
    const stale = { conflist: v11, cniVersion: '1.1.0', attachment: att, result: r3 };
    const keep = { ...stale, attachment: { ...att, containerId: 'ctr2' } };
    expect(driver.gc(v11, valid, [stale, keep]).ok).toBe(true);
    const l = logs();
    expect(l.map((x) => x.file.slice(4))).toEqual(['third-DEL', 'second-DEL', 'first-DEL', 'first-GC', 'second-GC', 'third-GC']);
    expect(l[3]?.stdin).toEqual({ type: 'first', capabilities: { bandwidth: true }, name: 'chainnet', cniVersion: '1.1.0', 'cni.dev/valid-attachments': valid });
    expect(l[3]?.env).toContain('CNI_CONTAINERID=\n');
    // STATUS is a no-op below 1.1.0 and runs every plugin at 1.1.0
    expect(driver.status(conflist).runs).toEqual([]);
    expect(driver.status(v11).runs.map((r) => r.type)).toEqual(['first', 'second', 'third']);
  });
});
