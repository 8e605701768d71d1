/**
 * Real-kernel tests: run a bash script on a kernel that has ipvlan — this machine's when it has ipvlan (in a throwaway
 * network + mount namespace), else a qemu VM booted from Debian's stock kernel (scripts/vm-image.sh builds the
 * image; test/vm/init.sh is its PID 1).
 *
 * The VM (qemu TCG — never KVM, which hangs here — `-M microvm`, the uncompressed kernel booted directly, one vCPU,
 * no network device) runs the HOST's userland: the host's `/` is mounted read-only over virtio-9p and the script runs
 * chrooted into it, so node, node_modules (native addons included), the repo, `dist/`, ip/tc/nsenter and iperf3 are
 * at their host paths. Writable: tmpfs on /run, /tmp, /var/tmp and the hub's state dirs; the exchange directory
 * `$VM_IO` (read-write 9p to a host temp dir) carries the script, the `files` given, and back whatever the script
 * writes under `$VM_IO/out`. The script runs in a fresh netns set up by scripts/hermetic-netns.sh (lo, the uplink
 * hostup0 198.51.100.2/24, private /run/netns), on the host path and in the VM alike.
 *
 * Cost of one `runInVm` (this 2-core machine, under other load): ≈ 2–3 s of boot before the script starts, the
 * first `node` start 5–10 s (node and its modules read over 9p under emulation; later ones ≈ 1–2 s), each ip/tc
 * process ≈ 0.1 s (batch with `ip -batch`), the daemon ready ≈ 10–13 s. At most two VMs run at once on this machine
 * (two flock slots in the image cache); a third call waits for a slot, and its deadline and its `ms` start when it boots.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { ROOT } from './hub.js';
import { inThrowawayNetns, isRoot } from './privilege.js';
import { tempDir } from './tmp.js';
import { sleep } from './wait.js';

export const VM_IMAGE_SCRIPT = join(ROOT, 'scripts', 'vm-image.sh');
export const VM_CACHE = process.env.TERWAY_HUB_VM_CACHE ?? '/var/cache/terway-hub-vm';
const HERMETIC = join(ROOT, 'scripts', 'hermetic-netns.sh');
const SLOTS = 2;
/** Where the guest mounts the exchange directory (test/vm/init.sh). */
const VM_IO_IN_GUEST = '/run/vm-io';
/** flock's status when the slot is taken (qemu's own statuses are odd or 0, timeout's 124). */
const SLOT_BUSY = 200;
const SLOT_WAIT_MS = 15 * 60_000;

export interface VmImage {
  readonly dir: string;
  readonly vmlinux: string;
  readonly initramfs: string;
  readonly kernelRelease: string;
}

export type VmAvailability = { readonly ok: true; readonly image: VmImage } | { readonly ok: false; readonly reason: string };

let available: VmAvailability | undefined;

/**
 * Whether a VM can be booted here: the image exists or can be built. Runs scripts/vm-image.sh (≈ 1–2 s when the image
 * is cached; a cold build downloads the kernel and builds, ≈ 12 s, and installs missing packages). Needs root. Inside
 * `npm test`'s throwaway network namespace (no route out) it builds with `--offline`: no apt-get, so it can only use
 * what scripts/test.ts prepared before. Memoised per process.
 */
export function vmAvailable(): VmAvailability {
  if (available) return available;
  if (!isRoot()) return (available = { ok: false, reason: 'no VM: needs root (the image cache, its locks and the apt packages are root\'s)' });
  const offline = inThrowawayNetns();
  const r = spawnSync('bash', [VM_IMAGE_SCRIPT, ...(offline ? ['--offline'] : [])], { encoding: 'utf8', timeout: 20 * 60_000 });
  const image = /^image (.+)$/mu.exec(r.stdout.trim().split('\n').pop() ?? '')?.[1];
  if (r.status !== 0 || image === undefined) {
    const last = r.stderr.trim().split('\n').pop() ?? '';
    const reason = last.startsWith('unavailable: ') ? last.slice('unavailable: '.length) : `scripts/vm-image.sh failed (${r.error?.message ?? `status ${String(r.status)}`}): ${last}`;
    available = { ok: false, reason: `no VM image: ${reason}` };
  } else {
    available = {
      ok: true,
      image: { dir: image, vmlinux: join(image, 'vmlinux'), initramfs: join(image, 'initramfs.cpio'), kernelRelease: readFileSync(join(image, 'kernel-release'), 'utf8').trim() },
    };
  }
  return available;
}

