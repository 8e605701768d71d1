/**
 * Real-kernel tests for the ipvlan dataplane (issue 8): Terway's ipvlan L2 layout built by hand with ip/tc and
 * checked with traffic; the hub's own ipvlan dataplane end to end (test/vm/ipvlan-hub.sh: the real daemon in
 * `mode: ipvlan`, the real plugin ADDing/CHECKing/DELing three pods, traffic, the service redirect, shaping measured
 * both ways and ingress only); and the hub's real binaries (CLI, plugin, daemon with its native addon) in vpc mode on
 * the same kernel; and the builtin NetworkPolicy backend on ipvlan pods (issue 10: test/vm/ipvlan-policy.ts, the real
 * daemon with `policy.backend: auto` and the API emulator, a table in each pod netns, the measured TCP matrix against
 * `terway-hub policy matrix` run here over the same objects). This machine's kernel has no ipvlan, so they run in a VM booted from Debian's kernel
 * (test/helpers/vm.ts); on a kernel with ipvlan they run here, in a throwaway netns. They skip, saying why, only
 * when neither is possible.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shTry } from '../helpers/exec.js';
import { CLI, NODE, PLUGIN, ROOT } from '../helpers/hub.js';
import { rand } from '../helpers/names.js';
import { describeIf } from '../helpers/privilege.js';
import { ipvlanKernel, type KernelRun } from '../helpers/vm.js';
import { sortedRecord } from '../privileged/policy/pod-matrix.js';
import { BUN } from '../privileged/policy/pods.js';

const kernel = ipvlanKernel();
/** A check script with the shared check() of test/vm/checks.sh before it (scripts reach the VM as text). */
const script = (name: string): string => {
  const [shebang = '', ...rest] = readFileSync(join(ROOT, 'test', 'vm', name), 'utf8').split('\n');
  return [shebang, readFileSync(join(ROOT, 'test', 'vm', 'checks.sh'), 'utf8'), ...rest].join('\n');
};

/** The `CHECK ok|FAIL name` lines of a run; fails the test with the whole output when the run had no verdict. */
function checks(r: KernelRun): { ok: string[]; failed: string[] } {
  if (r.verdict !== 'exited') throw new Error(r.output);
  const lines = r.output.split('\n');
  return {
    ok: lines.filter((l) => l.startsWith('CHECK ok ')).map((l) => l.slice('CHECK ok '.length)),
    failed: lines.filter((l) => l.startsWith('CHECK FAIL ')).map((l) => l.slice('CHECK FAIL '.length)),
  };
}

function expectAll(r: KernelRun, required: readonly RegExp[]): void {
  const c = checks(r);
  const missing = required.filter((re) => !c.ok.some((n) => re.test(n))).map(String);
  if (c.failed.length > 0 || missing.length > 0 || r.code !== 0) {
    throw new Error(`exit ${String(r.code)}; failed: ${JSON.stringify(c.failed)}; never passed: ${JSON.stringify(missing)}\n--- output ---\n${r.output}`);
  }
}

const RATE_MBIT = 10;
/** pod1's limits in the hub's run (runtimeConfig.bandwidth): different, so a swapped direction shows. */
const HUB_EGRESS_MBIT = 10;
const HUB_INGRESS_MBIT = 6;
/** pod3's ingress-only limit (Terway's ipvlan failed with "invalid rate 0" there). */
const HUB_INGRESS_ONLY_MBIT = 8;

/** iperf3's received rate over the expected one, from the JSON a script wrote to $VM_IO/out. */
function ratioOf(r: KernelRun, file: string, mbit: number): { mbps: number; ratio: number } {
  const j = JSON.parse(r.files[file]?.toString() ?? '{}') as { end?: { sum_received?: { bits_per_second?: number } } };
  const bps = j.end?.sum_received?.bits_per_second ?? 0;
  return { mbps: bps / 1e6, ratio: bps / (mbit * 1e6) };
}
const HANG_TIMEOUT_MS = 20_000;
/** Each run's own deadline (from its boot; test/helpers/vm.ts kills the VM then). */
const RUN_MS = { layout: 150_000, hub: 240_000, policy: 360_000, binaries: 150_000, contract: 90_000, hang: HANG_TIMEOUT_MS } as const;
/**
 * A test's own limit: its run may wait for a slot behind every other run (two VMs at a time, the order of the queue is
 * whoever polls first), so the backstop is all the runs' deadlines plus a margin; each run still ends at its deadline.
 */
