/**
 * `terway-hub policy explain|matrix|diff|verify`: reads OBJECTS (-f, `-` = stdin) or the daemon's live model over
 * its socket, runs the pure evaluator and prints; `verify` asks the daemon to compare its programmed nftables
 * tables with the live model's compilation. Parsing and formatting are pure (src/policy/cli); this file is the I/O.
 * Exit codes: 0 allowed / no change / done / no drift; 1 denied (explain), changes (diff) or drift (verify); 2 bad flags or objects (nothing
 * is evaluated); 3 the daemon could not be asked.
 */
import { InvalidInputError, errorMessage } from '../lib/errors.js';
import { DEFAULT_SOCKET, type PolicyModelReply, type PolicyVerifyReply } from '../rpc/protocol.js';
import { POLICY_USAGE, parsePolicyArgs, type PolicyCommand } from '../policy/cli/args.js';
import { diffModels, formatDiff, overlayModel } from '../policy/cli/diff.js';
import { formatDecision } from '../policy/cli/format-explain.js';
import { formatMatrix } from '../policy/cli/format-matrix.js';
import { createEvaluator } from '../policy/model/decide.js';
import { matrix } from '../policy/model/matrix.js';
import { readObjects } from '../policy/model/objects.js';
import { podKey, type PolicyModel } from '../policy/model/types.js';
import { askDaemon, DaemonCallError } from './daemon-call.js';
import { processTextIo, type TextIo } from './text-io.js';

export const EXIT = { ok: 0, deniedOrChanged: 1, usage: 2, daemon: 3 } as const;

export interface PolicyIo extends TextIo {
  readonly liveModel: (socket: string, timeoutMs: number) => Promise<PolicyModelReply>;
  readonly verify: (socket: string, timeoutMs: number) => Promise<PolicyVerifyReply>;
}

/** `policy verify`'s text: one line per scope compared, then each drift. */
export function formatVerify(r: PolicyVerifyReply): string {
  const head = r.drift.length === 0 ? `OK: ${r.backend} tables match the live model in ${String(r.scopes.length)} scope(s)` : `DRIFT: ${String(r.drift.length)} difference(s) between the programmed tables and the live model`;
  return [head, ...r.scopes.map((s) => `  scope ${s}`), ...r.drift.map((d) => `  drift: ${d}`), ''].join('\n');
}

/** Refusals of the reader, as the exit-2 outcome. */
class ObjectsRefused extends Error {}

interface Loaded {
  readonly model: PolicyModel;
  readonly notes: readonly string[];
}

function load(io: PolicyIo, text: string, source: string): Loaded {
  const r = readObjects(text);
  if (!r.ok) {
    io.err(`${source}: refused, nothing evaluated:\n${r.errors.map((e) => `  ${e.message}`).join('\n')}\n`);
    throw new ObjectsRefused();
  }
  return { model: r.model, notes: r.notes };
}

function printNotes(io: PolicyIo, notes: readonly string[]): void {
  for (const n of notes) io.err(`note: ${n}\n`);
}

async function fromFile(io: PolicyIo, path: string): Promise<Loaded> {
  let text: string;
  try {
    text = await io.readText(path);
  } catch (e) {
    throw new InvalidInputError('-f', `cannot read ${path}: ${errorMessage(e)}`);
  }
  return load(io, text, path);
}

async function live(io: PolicyIo, cmd: PolicyCommand): Promise<Loaded> {
  const reply = await io.liveModel(cmd.socket ?? DEFAULT_SOCKET, cmd.timeoutMs);
  if (!reply.kubernetes) io.err('note: the daemon follows no Kubernetes API: its live model is empty\n');
  for (const r of reply.refused) io.err(`warning: left out of the live model: ${r}\n`);
  return load(io, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: reply.objects }), `live model of ${reply.nodeName === '' ? 'the daemon' : reply.nodeName}`);
}

async function run(io: PolicyIo, cmd: PolicyCommand): Promise<number> {
  if (cmd.command === 'verify') {
    const r = await io.verify(cmd.socket ?? DEFAULT_SOCKET, cmd.timeoutMs);
    io.out(cmd.json ? `${JSON.stringify(r)}\n` : formatVerify(r));
    return r.drift.length === 0 ? EXIT.ok : EXIT.deniedOrChanged;
  }
  if (cmd.command === 'diff') {
    const top = await fromFile(io, cmd.file);
    const base = await live(io, cmd);
    printNotes(io, base.notes);
    // a namespace NEW only implies keeps its live labels: the reader's "assumed" note would mislead
    const impliedOnly = (n: string): boolean => [...base.model.namespaces.values()].some((ns) => !ns.synthesized && n.startsWith(`Namespace ${ns.name}: not in the input`));
    printNotes(io, top.notes.filter((n) => !impliedOnly(n)));
    const d = diffModels(base.model, overlayModel(base.model, top.model), cmd.ports);
    io.out(cmd.json ? `${JSON.stringify(d)}\n` : formatDiff(d));
    return d.allowedToDenied.length + d.deniedToAllowed.length === 0 ? EXIT.ok : EXIT.deniedOrChanged;
  }
  const { model, notes } = cmd.file !== undefined ? await fromFile(io, cmd.file) : await live(io, cmd);
  printNotes(io, notes);
  if (cmd.command === 'explain') {
    const d = createEvaluator(model).decide(cmd.from, cmd.to, cmd.port.port, cmd.port.protocol);
    io.out(cmd.json ? `${JSON.stringify(d)}\n` : formatDecision(d));
    return d.allowed ? EXIT.ok : EXIT.deniedOrChanged;
  }
  const result = matrix(model, cmd.ports);
  io.out(cmd.json ? `${JSON.stringify(result)}\n` : formatMatrix(model.pods.map(podKey), cmd.ports, result));
  return EXIT.ok;
}

export async function runPolicy(argv: readonly string[], io: PolicyIo): Promise<number> {
  if (argv[0] === undefined || argv[0] === '-h' || argv[0] === '--help' || argv[0] === 'help') {
    io.out(`${POLICY_USAGE}\n`);
    return argv[0] === undefined ? EXIT.usage : EXIT.ok;
  }
  try {
    return await run(io, parsePolicyArgs(argv));
  } catch (e) {
    if (e instanceof ObjectsRefused) return EXIT.usage;
    if (e instanceof InvalidInputError) {
      io.err(`error: ${e.message}\n${e.field.startsWith('-') || e.field === 'flags' || e.field === 'command' ? `${POLICY_USAGE}\n` : ''}`);
      return EXIT.usage;
    }
    if (e instanceof DaemonCallError) {
      io.err(argv[0] === 'verify' ? `error: could not ask the daemon to verify (${e.details})\n` : `error: could not ask the daemon for its live model (${e.details}); give -f OBJECTS to evaluate a file\n`);
      return EXIT.daemon;
    }
    throw e;
  }
}

/** The real I/O: files and stdin, the daemon's socket. */
export const processPolicyIo: PolicyIo = {
  ...processTextIo,
  liveModel: (socket, timeoutMs) => askDaemon(socket, timeoutMs, (c) => c.policyModel({})),
  verify: (socket, timeoutMs) => askDaemon(socket, timeoutMs, (c) => c.policyVerify({})),
};
