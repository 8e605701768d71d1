/**
 * The executor side of the differential test (./differential.test.ts), a bun script: jest runs on Node.js, the
 * rtnetlink driver only under bun (bun:ffi), as in the plugin binary. Started as
 * `ip netns exec HOST bun run-plans.ts rtnl|iproute2` in the namespace that plays the host; reads a JSON array of
 * actions (`{ apply | teardown: Plan }`) on stdin and prints one JSON line: which driver ran the ip ops, what each
 * action returned (report, or the PlanError's fields), and every command the executor started (the test checks
 * that with rtnetlink no `ip` process ran for a supported op). Not a mock: the real executor, driver and runner.
 */
import { writeFile } from 'node:fs/promises';
import { createBunRunner } from '../../../../src/lib/exec-bun.js';
import type { Command, CommandRunner } from '../../../../src/lib/exec.js';
import { silentLogger } from '../../../../src/lib/log.js';
import { createExecutor, PlanError } from '../../../../src/netlink/executor.js';
import type { IpDriver } from '../../../../src/netlink/ip-driver.js';
import type { Plan } from '../../../../src/netlink/ops.js';
import { createRtnlDriver } from '../../../../src/netlink/rtnl/driver.js';
import { loadLibc } from '../../../../src/netlink/rtnl/socket.js';

type Action = { readonly apply: Plan } | { readonly teardown: Plan };

async function main(): Promise<void> {
  const which = process.argv[2];
  if (which !== 'rtnl' && which !== 'iproute2') throw new Error('usage: bun run-plans.ts rtnl|iproute2 < actions.json');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const actions = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Action[];
  const bunRunner = createBunRunner();
  if (bunRunner === undefined) throw new Error('not running under bun');
  const commands: { argv: string; stdin: string }[] = [];
  const runner: CommandRunner = {
    run: (cmd: Command, signal) => {
      commands.push({ argv: [cmd.file, ...cmd.args].join(' '), stdin: cmd.stdin ?? '' });
      return bunRunner.run(cmd, signal);
    },
  };
  let driver: IpDriver | undefined;
  if (which === 'rtnl') {
    // loaded here, not through the plugin's source: a driver that fails to load must fail the test, not fall back
    const sys = await loadLibc();
    if (sys === undefined) throw new Error('libc did not load through bun:ffi');
    driver = createRtnlDriver(sys);
  }
  const ip = driver;
  const executor = createExecutor({ runner, log: silentLogger, writeSysctl: (p, v) => writeFile(p, v), ...(ip !== undefined ? { ip: () => Promise.resolve(ip) } : {}) });
  const results: unknown[] = [];
  for (const a of actions) {
    if ('teardown' in a) {
      results.push({ teardown: await executor.teardown(a.teardown) });
      continue;
    }
    try {
      results.push({ applied: await executor.apply(a.apply) });
    } catch (err) {
      if (!(err instanceof PlanError)) throw err;
      results.push({ failed: { index: err.failedIndex, kind: err.failedOp.kind, stderr: err.stderr, applied: err.applied, rollbackErrors: err.rollbackErrors } });
    }
  }
  process.stdout.write(`${JSON.stringify({ driver: driver?.name ?? 'iproute2', results, commands })}\n`);
}

await main();
