/**
 * Differential test of the plugin's two ways of programming ip ops: every runnable dataplane's plans (./scenarios.ts)
 * go through the iproute2 executor and through the rtnetlink one (the same executor with src/netlink/rtnl's driver,
 * under bun as in the plugin binary: ./run-plans.ts), each in its own fresh host netns with its own pod netns
 * (./world.ts). After every phase the two worlds must agree exactly: what each action returned (reports, PlanError
 * index/text/applied count, rollback errors, teardown errors) and the kernel state (`ip -j` links, IPv4 addresses,
 * routes of every table, rules, neighbours, `tc -j` qdiscs). The rtnetlink side must have started no `ip` process.
 * ipvlan runs only where the kernel can make ipvlan links (skipped with the reason printed otherwise); its
 * `link.ipvlan` ops are the driver's one ip fallback to `ip -batch`.
 */
import { existsSync } from 'node:fs';
import { rand } from '../../../helpers/names.js';
import { sh, shTry } from '../../../helpers/exec.js';
import { describePrivileged, isRoot } from '../../../helpers/privilege.js';
import { exclusiveEniPhases, ipvlanPhases, policyRoutingPhases, vpcPhases, type Phase } from './scenarios.js';
import { BUN, createWorld, macsOf, type RunCommand, type World } from './world.js';

const d = describePrivileged('rtnetlink executor vs iproute2 executor (differential)', [existsSync(BUN), `bun missing at ${BUN}`]);

/**
 * The `ip` processes that ran (`ip …` itself or `nsenter --net=… ip …`; tc and sysctl are expected), but those whose
 * every line is an op the rtnetlink driver leaves to iproute2 on purpose (an ipvlan link).
 */
function ipProcesses(commands: readonly RunCommand[]): readonly RunCommand[] {
  const fallback = (c: RunCommand): boolean => c.stdin.trim() !== '' && c.stdin.trim().split('\n').every((l) => / type ipvlan /u.test(l));
  return commands.filter((c) => (/^ip\s/u.test(c.argv) || /^nsenter\s+\S+\s+ip\s/u.test(c.argv)) && !fallback(c));
}

/** Whether this kernel can make ipvlan links (probed in a scratch netns); the reason when it cannot. */
function ipvlanProblem(): string | undefined {
  const scratch = `rtipv${rand(4)}`;
  sh('ip', ['netns', 'add', scratch]);
  try {
    sh('ip', ['-n', scratch, 'link', 'add', 'rtp0', 'type', 'veth', 'peer', 'name', 'rtp1']);
    const r = shTry('ip', ['-n', scratch, 'link', 'add', 'link', 'rtp0', 'name', 'rtipv', 'type', 'ipvlan', 'mode', 'l2']);
    return r.code === 0 ? undefined : r.stderr.trim();
  } finally {
    shTry('ip', ['netns', 'del', scratch]);
  }
}

const ipvlanSkip = isRoot() ? ipvlanProblem() : 'not root';
if (ipvlanSkip !== undefined) console.warn(`differential: ipvlan plans skipped: this kernel cannot create ipvlan links (${ipvlanSkip})`);

const MODES: readonly { readonly mode: string; readonly phases: (pods: World['podPaths']) => readonly Phase[] }[] = [
  { mode: 'vpc', phases: vpcPhases },
  { mode: 'veth-policy-routing', phases: policyRoutingPhases },
  { mode: 'eni', phases: exclusiveEniPhases },
  ...(ipvlanSkip === undefined ? [{ mode: 'ipvlan', phases: ipvlanPhases }] : []),
];

d.each(MODES)('$mode plans', ({ phases }) => {
  const tag = rand(4);
  let worlds: readonly [World, World];

  beforeAll(() => {
    worlds = [createWorld('iproute2', tag), createWorld('rtnl', tag)];
  });
  afterAll(() => {
    for (const w of worlds) w.remove();
  });

  it('leave identical kernel state and identical answers after every phase, the rtnetlink side without ip processes', () => {
    const [ref, rtnl] = worlds;
    const refPhases = phases(ref.podPaths);
    const rtnlPhases = phases(rtnl.podPaths);
    const known = new Set([...macsOf(refPhases.flatMap((p) => p.actions)), ...macsOf(rtnlPhases.flatMap((p) => p.actions))]);
    expect(ref.state(known)).toEqual(rtnl.state(known));
    expect(rtnlPhases.length).toBe(refPhases.length); // every phase is compared, none stands in for a missing one
    let refIpProcesses = 0;
    refPhases.forEach((phase, i) => {
      const rtnlPhase = rtnlPhases[i] ?? phase;
      for (const args of phase.before ?? []) {
        ref.ip(args);
        rtnl.ip(args);
      }
      const a = ref.run(phase.actions);
      const b = rtnl.run(rtnlPhase.actions);
      refIpProcesses += ipProcesses(a.commands).length;
      expect({ phase: phase.name, driver: a.driver }).toEqual({ phase: phase.name, driver: 'iproute2' });
      expect({ phase: phase.name, driver: b.driver }).toEqual({ phase: phase.name, driver: 'rtnetlink' });
      expect({ phase: phase.name, results: b.results }).toEqual({ phase: phase.name, results: a.results });
      expect({ phase: phase.name, ipProcesses: ipProcesses(b.commands) }).toEqual({ phase: phase.name, ipProcesses: [] });
      expect({ phase: phase.name, state: rtnl.state(known) }).toEqual({ phase: phase.name, state: ref.state(known) });
    });
    // the no-ip-process check can fail: the reference ran ip processes for the same phases
    expect(refIpProcesses).toBeGreaterThan(0);
  });
});

