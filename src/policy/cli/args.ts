/**
 * Pure argument parsing of `terway-hub policy explain|matrix|diff|verify`. Throws InvalidInputError naming the flag;
 * the caller prints it with the usage and exits 2.
 */
import { parseArgs } from 'node:util';
import { InvalidInputError } from '../../lib/errors.js';
import { quote } from '../../lib/text.js';
import type { Endpoint } from '../model/endpoint.js';
import type { PortProto } from '../model/matrix.js';
import { PROTOCOLS, type Protocol } from '../model/types.js';

export const POLICY_USAGE = `usage: terway-hub policy <explain|matrix|diff|verify> [flags]
  explain [-f OBJECTS] --from NS/POD|IP --to NS/POD|IP --port PORT[/PROTO] [--json]
          why a connection is allowed or denied (exit 0 allowed, 1 denied)
  matrix  [-f OBJECTS] [--port PORT[/PROTO]]... [--json]
          every ordered pair of distinct pods, per port (default 80/TCP)
  diff    -f NEW [--port PORT[/PROTO]]... [--json]
          what-if: pod pairs whose verdict changes when NEW's objects replace the live ones (exit 0 none, 1 some)
  verify  [--json]
          the builtin backend's nftables tables on this node against the live model (exit 0 equal, 1 drift)
  OBJECTS: YAML/JSON as \`kubectl get -o yaml\` writes (documents or a List) of Namespace, Pod, NetworkPolicy, Node.
  Without -f: the daemon's live model over its socket (--socket PATH, --timeout MS).
  PROTO: TCP (default), UDP or SCTP. Exit 2: bad flags or objects; 3: the daemon could not be asked.`;

interface Common {
  /** -f: a file path (`-` = stdin); undefined = the daemon's live model. */
  readonly file: string | undefined;
  readonly json: boolean;
  readonly socket: string | undefined;
  readonly timeoutMs: number;
}

export type PolicyCommand =
  | (Common & { readonly command: 'explain'; readonly from: Endpoint; readonly to: Endpoint; readonly port: PortProto })
  | (Common & { readonly command: 'matrix'; readonly ports: readonly PortProto[] })
  | (Common & { readonly command: 'diff'; readonly file: string; readonly ports: readonly PortProto[] })
  | (Common & { readonly command: 'verify' });

export const DEFAULT_PORT: PortProto = { port: 80, protocol: 'TCP' };

/** `80`, `80/TCP`, `53/udp`. */
export function parsePortProto(raw: string, flag = '--port'): PortProto {
  const m = /^(\d{1,5})(?:\/([A-Za-z]+))?$/u.exec(raw.trim());
  if (m === null) throw new InvalidInputError(flag, `expected PORT or PORT/PROTO (e.g. 80/TCP, 53/UDP); got ${quote(raw)}`);
  const port = Number(m[1]);
  if (port < 1 || port > 65535) throw new InvalidInputError(flag, `port must be 1..65535; got ${quote(raw)}`);
  const protocol = (m[2] ?? 'TCP').toUpperCase();
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) throw new InvalidInputError(flag, `protocol must be TCP, UDP or SCTP; got ${quote(m[2])}`);
  return { port, protocol: protocol as Protocol };
}

/** `ns/pod` names a pod; anything else is taken as an IP (the evaluator checks it). */
export function parseEndpoint(raw: string, flag: string): Endpoint {
  const v = raw.trim();
  if (v === '') throw new InvalidInputError(flag, 'expected NAMESPACE/POD or an IP address');
  if (!v.includes('/')) return { ip: v };
  const [ns = '', pod = '', ...rest] = v.split('/');
  if (ns === '' || pod === '' || rest.length > 0) throw new InvalidInputError(flag, `expected NAMESPACE/POD or an IP address; got ${quote(raw)}`);
  return { pod: v };
}

function required(v: string | undefined, flag: string): string {
  if (v === undefined) throw new InvalidInputError(flag, 'is required');
  return v;
}

export function parsePolicyArgs(argv: readonly string[]): PolicyCommand {
  const [command, ...rest] = argv;
  if (command !== 'explain' && command !== 'matrix' && command !== 'diff' && command !== 'verify') {
    throw new InvalidInputError('command', command === undefined ? 'missing (explain, matrix, diff or verify)' : `unknown: ${quote(command)} (explain, matrix, diff or verify)`);
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: [...rest],
      strict: true,
      allowPositionals: false,
      options: {
        file: { type: 'string', short: 'f' },
        from: { type: 'string' },
        to: { type: 'string' },
        port: { type: 'string', multiple: true },
        json: { type: 'boolean' },
        socket: { type: 'string' },
        timeout: { type: 'string' },
      },
    }));
  } catch (e) {
    // node:util's parse errors (their `message` alone: "Unknown option '--x'")
    const message = typeof e === 'object' && e !== null && 'message' in e && typeof e.message === 'string' ? e.message : String(e);
    throw new InvalidInputError('flags', message);
  }
  const timeoutRaw = values.timeout ?? '10000';
  const timeoutMs = Number(timeoutRaw);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new InvalidInputError('--timeout', `must be a positive number of milliseconds; got ${quote(timeoutRaw)}`);
  const common: Common = { file: values.file, json: values.json === true, socket: values.socket, timeoutMs };
  const ports = (values.port ?? []).map((p) => parsePortProto(p));
  const only = (flags: readonly (keyof typeof values)[]): void => {
    for (const f of flags) if (values[f] !== undefined) throw new InvalidInputError(`--${f}`, `is not a flag of policy ${command}`);
  };
  if (command === 'explain') {
    if (ports.length !== 1) throw new InvalidInputError('--port', ports.length === 0 ? 'is required' : 'give exactly one --port to explain');
    const [port = DEFAULT_PORT] = ports;
    return { ...common, command, from: parseEndpoint(required(values.from, '--from'), '--from'), to: parseEndpoint(required(values.to, '--to'), '--to'), port };
  }
  only(['from', 'to']);
  if (command === 'verify') {
    only(['file', 'port']);
    return { ...common, command };
  }
  const list = ports.length === 0 ? [DEFAULT_PORT] : dedupe(ports);
  if (command === 'matrix') return { ...common, command, ports: list };
  return { ...common, command, file: required(values.file, '-f'), ports: list };
}

function dedupe(ports: readonly PortProto[]): PortProto[] {
  const out: PortProto[] = [];
  for (const p of ports) if (!out.some((q) => q.port === p.port && q.protocol === p.protocol)) out.push(p);
  return out;
}