export interface KernelRunOptions {
  /** Wall-clock limit for the whole call (boot included for a VM); on expiry the VM is killed: verdict `timeout`. */
  readonly timeoutMs: number;
  /** Files put into `$VM_IO` before the script starts (relative paths, no `..`). */
  readonly files?: Readonly<Record<string, string | Uint8Array>>;
  /** Environment for the script (KEY=VALUE; no newlines): it otherwise gets only PATH, HOME=/tmp, LANG, VM_IO, VM_WHERE (vm|host). */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory of the script (a host path): default the repo root. */
  readonly cwd?: string;
  /** VM memory (default 1024 MiB: node needs more than 512). */
  readonly memoryMiB?: number;
}

export type KernelVerdict = 'exited' | 'timeout' | 'boot-failed';

export interface KernelRun {
  /** The script's exit status when it ran to the end; 2 (no verdict) otherwise, like the recipe's vmtest.sh. */
  readonly code: number;
  readonly verdict: KernelVerdict;
  /** The script's stdout+stderr; without a verdict, a report (what happened, the console's last lines) first. */
  readonly output: string;
  /** Whatever the script wrote under `$VM_IO/out`, by relative path. */
  readonly files: Readonly<Record<string, Buffer>>;
  /** The VM's serial console (kernel messages, init's progress lines); empty on the host. */
  readonly console: string;
  readonly where: 'vm' | 'host';
  /** Wall time of the run itself (for a VM from its boot: the wait for a slot left out). */
  readonly ms: number;
}

/** Boots one VM, runs `script` (bash) in it, powers it off. Throws only when no VM image is available. */
export async function runInVm(script: string, opts: KernelRunOptions): Promise<KernelRun> {
  const a = vmAvailable();
  if (!a.ok) throw new Error(a.reason);
  const io = prepareIo(script, opts, VM_IO_IN_GUEST);
  try {
    const khz = cpuKhz();
    // -cpu max: the bun-compiled plugin uses AVX2, which qemu's default TCG CPU (qemu64) lacks (SIGILL)
    const args = [
      '-M', 'microvm', '-accel', 'tcg', '-cpu', 'max', '-m', String(opts.memoryMiB ?? 1024), '-smp', '1',
      '-kernel', a.image.vmlinux, '-initrd', a.image.initramfs,
      '-nographic', '-no-reboot', '-nic', 'none',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
      '-fsdev', 'local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap',
      '-device', 'virtio-9p-device,fsdev=hostroot,mount_tag=hostroot',
      '-fsdev', `local,id=vmio,path=${qemuOptValue(io)},security_model=none`,
      '-device', 'virtio-9p-device,fsdev=vmio,mount_tag=vmio',
      '-append', ['console=ttyS0', 'quiet', 'panic=-1', 'pci=off', 'tsc=reliable', 'no_timer_check', ...(khz ? [`tsc_early_khz=${khz}`] : []), 'mitigations=off', 'nokaslr'].join(' '),
    ];
    const q = await inSlot('qemu-system-x86_64', args, opts.timeoutMs);
    return collect(io, { ...q, where: 'vm', ms: Date.now() - q.startedAt, status: q.status });
  } finally {
    rmSync(io, { recursive: true, force: true });
  }
}

/** Whether this machine's kernel can create an ipvlan link (tried in a throwaway netns; root only). */
export function hostHasIpvlan(): boolean {
  if (!isRoot()) return false;
  const r = spawnSync('unshare', ['--net', '--', 'ip', '-batch', '-'], {
    encoding: 'utf8',
    input: 'link add vmchk0 type veth peer name vmchk1\nlink add link vmchk0 name vmchk2 type ipvlan mode l2\n',
    timeout: 10_000,
  });
  return r.status === 0;
}