const IT_MS = Object.values(RUN_MS).reduce((a, b) => a + b, 0) + 60_000;
/** test/vm/ipvlan-policy.ts exits so after a `SKIP REASON` line: nftables does not work there. */
const POLICY_SKIP_STATUS = 4;
const POLICY_PORTS = ['80/TCP', '81/TCP'];
const POLICY_STATES = 2;
const POLICY_PODS = 3;
const CONTRACT_SCRIPT = `set -u
cat "$VM_IO/in/data.txt" > "$VM_IO/out/echo.txt"
mkdir -p "$VM_IO/out/sub" && printf '\\000\\001' > "$VM_IO/out/sub/bin"
echo "where=$VM_WHERE foo=$FOO cwd=$PWD"
[ "$VM_WHERE" != vm ] || ! touch "$PWD/.vm-write-probe" 2>/dev/null || { echo "the repo is writable in the VM"; exit 1; }
touch /tmp/x /run/x /var/tmp/x || exit 1
exit 7
`;

describeIf(kernel.ok, `ipvlan real-kernel tests: ${kernel.ok ? '' : kernel.reason}`)(`ipvlan on a real kernel (${kernel.ok ? kernel.detail : 'none'})`, () => {
  type Name = 'layout' | 'hub' | 'policy' | 'binaries' | 'contract' | 'hang';
  let runs: Record<Name, Promise<KernelRun>> | undefined;
  // All runs start at once: test/helpers/vm.ts runs two VMs at a time and queues the rest.
  beforeAll(() => {
    if (!kernel.ok) return;
    runs = {
      layout: kernel.run(script('ipvlan-layout.sh'), { timeoutMs: RUN_MS.layout, env: { P: `vm${rand(4)}`, RATE_MBIT: String(RATE_MBIT) } }),
      hub: kernel.run(script('ipvlan-hub.sh'), {
        timeoutMs: RUN_MS.hub,
        env: { P: `iv${rand(4)}`, NODE, EGRESS_MBIT: String(HUB_EGRESS_MBIT), INGRESS_MBIT: String(HUB_INGRESS_MBIT), INGRESS_ONLY_MBIT: String(HUB_INGRESS_ONLY_MBIT) },
      }),
      policy: kernel.run(`exec ${BUN} test/vm/ipvlan-policy.ts\n`, { timeoutMs: RUN_MS.policy, env: { P: `np${rand(4)}` } }),
      binaries: kernel.run(script('real-binaries.sh'), { timeoutMs: RUN_MS.binaries, env: { P: `vm${rand(4)}`, NODE } }),
      contract: kernel.run(CONTRACT_SCRIPT, { timeoutMs: RUN_MS.contract, env: { FOO: 'b a r' }, files: { 'in/data.txt': 'hello\n' } }),
      hang: kernel.run('echo started\nsleep 600\n', { timeoutMs: RUN_MS.hang }),
    };
    // a rejection is reported by the test that awaits it, not as an unhandled one meanwhile
    for (const p of Object.values(runs)) p.catch(() => undefined);
  });
  const result = (name: Name): Promise<KernelRun> => {
    if (!runs) throw new Error('no kernel to run on');
    return runs[name];
  };

  it("Terway's ipvlan L2 layout by hand: pod<->pod, pod->node, pod->service redirected to the node, tbf measured", async () => {
    const rateMbit = RATE_MBIT;
    const r = await result('layout');
    console.log(`ipvlan layout on ${r.where}: ${(r.ms / 1000).toFixed(1)} s in all (boot included)\n${r.output}`);
    expectAll(r, [
      /^host slave ipvl_\d+ is an ipvlan L2 slave of the ENI, NOARP$/u,
      /^host slave has .*scope host$/u,
      /^pod eth0 is an ipvlan L2 slave with the ENI's MAC$/u,
      /^pod routes/u,
      /^ping pod1 -> pod2/u,
      /^ping pod2 -> pod1/u,
      /^TCP pod1 -> pod2/u,
      /^ping pod1 -> vSwitch gateway/u,
      /^ping pod1 -> node/u,
      /^TCP pod1 -> node/u,
      /^ping pod2 -> service/u,
      /^TCP pod2 -> service .* answered by a node listener$/u,
      /^the redirect filter counted/u,
      /^without the redirect, .* gets no answer$/u,
      /^iperf3 pod1 -> pod2 through tbf/u,
      /^tbf on pod1 eth0 counted/u,
    ]);
    const tbf = JSON.parse(r.files['tbf.json']?.toString() ?? '{}') as { end?: { sum_received?: { bits_per_second?: number } } };
    const bps = tbf.end?.sum_received?.bits_per_second ?? 0;
    const ratio = bps / (rateMbit * 1e6);
    console.log(`tbf ${String(rateMbit)} Mbit/s on the pod's ipvlan slave: iperf3 received ${(bps / 1e6).toFixed(2)} Mbit/s (ratio ${ratio.toFixed(3)})`);
    expect(ratio).toBeGreaterThan(0.9);
    expect(ratio).toBeLessThan(1.1);
  }, IT_MS);

  it('the hub in ipvlan mode: the real daemon builds the node state, the real plugin ADDs/CHECKs/DELs three pods; traffic, service redirect, shaping both ways measured', async () => {
    if (!existsSync(PLUGIN) || !existsSync(CLI)) throw new Error(`${PLUGIN} or ${CLI} missing: run npm run build first`);
    const r = await result('hub');
    console.log(`hub in ipvlan mode on ${r.where}: ${(r.ms / 1000).toFixed(1)} s in all (boot included)\n${r.output}`);
    expectAll(r, [
      /^daemon wrote its conflist/u,
      /^terway-hub status says mode=ipvlan$/u,
      /^host slave ipvl_\d+ is an ipvlan L2 slave of the ENI, up, NOARP$/u,
      /^host slave has .*\/32 scope host$/u,
      /^clsact on the ENI, egress u32 .* pref 40000 -> ingress redirect to ipvl_\d+$/u,
      /^plugin ADD pod1/u,
      /^plugin ADD pod2$/u,
      /^the CNI result: pod interface with the ENI's MAC/u,
      /^pod eth0 is an ipvlan L2 slave with the ENI's MAC/u,
      /^pod routes: default via gateway onlink/u,
      /^node routes: /u,
      /^pod1 shaping: /u,
      /^no shaping on pod2$/u,
      /^plugin ADD pod3 \(ingress only/u,
      /^pod3 shaping, ingress only: /u,
      /^plugin CHECK pod3 \(ingress only\)$/u,
      /^iperf3 pod2 -> pod3 \(pod3's ingress only/u,
      /^plugin DEL pod3$/u,
      /^plugin CHECK pod1 \(shaped\)$/u,
      /^plugin CHECK pod2$/u,
      /^ping pod1 -> pod2/u,
      /^ping pod2 -> pod1/u,
      /^TCP pod1 -> pod2/u,
      /^ping pod1 -> vSwitch gateway/u,
      /^ping pod2 -> node/u,
      /^ping node -> pod2$/u,
      /^TCP pod2 -> node/u,
      /^ping pod2 -> service/u,
      /^TCP pod2 -> service .* answered by a node listener$/u,
      /^the redirect filter counted/u,
      /^iperf3 pod1 -> pod2 \(pod1's egress/u,
      /^iperf3 pod2 -> pod1 \(pod1's ingress/u,
      /^pod1's tbfs counted the traffic/u,
      /^plugin DEL pod1$/u,
      /^plugin DEL pod2$/u,
      /^DEL removed the pods' links/u,
      /^DEL gave the node back exactly its state before the ADDs/u,
      /^a second DEL succeeds/u,
      /^daemon stopped cleanly/u,
      /^the host slave stays after the daemon stops/u,
    ]);
    const egress = ratioOf(r, 'bw-egress.json', HUB_EGRESS_MBIT);
    const ingress = ratioOf(r, 'bw-ingress.json', HUB_INGRESS_MBIT);
    const ingressOnly = ratioOf(r, 'bw-ingress-only.json', HUB_INGRESS_ONLY_MBIT);
    console.log(
      `runtimeConfig.bandwidth on an ipvlan pod: egress ${String(HUB_EGRESS_MBIT)} Mbit/s → iperf3 received ${egress.mbps.toFixed(2)} Mbit/s (ratio ${egress.ratio.toFixed(3)}); ` +
        `ingress ${String(HUB_INGRESS_MBIT)} Mbit/s → ${ingress.mbps.toFixed(2)} Mbit/s (ratio ${ingress.ratio.toFixed(3)}); ` +
        `ingress-only pod ${String(HUB_INGRESS_ONLY_MBIT)} Mbit/s → ${ingressOnly.mbps.toFixed(2)} Mbit/s (ratio ${ingressOnly.ratio.toFixed(3)})`,
    );
    for (const { ratio } of [egress, ingress, ingressOnly]) {
      expect(ratio).toBeGreaterThan(0.9);
      expect(ratio).toBeLessThan(1.1);
    }
  }, IT_MS);

  it('the builtin NetworkPolicy backend on ipvlan pods: a table in each pod netns, measured TCP reachability = terway-hub policy matrix over the same objects, the node reaches a pod allowed nothing', async () => {
    if (!existsSync(PLUGIN) || !existsSync(CLI)) throw new Error(`${PLUGIN} or ${CLI} missing: run npm run build first`);
    if (!existsSync(BUN)) throw new Error(`${BUN} missing: run npm ci`);
    const r = await result('policy');
    console.log(`builtin NetworkPolicy backend on ipvlan on ${r.where}: ${(r.ms / 1000).toFixed(1)} s in all (boot included)\n${r.output}`);
    const skip = /^SKIP (.+)$/mu.exec(r.output);
    if (r.verdict === 'exited' && r.code === POLICY_SKIP_STATUS && skip) {
      console.log(`SKIPPED the NetworkPolicy case: ${skip[1] ?? ''}`);
      return;
    }
    expectAll(r, [
      /^policy\.backend auto picked the builtin backend/u,
      /^plugin ADD x\/a$/u,
      /^plugin ADD x\/b$/u,
      /^plugin ADD x\/c$/u,
      /^pods are ipvlan L2 slaves of the ENI/u,
      /^`nft list tables` in each pod netns shows inet terway-hub-pod/u,
      /^the pod table hooks eth0/u,
      ...Array.from({ length: POLICY_STATES }, (_, i) => [
        new RegExp(`^state ${String(i + 1)} .*: measured TCP reachability = matrix\\(objects\\)$`, 'u'),
        new RegExp(`^state ${String(i + 1)}: the node reaches every pod on 80/TCP`, 'u'),
      ]).flat(),
      /^plugin DEL x\/c removes the table from its netns$/u,
      /^daemon stopped cleanly/u,
    ]);
    const json = (name: string): Record<string, boolean> => {
      const f = r.files[name];
      if (f === undefined) throw new Error(`the run wrote no ${name}`);
      return sortedRecord(JSON.parse(f.toString()) as Record<string, boolean>);
    };
    let measured: Record<string, boolean> = {};
    for (let n = 1; n <= POLICY_STATES; n++) {
      // the CLI here, on this machine, over the objects the VM's API emulator held
      const objects = r.files[`objects-${String(n)}.json`]?.toString() ?? '';
      const cli = shTry(NODE, [CLI, 'policy', 'matrix', '--json', '-f', '-', ...POLICY_PORTS.flatMap((p) => ['--port', p])], { input: objects });
      expect({ code: cli.code, stderr: cli.stderr }).toEqual({ code: 0, stderr: '' });
      const expected = sortedRecord(JSON.parse(cli.stdout) as Record<string, boolean>);
      measured = json(`measured-${String(n)}.json`);
      expect(Object.keys(expected)).toHaveLength(POLICY_PODS * (POLICY_PODS - 1) * POLICY_PORTS.length);
      expect(measured).toEqual(expected);
      console.log(`state ${String(n)}: measured = terway-hub policy matrix over ${String(Object.keys(expected).length)} (pod pair, port)s, ${String(Object.values(expected).filter(Boolean).length)} allowed`);
    }
    // the last state allows some and denies some (a matrix all one way would not tell the rules from no rules)
    expect(new Set(Object.values(measured))).toEqual(new Set([true, false]));
  }, IT_MS);

  it('the real CLI, plugin binary and daemon (better-sqlite3) run there: --help, VERSION, status, ADD + DEL of a netns pod', async () => {
    if (!existsSync(PLUGIN) || !existsSync(CLI)) throw new Error(`${PLUGIN} or ${CLI} missing: run npm run build first`);
    const r = await result('binaries');
    console.log(`real binaries on ${r.where}: ${(r.ms / 1000).toFixed(1)} s in all (boot included)\n${r.output}`);
    expectAll(r, [
      /^node dist\/main\/cli\.js --help$/u,
      /^dist\/bin\/terway-hub VERSION$/u,
      /^daemon wrote its conflist/u,
      /^terway-hub status$/u,
      /^plugin ADD$/u,
      /^pod has its address/u,
      /^ping node -> pod/u,
      /^plugin DEL$/u,
      /^DEL removed the pod's interface$/u,
      /^daemon stopped cleanly/u,
    ]);
    const version = JSON.parse(r.files['version.json']?.toString() ?? '{}') as { supportedVersions?: string[] };
    expect(version.supportedVersions).toContain('1.1.0');
  }, IT_MS);

  it("the harness's contract: exit status, environment, files in and out, a read-only repo, writable tmpfs", async () => {
    const r = await result('contract');
    expect(r.verdict).toBe('exited');
    expect({ code: r.code, output: r.output }).toEqual({ code: 7, output: `where=${r.where} foo=b a r cwd=${ROOT}\n` });
    expect(r.files['echo.txt']?.toString()).toBe('hello\n');
    expect(r.files['sub/bin']).toEqual(Buffer.from([0, 1]));
  }, IT_MS);

  it('a script that hangs is killed at its deadline and reported as no verdict (code 2), with its output so far', async () => {
    const r = await result('hang');
    console.log(r.output);
    expect(r.verdict).toBe('timeout');
    expect(r.code).toBe(2);
    expect(r.output).toMatch(/^NO VERDICT \((vm|host)\): timed out after \d+\.\d s/u);
    expect(r.output).toMatch(/--- script output so far ---\nstarted\n/u);
    expect(r.ms).toBeGreaterThanOrEqual(HANG_TIMEOUT_MS);
    expect(r.ms).toBeLessThan(HANG_TIMEOUT_MS + 15_000);
  }, IT_MS);
});
