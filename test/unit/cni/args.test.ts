import { parseCniRequest, type Env } from '../../../src/cni/args.js';
import { parseCniArgs } from '../../../src/cni/cni-args.js';
import { CniError } from '../../../src/cni/errors.js';
import { DEFAULT_SOCKET } from '../../../src/rpc/protocol.js';

const conf = (extra: Record<string, unknown> = {}, version = '1.0.0'): string =>
  JSON.stringify({ cniVersion: version, name: 'terway-hub', type: 'terway-hub', ...extra });

const addEnv: Env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c0ffee-1', CNI_NETNS: '/var/run/netns/p1', CNI_IFNAME: 'eth0' };

function errorOf(env: Env, stdin: string): CniError {
  try {
    parseCniRequest(env, stdin);
  } catch (err) {
    if (err instanceof CniError) return err;
    throw err;
  }
  throw new Error('expected a CniError');
}

describe('parseCniRequest: malformed input', () => {
  it.each<[string, Env, string, number, RegExp]>([
    ['truncated JSON', addEnv, '{"cniVersion":"1.0.0",', 6, /^error unmarshall network config/],
    ['JSON that is not an object', addEnv, '[1,2]', 6, /not a JSON object/],
    ['ADD without anything', { CNI_COMMAND: 'ADD' }, conf(), 4, /^required env variables \[CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME\] missing$/],
    ['CHECK without netns/ifname', { CNI_COMMAND: 'CHECK', CNI_CONTAINERID: 'a' }, conf(), 4, /^required env variables \[CNI_NETNS,CNI_IFNAME\] missing$/],
    ['DEL without anything', { CNI_COMMAND: 'DEL' }, conf(), 4, /^required env variables \[CNI_CONTAINERID,CNI_IFNAME\] missing$/],
    ['empty values count as missing', { ...addEnv, CNI_CONTAINERID: '', CNI_IFNAME: '' }, conf(), 4, /\[CNI_CONTAINERID,CNI_IFNAME\]/],
    ['missing cniVersion means 0.1.0', addEnv, JSON.stringify({ name: 'n' }), 1, /^incompatible CNI versions$/],
    ['unsupported version', addEnv, conf({}, '0.2.0'), 1, /^incompatible CNI versions$/],
    ['ifname of 16 chars', { ...addEnv, CNI_IFNAME: 'a234567890123456' }, conf(), 4, /too long/],
    ['ifname "."', { ...addEnv, CNI_IFNAME: '.' }, conf(), 4, /\. or \.\./],
    ['ifname ".."', { ...addEnv, CNI_IFNAME: '..' }, conf(), 4, /\. or \.\./],
    ['ifname with /', { ...addEnv, CNI_IFNAME: 'eth/0' }, conf(), 4, /contains/],
    ['ifname with :', { ...addEnv, CNI_IFNAME: 'eth0:1' }, conf(), 4, /contains/],
    ['ifname with a space', { ...addEnv, CNI_IFNAME: 'eth 0' }, conf(), 4, /contains/],
    ['ifname with a tab', { ...addEnv, CNI_IFNAME: 'eth\t0' }, conf(), 4, /contains/],
    ['container id a/b', { ...addEnv, CNI_CONTAINERID: 'a/b' }, conf(), 4, /^invalid characters in containerID$/],
    ['container id a;b', { ...addEnv, CNI_CONTAINERID: 'a;b' }, conf(), 4, /^invalid characters in containerID$/],
    ['container id $(x)', { ...addEnv, CNI_CONTAINERID: '$(x)' }, conf(), 4, /^invalid characters in containerID$/],
    ['container id starting with -', { ...addEnv, CNI_CONTAINERID: '-abc' }, conf(), 4, /^invalid characters in containerID$/],
    ['relative netns', { ...addEnv, CNI_NETNS: 'netns/p1' }, conf(), 4, /CNI_NETNS must be an absolute path/],
    ['ifname with # (cannot be an ip-batch token)', { ...addEnv, CNI_IFNAME: 'eth#0' }, conf(), 4, /quote, # or backslash/],
    ['ifname with a quote', { ...addEnv, CNI_IFNAME: 'eth"0' }, conf(), 4, /quote, # or backslash/],
    ['CHECK ifname with a backslash', { ...addEnv, CNI_COMMAND: 'CHECK', CNI_IFNAME: 'eth\\0' }, conf(), 4, /quote, # or backslash/],
    ['netns with a space', { ...addEnv, CNI_NETNS: '/var/run/netns/a b' }, conf(), 4, /^CNI_NETNS contains whitespace/],
    ['netns with a newline', { ...addEnv, CNI_NETNS: '/var/run/netns/a\nlink del dev eth0' }, conf(), 4, /^CNI_NETNS contains whitespace/],
    ['CHECK on 0.3.1', { ...addEnv, CNI_COMMAND: 'CHECK' }, conf({}, '0.3.1'), 1, /^config version does not allow CHECK$/],
    ['GC on 1.0.0', { CNI_COMMAND: 'GC' }, conf({}, '1.0.0'), 1, /^config version does not allow GC$/],
    ['STATUS on 1.0.0', { CNI_COMMAND: 'STATUS' }, conf({}, '1.0.0'), 1, /^config version does not allow STATUS$/],
    ['unknown command', { CNI_COMMAND: 'FROB' }, conf(), 4, /^unknown CNI_COMMAND: FROB$/],
    ['unknown CNI_ARGS key', { ...addEnv, CNI_ARGS: 'K8S_POD_NAME=p;FOO=bar' }, conf(), 4, /^invalid CNI_ARGS$/],
    ['CNI_ARGS pair without =', { ...addEnv, CNI_ARGS: 'K8S_POD_NAME' }, conf(), 4, /^invalid CNI_ARGS$/],
    ['CNI_ARGS bad IgnoreUnknown', { ...addEnv, CNI_ARGS: 'IgnoreUnknown=maybe;X=1' }, conf(), 4, /^invalid CNI_ARGS$/],
    ['missing network name', addEnv, JSON.stringify({ cniVersion: '1.0.0' }), 7, /^missing network name$/],
    ['bad network name', addEnv, conf({ name: 'a b' }), 7, /^invalid characters found in network name$/],
    ['relative socket', addEnv, conf({ socket: 'daemon.sock' }), 7, /^invalid network config$/],
    ['vethPrefix too long', addEnv, conf({ vethPrefix: 'calico' }), 7, /^invalid network config$/],
    ['vethPrefix upper-case', addEnv, conf({ vethPrefix: 'Cal' }), 7, /^invalid network config$/],
    ['timeoutMs not a number', addEnv, conf({ timeoutMs: '5s' }), 7, /^invalid network config$/],
    ['logLevel unknown', addEnv, conf({ logLevel: 'trace' }), 7, /^invalid network config$/],
    ['prevResult not an object', addEnv, conf({ prevResult: 'x' }), 7, /^invalid network config$/],
    ['valid-attachments bad entry', { CNI_COMMAND: 'GC' }, conf({ 'cni.dev/valid-attachments': [{ containerID: 'a/b', ifname: 'eth0' }] }, '1.1.0'), 7, /^invalid network config$/],
  ])('%s', (_name, env, stdin, code, msg) => {
    const err = errorOf(env, stdin);
    expect(err.code).toBe(code);
    expect(err.msg).toMatch(msg);
  });

  it('names the supported versions in the incompatible-version details', () => {
    expect(errorOf(addEnv, conf({}, '0.2.0')).details).toBe('config is "0.2.0", plugin supports ["0.3.1" "0.4.0" "1.0.0" "1.1.0"]');
  });

  it('names the bad config field in the details', () => {
    expect(errorOf(addEnv, conf({ vethPrefix: 'calico' })).details).toMatch(/^vethPrefix: /);
    expect(errorOf({ CNI_COMMAND: 'GC' }, conf({ 'cni.dev/valid-attachments': [{ containerID: 'ok', ifname: 3 }] }, '1.1.0')).details).toMatch(
      /^cni\.dev\/valid-attachments\[0\]\.ifname: /,
    );
  });

  it('checks env before decoding stdin, like skel', () => {
    expect(errorOf({ CNI_COMMAND: 'ADD' }, 'garbage').code).toBe(4);
  });
});

describe('parseCniRequest: accepted input', () => {
  it('returns about when CNI_COMMAND is unset or empty', () => {
    expect(parseCniRequest({}, '')).toEqual({ command: 'about' });
    expect(parseCniRequest({ CNI_COMMAND: '' }, '')).toEqual({ command: 'about' });
  });

  it('VERSION needs no valid stdin and echoes the input version', () => {
    expect(parseCniRequest({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}')).toEqual({ command: 'VERSION', cniVersion: '0.4.0' });
    expect(parseCniRequest({ CNI_COMMAND: 'VERSION' }, 'not json')).toEqual({ command: 'VERSION', cniVersion: '1.1.0' });
  });

  it('parses ADD with defaults and Kubernetes CNI_ARGS', () => {
    const req = parseCniRequest(
      { ...addEnv, CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=c0ffee-1;K8S_POD_UID=u;OTHER=x' },
      conf({ runtimeConfig: { bandwidth: { ingressRate: 1 } } }),
    );
    if (req.command !== 'ADD') throw new Error(req.command);
    expect(req.env).toEqual({
      containerId: 'c0ffee-1',
      ifName: 'eth0',
      netns: '/var/run/netns/p1',
      args: { podNamespace: 'default', podName: 'web-0', infraContainerId: 'c0ffee-1' },
    });
    expect(req.config).toMatchObject({ cniVersion: '1.0.0', name: 'terway-hub', socket: DEFAULT_SOCKET, vethPrefix: 'cali', timeoutMs: 25000, logLevel: 'warn' });
    expect(req.config.runtimeConfig).toEqual({ bandwidth: { ingressRate: 1 } });
    expect(req.config.raw.type).toBe('terway-hub');
  });

  it.each(['eth0;rm', '$(x)', 'a|b', 'veth-1.2'])('accepts ifname %j (only / : and whitespace are illegal)', (ifName) => {
    const req = parseCniRequest({ ...addEnv, CNI_IFNAME: ifName }, conf());
    expect(req.command === 'ADD' && req.env.ifName).toBe(ifName);
  });

  it('DEL works without CNI_NETNS and keeps prevResult IPs', () => {
    const prevResult = { cniVersion: '1.0.0', ips: [{ address: '10.0.0.7/32', interface: 1 }, { address: 'fd00::7/128' }] };
    const req = parseCniRequest({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0' }, conf({ prevResult }));
    if (req.command !== 'DEL') throw new Error(req.command);
    expect(req.env.netns).toBeUndefined();
    expect(req.config.prevIps).toEqual(['10.0.0.7']);
  });

  it('DEL accepts what ADD refuses for batch safety (DEL must succeed; it plans nothing from them)', () => {
    const req = parseCniRequest({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth#0', CNI_NETNS: '/var/run/netns/a b' }, conf());
    if (req.command !== 'DEL') throw new Error(req.command);
    expect(req.env.ifName).toBe('eth#0');
  });

  it('GC and STATUS need only CNI_COMMAND (not CNI_PATH)', () => {
    const gc = parseCniRequest({ CNI_COMMAND: 'GC' }, conf({ 'cni.dev/valid-attachments': [{ containerID: 'c1', ifname: 'eth0' }] }, '1.1.0'));
    expect(gc.command === 'GC' && gc.config.validAttachments).toEqual([{ containerId: 'c1', ifName: 'eth0' }]);
    expect(parseCniRequest({ CNI_COMMAND: 'STATUS' }, conf({}, '1.1.0')).command).toBe('STATUS');
  });

  it('CHECK is allowed from 0.4.0', () => {
    expect(parseCniRequest({ ...addEnv, CNI_COMMAND: 'CHECK' }, conf({}, '0.4.0')).command).toBe('CHECK');
  });
});

describe('parseCniArgs', () => {
  it('is empty for no args and tolerates a trailing ;', () => {
    expect(parseCniArgs(undefined)).toEqual({ podNamespace: '', podName: '', infraContainerId: '' });
    expect(parseCniArgs('K8S_POD_NAMESPACE=n;K8S_POD_NAME=a;')).toEqual({ podNamespace: 'n', podName: 'a', infraContainerId: '' });
  });
  it('reads IP= (podman run --ip) with or without a prefix length, and refuses a malformed one', () => {
    expect(parseCniArgs('IgnoreUnknown=1;IP=10.88.0.7').ip).toBe('10.88.0.7');
    expect(parseCniArgs('IgnoreUnknown=1;IP=10.88.0.7/24').ip).toBe('10.88.0.7');
    expect(parseCniArgs('IgnoreUnknown=1').ip).toBeUndefined();
    for (const bad of ['10.88.0', '10.88.0.7/33', 'fe80::1', '10.88.0.7/24/1']) {
      expect(() => parseCniArgs(`IgnoreUnknown=1;IP=${bad}`)).toThrow(/IP: not an IPv4 address/u);
    }
  });
  it('gives no pod identity for a name without a namespace (podman passes the container name)', () => {
    expect(parseCniArgs('IgnoreUnknown=1;K8S_POD_NAME=web')).toEqual({ podNamespace: '', podName: '', infraContainerId: '' });
    expect(parseCniArgs('K8S_POD_NAMESPACE=default')).toEqual({ podNamespace: '', podName: '', infraContainerId: '' });
  });
  it.each(['IgnoreUnknown=true;X=1', 'IgnoreUnknown=TRUE;X=1', 'X=1;IgnoreUnknown=1'])('ignores unknown keys with %s', (raw) => {
    expect(parseCniArgs(raw).podName).toBe('');
  });
  it('rejects unknown keys with IgnoreUnknown=0 and names them', () => {
    expect(() => parseCniArgs('IgnoreUnknown=0;X=1;Y=2')).toThrow('unknown args ["X","Y"]');
  });
});

describe('parseCniRequest: malformed input from the 129-case corpus (issue 7)', () => {
  it('counts CNI_IFNAME in UTF-8 bytes like the kernel: 8 × "é" is 16 bytes → code 4', () => {
    const err = errorOf({ ...addEnv, CNI_IFNAME: 'éééééééé' }, conf());
    expect({ code: err.code, msg: err.msg }).toEqual({ code: 4, msg: 'interface name is too long (16 > 15 bytes)' });
    const ok = parseCniRequest({ ...addEnv, CNI_IFNAME: 'ééééééé' }, conf()); // 14 bytes
    expect(ok.command === 'ADD' && ok.env.ifName).toBe('ééééééé');
  });

  it.each<[string, Env]>([
    ['CNI_IFNAME', { ...addEnv, CNI_IFNAME: 'eth\ufffd' }],
    ['CNI_CONTAINERID', { ...addEnv, CNI_CONTAINERID: 'abc\ufffd' }],
    ['CNI_NETNS', { ...addEnv, CNI_NETNS: '/var/run/netns/p\ufffd' }],
    ['CNI_NETNS', { ...addEnv, CNI_COMMAND: 'DEL', CNI_NETNS: '/var/run/netns/p\ufffd' }],
  ])('refuses %s holding U+FFFD (invalid UTF-8 decoded by the runtime) with code 4', (name, env) => {
    const err = errorOf(env, conf());
    expect(err.code).toBe(4);
    expect(err.msg).toContain(`${name} is not valid UTF-8`);
  });

  it('truncates an echoed value: a 10 MB vethPrefix gives a short message naming its size', () => {
    const err = errorOf(addEnv, conf({ vethPrefix: 'x'.repeat(10 * 1024 * 1024) }));
    expect(err.code).toBe(7);
    expect((err.details ?? '').length).toBeLessThan(300);
    expect(err.details).toMatch(/^vethPrefix: .*"x{64}"…\(10485760 bytes\)$/u);
  });

  it.each<[string, Env]>([
    ['container id', { ...addEnv, CNI_CONTAINERID: `;${'y'.repeat(1_000_000)}` }],
    ['ifname', { ...addEnv, CNI_IFNAME: 'e'.repeat(1_000_000) }],
    ['netns', { ...addEnv, CNI_NETNS: `rel${'n'.repeat(1_000_000)}` }],
    ['command', { CNI_COMMAND: 'F'.repeat(1_000_000) }],
    ['CNI_ARGS', { ...addEnv, CNI_ARGS: `K8S_POD_NAMESPACE=default;K8S_POD_NAME=${'P'.repeat(1_000_000)}` }],
  ])('truncates an echoed %s', (_what, env) => {
    const err = errorOf(env, conf());
    expect(err.code).toBe(4);
    expect(err.message.length).toBeLessThan(600);
    expect(err.message).toMatch(/…\(\d{7} bytes\)/u);
  });

  it('refuses invalid Kubernetes names in CNI_ARGS (the daemon applies the same rule)', () => {
    expect(errorOf({ ...addEnv, CNI_ARGS: 'K8S_POD_NAMESPACE=Default;K8S_POD_NAME=web' }, conf()).details).toMatch(/^pod namespace not a DNS label/u);
    expect(errorOf({ ...addEnv, CNI_ARGS: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=../x' }, conf()).details).toMatch(/^pod name not a DNS subdomain/u);
  });

  it('validates GC valid-attachments ifnames with the ifname rule', () => {
    const err = errorOf({ CNI_COMMAND: 'GC' }, conf({ 'cni.dev/valid-attachments': [{ containerID: 'c', ifname: 'a/b' }] }, '1.1.0'));
    expect(err.details).toMatch(/ifname: interface name contains/u);
  });
});