/**
 * Runs `script` with this machine's kernel in a fresh network + mount namespace set up like `npm test`'s
 * (scripts/hermetic-netns.sh: lo up, an uplink, private /run/netns and sysfs); the same contract as runInVm.
 */
export async function runOnHost(script: string, opts: KernelRunOptions): Promise<KernelRun> {
  const io = prepareIo(script, opts, undefined);
  try {
    const started = Date.now();
    const argv = readFileSync(join(io, '.vm', 'argv'), 'utf8').split('\n').slice(0, -1);
    const env = ['HOME=/tmp', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'LANG=C.UTF-8', `VM_IO=${io}`, 'VM_WHERE=host'];
    const r = await runGroup('env', ['-i', '-C', opts.cwd ?? ROOT, ...env, ...argv], opts.timeoutMs, join(io, '.vm', 'output'));
    if (!r.timedOut) writeFileSync(join(io, '.vm', 'exit-code'), `${String(r.status ?? 2)}\n`);
    return collect(io, { console: '', timedOut: r.timedOut, status: r.status, where: 'host', ms: Date.now() - started });
  } finally {
    rmSync(io, { recursive: true, force: true });
  }
}

export type IpvlanKernel =
  | { readonly ok: true; readonly where: 'host' | 'vm'; readonly detail: string; readonly run: (script: string, opts: KernelRunOptions) => Promise<KernelRun> }
  | { readonly ok: false; readonly reason: string };

/** Where ipvlan tests run: on this kernel when it has ipvlan, else in the VM; neither → why (for a printed skip). */
export function ipvlanKernel(): IpvlanKernel {
  if (hostHasIpvlan()) return { ok: true, where: 'host', detail: 'this machine\'s kernel (it has ipvlan)', run: runOnHost };
  const vm = vmAvailable();
  if (vm.ok) return { ok: true, where: 'vm', detail: `a VM booted from Debian's kernel ${vm.image.kernelRelease}`, run: runInVm };
  return { ok: false, reason: `this kernel has no ipvlan${isRoot() ? '' : ' (or could not be probed: not root)'} and ${vm.reason}` };
}

// --- internals ----------------------------------------------------------------------------------------------------

/**
 * The exchange directory: .vm/script.sh, .vm/cwd, .vm/argv (the environment as KEY=VALUE lines, then the command: bash
 * running the script in a fresh network + mount namespace set up by scripts/hermetic-netns.sh, the same on the host
 * and in the VM), out/ and the caller's files. `ioInside` is where the command will see the directory.
 */
function prepareIo(script: string, opts: KernelRunOptions, ioInside: string | undefined): string {
  const io = tempDir('vm-io-');
  const seen = ioInside ?? io;
  mkdirSync(join(io, '.vm'));
  mkdirSync(join(io, 'out'));
  writeFileSync(join(io, '.vm', 'script.sh'), script);
  writeFileSync(join(io, '.vm', 'cwd'), `${opts.cwd ?? ROOT}\n`);
  const env = Object.entries(opts.env ?? {}).map(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/u.test(k) || /[\n\0]/u.test(v)) throw new Error(`runInVm: env ${JSON.stringify(k)}=${JSON.stringify(v)}: the name must be a shell identifier and the value one line`);
    return `${k}=${v}`;
  });
  const argv = [...env, 'unshare', '--net', '--mount', '--propagation', 'private', '--', HERMETIC, '/bin/bash', join(seen, '.vm', 'script.sh')];
  if (argv.some((a) => a.includes('\n'))) throw new Error(`runInVm: a path with a newline (${JSON.stringify(argv)})`);
  writeFileSync(join(io, '.vm', 'argv'), argv.map((l) => `${l}\n`).join(''));
  for (const [name, content] of Object.entries(opts.files ?? {})) {
    const rel = normalize(name);
    if (rel.startsWith('..') || rel.startsWith(sep) || rel === '.' || rel.split(sep)[0] === '.vm') throw new Error(`runInVm: file name ${JSON.stringify(name)} must be relative, inside $VM_IO and not under .vm/`);
    mkdirSync(dirname(join(io, rel)), { recursive: true });
    writeFileSync(join(io, rel), content);
  }
  return io;
}

