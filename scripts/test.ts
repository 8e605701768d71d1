/**
 * `npm test` after the build (`bun scripts/test.ts [jest args]`):
 *
 * 0. installs the Debian packages the suites use when they are missing (scripts/prereqs.ts);
 * 1. snapshots the real host's network state (scripts/host-check.ts) in the real host netns;
 * 2. as root, runs the whole jest run (unit and privileged suites, `--runInBand`) inside a throwaway network and
 *    mount namespace, `unshare --net --mount --propagation private -- scripts/hermetic-netns.sh jest…`, where that
 *    namespace is the suites' "host" (its own lo, uplink, /run/netns, sysfs, sysctls); not as root, runs jest
 *    directly (the privileged suites skip themselves, saying why);
 * 3. snapshots the real host again and fails (exit 1, the differences printed) when anything changed, even if
 *    every test passed.
 *
 * Before jest, as root, it prepares the real-kernel VM image (scripts/vm-image.sh: installs its apt packages when
 * missing, downloads Debian's kernel once, builds the cached image) when the run may include test/vm: in the real
 * host's namespaces, because the throwaway one has no route out. A failure is printed and the run goes on (the
 * suite then reports why it cannot run).
 *
 * Extra arguments go to jest: `sudo bun scripts/test.ts test/privileged/netlink` runs one folder the same way.
 */
import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { NODE, ROOT } from '../test/helpers/hub.js';
import { HOST_NETNS_ENV, isRoot } from '../test/helpers/privilege.js';
import { diffSnapshots, entryCount, formatChanges, snapshotHostNetwork, VOLATILE } from './host-check.js';
import { TEST_PREREQS, ensurePrereqs } from './prereqs.js';

// --forceExit: a handle some suite leaks (jest then prints "did not exit one second after the test run") must not
// keep a finished run — and CI — waiting forever; the warning stays visible in the output.
const jest = [NODE, '--experimental-vm-modules', join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), '--runInBand', '--forceExit', ...process.argv.slice(2)];
const hermetic = isRoot();
const argv = hermetic ? ['unshare', '--net', '--mount', '--propagation', 'private', '--', join(ROOT, 'scripts', 'hermetic-netns.sh'), ...jest] : jest;

ensurePrereqs(TEST_PREREQS, 'test');
if (!hermetic) console.log('test: not root, so jest runs in this network namespace; the privileged suites skip themselves (they need root)');

/** Whether jest's path patterns (its non-option arguments; none = every suite) select the VM suite. */
function runsVmSuite(args: readonly string[]): boolean {
  const patterns = args.filter((a) => !a.startsWith('-'));
  const suite = join(ROOT, 'test', 'vm', 'ipvlan-kernel.test.ts');
  return patterns.length === 0 || patterns.some((p) => { try { return new RegExp(p, 'iu').test(suite); } catch { return false; } });
}

if (hermetic && runsVmSuite(process.argv.slice(2))) {
  const t0 = Date.now();
  const vm = spawnSync('bash', [join(ROOT, 'scripts', 'vm-image.sh')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  const image = /^image (.+)$/mu.exec(vm.stdout)?.[1];
  console.log(image !== undefined && vm.status === 0
    ? `test: VM image ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${image}`
    : `test: VM image not prepared (scripts/vm-image.sh exited ${String(vm.status ?? vm.signal)}); the real-kernel suite says why`);
}

const before = snapshotHostNetwork();
const started = Date.now();
const run = spawnSync(argv[0] ?? '', argv.slice(1), {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, [HOST_NETNS_ENV]: readlinkSync('/proc/self/ns/net') },
});
const seconds = ((Date.now() - started) / 1000).toFixed(1);
const after = snapshotHostNetwork();
const changes = diffSnapshots(before, after);

if (run.error) console.error(`test: could not start ${argv[0] ?? ''}: ${run.error.message}`);
const jestCode = run.status ?? 1;
console.log(`test: jest ${hermetic ? 'in a throwaway network namespace ' : ''}exited ${run.signal ?? String(jestCode)} after ${seconds} s`);
if (changes.length === 0) {
  console.log(
    `test: host check passed: the real host's links, addresses, routes, rules, qdiscs, netns names and net.ipv4 sysctls are as before the run (${String(entryCount(after))} entries; not compared: ${VOLATILE.sysctls.join(', ')}, address lifetimes, route expiry, qdisc refcnt)`,
  );
} else {
  console.error(`test: host check FAILED: the run changed the real host's network state (${String(changes.length)} differences):\n${formatChanges(changes)}`);
}
process.exit(jestCode !== 0 ? jestCode : changes.length > 0 ? 1 : 0);
