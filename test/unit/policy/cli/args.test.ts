import { describe, expect, test } from '@jest/globals';
import { parseEndpoint, parsePolicyArgs, parsePortProto } from '../../../../src/policy/cli/args.js';
import { InvalidInputError } from '../../../../src/lib/errors.js';

function refusal(argv: readonly string[]): string {
  try {
    parsePolicyArgs(argv);
  } catch (e) {
    if (e instanceof InvalidInputError) return e.message;
    throw e;
  }
  throw new Error(`accepted: ${argv.join(' ')}`);
}

describe('parsePortProto', () => {
  test.each([
    ['80', 80, 'TCP'],
    ['80/TCP', 80, 'TCP'],
    ['53/udp', 53, 'UDP'],
    ['9/SCTP', 9, 'SCTP'],
    ['65535', 65535, 'TCP'],
  ])('%s', (raw, port, protocol) => {
    expect(parsePortProto(raw)).toEqual({ port, protocol });
  });

  test.each([
    ['0', /port must be 1\.\.65535/u],
    ['65536/TCP', /port must be 1\.\.65535/u],
    ['80/ICMP', /protocol must be TCP, UDP or SCTP; got "ICMP"/u],
    ['http', /expected PORT or PORT\/PROTO/u],
    ['80/', /expected PORT or PORT\/PROTO/u],
  ])('refuses %s', (raw, why) => {
    expect(() => parsePortProto(raw)).toThrow(why);
  });
});

describe('parseEndpoint', () => {
  test('NS/POD is a pod, anything else an IP (v4 or v6)', () => {
    expect(parseEndpoint('x/a', '--from')).toEqual({ pod: 'x/a' });
    expect(parseEndpoint('10.0.0.1', '--from')).toEqual({ ip: '10.0.0.1' });
    expect(parseEndpoint('fd00::1', '--to')).toEqual({ ip: 'fd00::1' });
  });
  test.each(['x/', '/a', 'x/a/b', ''])('refuses %j naming the flag', (raw) => {
    expect(() => parseEndpoint(raw, '--to')).toThrow(/^--to: /u);
  });
});

describe('parsePolicyArgs', () => {
  test('explain: file, ends, one port, json; socket/timeout defaults', () => {
    expect(parsePolicyArgs(['explain', '-f', 'o.yaml', '--from', 'x/a', '--to', '10.0.0.9', '--port', '53/UDP', '--json'])).toEqual({
      command: 'explain',
      file: 'o.yaml',
      json: true,
      socket: undefined,
      timeoutMs: 10000,
      from: { pod: 'x/a' },
      to: { ip: '10.0.0.9' },
      port: { port: 53, protocol: 'UDP' },
    });
  });

  test('matrix: ports in order, duplicates dropped, default 80/TCP; no -f reads the daemon', () => {
    expect(parsePolicyArgs(['matrix', '--port', '81', '--port', '80/UDP', '--port', '81/TCP'])).toMatchObject({ command: 'matrix', file: undefined, ports: [{ port: 81, protocol: 'TCP' }, { port: 80, protocol: 'UDP' }] });
    expect(parsePolicyArgs(['matrix', '--socket', '/tmp/s.sock', '--timeout', '500'])).toMatchObject({ ports: [{ port: 80, protocol: 'TCP' }], socket: '/tmp/s.sock', timeoutMs: 500 });
  });

  test('diff needs -f', () => {
    expect(parsePolicyArgs(['diff', '-f', 'new.yaml'])).toMatchObject({ command: 'diff', file: 'new.yaml', ports: [{ port: 80, protocol: 'TCP' }] });
    expect(refusal(['diff'])).toBe('-f: is required');
  });

  test('verify: only --json, --socket and --timeout', () => {
    expect(parsePolicyArgs(['verify', '--json', '--socket', '/run/x.sock'])).toEqual({ command: 'verify', file: undefined, json: true, socket: '/run/x.sock', timeoutMs: 10000 });
  });

  test.each([
    [[], /^command: missing/u],
    [['check'], /^command: unknown: "check" \(explain, matrix, diff or verify\)/u],
    [['verify', '-f', 'x.yaml'], /^--file: is not a flag of policy verify/u],
    [['verify', '--port', '80'], /^--port: is not a flag of policy verify/u],
    [['explain', '--from', 'x/a', '--to', 'x/b'], /^--port: is required/u],
    [['explain', '--from', 'x/a', '--to', 'x/b', '--port', '80', '--port', '81'], /^--port: give exactly one/u],
    [['explain', '--to', 'x/b', '--port', '80'], /^--from: is required/u],
    [['matrix', '--from', 'x/a'], /^--from: is not a flag of policy matrix/u],
    [['matrix', '--bogus'], /^flags: Unknown option '--bogus'/u],
    [['matrix', 'extra'], /^flags: .*positional/u],
    [['matrix', '--timeout', '0'], /^--timeout: must be a positive number/u],
    [['matrix', '--timeout=soon'], /^--timeout: must be a positive number/u],
  ])('refuses %j', (argv, why) => {
    expect(refusal(argv)).toMatch(why);
  });
});
