/**
 * `terway-hub policy` run as a process (the real CLI entry point) on the fixtures in test/fixtures/policy: outputs
 * agree with the model's evaluator on the same file, and the exit codes are the documented ones.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { decide } from '../../src/policy/model/decide.js';
import { matrix } from '../../src/policy/model/matrix.js';
import { readObjects } from '../../src/policy/model/objects.js';
import type { PolicyModel } from '../../src/policy/model/types.js';
import { runCli } from '../helpers/cli.js';

const CLUSTER = 'test/fixtures/policy/cluster.yaml';
const BAD = 'test/fixtures/policy/bad.yaml';

function model(path: string): PolicyModel {
  const r = readObjects(readFileSync(path, 'utf8'));
  if (!r.ok) throw new Error('fixture refused');
  return r.model;
}

describe('policy explain', () => {
  test('allowed: exit 0; --json is the Decision the evaluator gives', async () => {
    const r = await runCli(['policy', 'explain', '-f', CLUSTER, '--from', 'x/client', '--to', 'x/web', '--port', '8080/TCP', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(JSON.stringify(decide(model(CLUSTER), { pod: 'x/client' }, { pod: 'x/web' }, 8080, 'TCP'))));
  });

  test('denied: exit 1; the text names the isolating policies and the default deny of both ends', async () => {
    const r = await runCli(['policy', 'explain', '-f', CLUSTER, '--from', 'y/client', '--to', 'x/web', '--port', '8080']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^y\/client -> x\/web 8080\/TCP \(IPv4\): DENIED\n/u);
    expect(r.stdout).toContain('egress of y/client: DENIED');
    expect(r.stdout).toContain('  default deny (end of policies; trigger y/egress-dns-only)');
    expect(r.stdout).toContain('  no match: x/web-from-clients ingress[0]: peer did not match');
  });

  test('an IP end and stdin (-f -)', async () => {
    const r = await runCli(['policy', 'explain', '-f', '-', '--from', '10.0.2.10', '--to', 'x/client', '--port', '53/UDP'], readFileSync(CLUSTER, 'utf8'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^z\/db -> x\/client 53\/UDP/u);
  });

  test('a bad object: exit 2 naming object and field, nothing evaluated', async () => {
    const r = await runCli(['policy', 'explain', '-f', BAD, '--from', 'x/a', '--to', 'x/b', '--port', '80']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('NetworkPolicy x/broken: spec.ingress[0].ports[0].port: must be 1..65535');
  });

  test('an unknown pod or a bad flag: exit 2', async () => {
    const unknown = await runCli(['policy', 'explain', '-f', CLUSTER, '--from', 'x/nope', '--to', 'x/web', '--port', '80']);
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('from: no pod "x/nope" in the model') as unknown as string]);
    const flag = await runCli(['policy', 'explain', '-f', CLUSTER, '--from', 'x/client', '--to', 'x/web', '--port', '80/ICMP']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--port: protocol must be TCP, UDP or SCTP');
  });

  test('without -f and no daemon: exit 3 saying so', async () => {
    const r = await runCli(['policy', 'explain', '--socket', '/nonexistent/daemon.sock', '--timeout', '1000', '--from', 'x/a', '--to', 'x/b', '--port', '80']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('could not ask the daemon for its live model');
  });
});

describe('policy matrix', () => {
  test('--json: every ordered pair of distinct pods for each port, equal to the evaluator on the same file', async () => {
    const r = await runCli(['policy', 'matrix', '-f', CLUSTER, '--port', '8080', '--port', '53/UDP', '--json']);
    expect(r.code).toBe(0);
    const got = JSON.parse(r.stdout) as Record<string, boolean>;
    const m = model(CLUSTER);
    expect(Object.keys(got)).toHaveLength(m.pods.length * (m.pods.length - 1) * 2);
    expect(got).toEqual(matrix(m, [{ port: 8080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }]));
  });

  test('text: a truth table per port (default 80/TCP)', async () => {
    const r = await runCli(['policy', 'matrix', '-f', CLUSTER]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^80\/TCP: \d+ of 20 pairs denied/u);
    expect(lines).toHaveLength(2 + 5);
  });
});