/** qemu's -fsdev takes comma-separated options: a comma in a value is written twice. */
function qemuOptValue(v: string): string {
  return v.replace(/,/gu, ',,');
}

/** The host's TSC rate for `tsc_early_khz` (under TCG the guest reads the host's TSC; microvm boots hang without it). */
function cpuKhz(): number | undefined {
  const mhz = /^cpu MHz\s*:\s*([0-9.]+)/mu.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
  return mhz === undefined ? undefined : Math.round(Number(mhz) * 1000);
}

interface GroupResult {
  readonly status: number | null;
  readonly timedOut: boolean;
  readonly stdout: string;
}

/** Runs a command in its own process group, output to `outFile` or collected; SIGKILLs the whole group on timeout. */
function runGroup(file: string, args: readonly string[], timeoutMs: number, outFile?: string): Promise<GroupResult> {
  return new Promise((resolve, reject) => {
    const c = spawn(file, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    c.stdout.on('data', (b: Buffer) => chunks.push(b));
    c.stderr.on('data', (b: Buffer) => chunks.push(b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-(c.pid ?? 0), 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, timeoutMs);
    c.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    c.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(chunks).toString();
      if (outFile !== undefined) writeFileSync(outFile, stdout);
      resolve({ status: code ?? (signal ? 128 : null), timedOut, stdout });
    });
  });
}

/**
 * Takes one of the machine's VM slots (flock -n on slot-N.lock) for the duration of the command. `startedAt`: when the
 * attempt that got the slot began, i.e. when the VM started (the wait for a slot is not the VM's time).
 */
async function inSlot(file: string, args: readonly string[], timeoutMs: number): Promise<{ status: number | null; timedOut: boolean; console: string; startedAt: number }> {
  const until = Date.now() + SLOT_WAIT_MS;
  for (;;) {
    for (let s = 0; s < SLOTS; s++) {
      const startedAt = Date.now();
      const r = await runGroup('flock', ['-n', '-E', String(SLOT_BUSY), join(VM_CACHE, `slot-${String(s)}.lock`), file, ...args], timeoutMs);
      if (r.status !== SLOT_BUSY || r.timedOut) return { status: r.status, timedOut: r.timedOut, console: r.stdout, startedAt };
    }
    if (Date.now() > until) throw new Error(`runInVm: no free VM slot in ${String(SLOT_WAIT_MS / 60_000)} min (${String(SLOTS)} VMs at most; ${VM_CACHE}/slot-*.lock held)`);
    await sleep(1000);
  }
}

function readTree(dir: string, base = dir, acc: Record<string, Buffer> = {}): Record<string, Buffer> {
  if (!existsSync(dir)) return acc;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) readTree(p, base, acc);
    else if (e.isFile()) acc[relative(base, p)] = readFileSync(p);
  }
  return acc;
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function collect(io: string, r: { console: string; timedOut: boolean; status: number | null; where: 'vm' | 'host'; ms: number }): KernelRun {
  const vm = join(io, '.vm');
  const output = existsSync(join(vm, 'output')) ? readFileSync(join(vm, 'output'), 'utf8') : '';
  const codeFile = join(vm, 'exit-code');
  const files = readTree(join(io, 'out'));
  const base = { files, console: r.console, where: r.where, ms: r.ms };
  if (existsSync(codeFile)) return { ...base, code: Number(readFileSync(codeFile, 'utf8').trim()), verdict: 'exited', output };
  const verdict: KernelVerdict = r.timedOut ? 'timeout' : 'boot-failed';
  const what =
    r.timedOut
      ? `timed out after ${(r.ms / 1000).toFixed(1)} s (the ${r.where === 'vm' ? 'VM was killed: a hang in boot or in the script' : 'script was killed'})`
      : r.where === 'vm'
        ? `the VM stopped without running the script to its end (qemu status ${String(r.status)}: 3 = init failed setting up, 0 = kernel panic or power-off, other = qemu error)`
        : `the script did not finish (status ${String(r.status)})`;
  const report = [`NO VERDICT (${r.where}): ${what}`, ...(r.console ? ['--- last console lines ---', tail(r.console, 30)] : []), '--- script output so far ---', output].join('\n');
  return { ...base, code: 2, verdict, output: report };
}
