/**
 * Real-kernel tests for the ipvlan dataplane's layout (issue 8): Terway's ipvlan L2 layout built by hand with ip/tc
 * and checked with traffic, and the hub's real binaries (CLI, plugin, daemon with its native addon) on the same
 * kernel. This machine's kernel has no ipvlan, so they run in a VM booted from Debian's kernel
 * (test/helpers/vm.ts); on a kernel with ipvlan they run here, in a throwaway netns. They skip, saying why, only
 * when neither is possible.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, NODE, PLUGIN, ROOT } from '../helpers/hub.js';
import { rand } from '../helpers/names.js';
import { describeIf } from '../helpers/privilege.js';
import { ipvlanKernel, type KernelRun } from '../helpers/vm.js';

const kernel = ipvlanKernel();
const script = (name: string): string => readFileSync(join(ROOT, 'test', 'vm', name), 'utf8');

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

describeIf(kernel.ok, `ipvlan real-kernel tests: ${kernel.ok ? '' : kernel.reason}`)(`ipvlan on a real kernel (${kernel.ok ? kernel.detail : 'none'})`, () => {
  if (!kernel.ok) return;

  it("Terway's ipvlan L2 layout by hand: pod<->pod, pod->node, pod->service redirected to the node, tbf measured", async () => {
    const rateMbit = 10;
    const r = await kernel.run(script('ipvlan-layout.sh'), { timeoutMs: 150_000, env: { P: `vm${rand(4)}`, RATE_MBIT: String(rateMbit) } });
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
  }, 200_000);

  it('the real CLI, plugin binary and daemon (better-sqlite3) run there: --help, VERSION, status, ADD + DEL of a netns pod', async () => {
    if (!existsSync(PLUGIN) || !existsSync(CLI)) throw new Error(`${PLUGIN} or ${CLI} missing: run npm run build first`);
    const r = await kernel.run(script('real-binaries.sh'), { timeoutMs: 150_000, env: { P: `vm${rand(4)}`, NODE } });
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
  }, 200_000);
});
