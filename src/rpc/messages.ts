/**
 * Parsers for every message of ./protocol.ts, both directions: the daemon parses requests, the plugin parses replies.
 * Each throws InvalidInputError naming the bad field (dotted path). Pure. The allocation (a union by mode) has its
 * own parser, shared with the lease store: src/modes/allocation.ts.
 */
import { parseIfName, parseIp, parseNetnsPath } from '../lib/brand.js';
import { InvalidInputError } from '../lib/errors.js';
import { quote } from '../lib/text.js';
import { containerIdProblem, dnsLabelProblem, dnsSubdomainProblem, podIdentityProblem } from '../lib/validate/names.js';
import { isEmptySpec } from '../bandwidth/types.js';
import { parseAllocation, parseBandwidth } from '../modes/allocation.js';
import type {
  AllocateReply,
  AllocateRequest,
  AttachmentKey,
  GcReply,
  GcRequest,
  ConfirmReply,
  ConfirmRequest,
  LookupReply,
  LookupRequest,
  ReleaseReply,
  ReleaseRequest,
  PolicyModelReply,
  PolicyModelRequest,
  PolicyVerifyReply,
  PolicyVerifyRequest,
  PoolLevels,
  StatusReply,
  StatusRequest,
  WhyReason,
  WhyReply,
  WhyRequest,
} from './protocol.js';
import { arr, bool, int, obj, str, type Obj } from '../lib/validate/input-fields.js';

export { parseAllocation, parseBandwidth };





function attachmentKey(o: Obj, field: string): AttachmentKey {
  const containerId = str(o, 'containerId', field);
  const problem = containerIdProblem(containerId);
  if (problem !== undefined) throw new InvalidInputError(`${field}containerId`, `${problem}: ${quote(containerId)}`);
  const ifName = parseIfName(str(o, 'ifName', field), `${field}ifName`);
  return { containerId, ifName };
}

export function parseAttachmentKey(raw: unknown, field = ''): AttachmentKey {
  return attachmentKey(obj(raw, field === '' ? 'request' : field.slice(0, -1)), field);
}

export function parseAllocateRequest(raw: unknown): AllocateRequest {
  const o = obj(raw, 'request');
  const netns = parseNetnsPath(str(o, 'netns', ''), 'netns');
  const podNamespace = str(o, 'podNamespace', '');
  const podName = str(o, 'podName', '');
  const infraContainerId = str(o, 'infraContainerId', '');
  const identity = podIdentityProblem(podNamespace, podName, infraContainerId);
  if (identity !== undefined) throw new InvalidInputError('podName', `${identity}: ${quote([podNamespace, podName, infraContainerId], 256)}`);
  // optional (older plugins do not send it); an empty spec or null means no runtimeConfig limits
  const rb = o.runtimeBandwidth === undefined || o.runtimeBandwidth === null ? undefined : parseBandwidth(o.runtimeBandwidth, 'runtimeBandwidth.');
  const requestedIp = o.requestedIp === undefined ? undefined : parseIp(str(o, 'requestedIp', ''), 'requestedIp');
  return {
    ...attachmentKey(o, ''),
    netns,
    podNamespace,
    podName,
    infraContainerId,
    ...(rb !== undefined && !isEmptySpec(rb) ? { runtimeBandwidth: rb } : {}),
    ...(requestedIp !== undefined ? { requestedIp } : {}),
  };
}

export function parseAllocateReply(raw: unknown): AllocateReply {
  const o = obj(raw, 'reply');
  return { allocation: parseAllocation(o.allocation) };
}

export function parseLookupRequest(raw: unknown): LookupRequest {
  const o = obj(raw, 'request');
  const key = attachmentKey(o, '');
  if (o.intent === undefined) return key;
  const intent = str(o, 'intent', '');
  if (intent !== 'delete') throw new InvalidInputError('intent', `unknown lookup intent ${quote(intent)} (only "delete")`);
  return { ...key, intent };
}

export function parseLookupReply(raw: unknown): LookupReply {
  const o = obj(raw, 'reply');
  const found = bool(o, 'found', '');
  if (!found) return { found };
  const netns = o.netns === undefined || o.netns === '' ? undefined : parseNetnsPath(str(o, 'netns', ''), 'netns');
  const superseded = o.superseded === undefined ? false : bool(o, 'superseded', '');
  return { found, allocation: parseAllocation(o.allocation), ...(netns !== undefined ? { netns } : {}), ...(superseded ? { superseded } : {}) };
}

export function parseReleaseRequest(raw: unknown): ReleaseRequest {
  const o = obj(raw, 'request');
  return { ...attachmentKey(o, ''), reason: str(o, 'reason', '') };
}

export function parseReleaseReply(raw: unknown): ReleaseReply {
  return { released: bool(obj(raw, 'reply'), 'released', '') };
}

/** A plugin-measured duration: milliseconds, finite, 0 up to an hour. */
const MAX_TIMING_MS = 3_600_000;

function timingMs(o: Obj, key: string): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_TIMING_MS) throw new InvalidInputError(`timings.${key}`, `must be milliseconds, 0 to ${String(MAX_TIMING_MS)}: ${quote(v)}`);
  return v;
}

export function parseConfirmRequest(raw: unknown): ConfirmRequest {
  const o = obj(raw, 'request');
  const key = attachmentKey(o, '');
  if (o.timings === undefined) return key;
  const t = obj(o.timings, 'timings');
  const netlinkMs = timingMs(t, 'netlinkMs');
  const pluginMs = timingMs(t, 'pluginMs');
  return { ...key, timings: { ...(netlinkMs !== undefined ? { netlinkMs } : {}), ...(pluginMs !== undefined ? { pluginMs } : {}) } };
}

export function parseConfirmReply(raw: unknown): ConfirmReply {
  return { confirmed: bool(obj(raw, 'reply'), 'confirmed', '') };
}

export function parseStatusRequest(raw: unknown): StatusRequest {
  obj(raw, 'request');
  return {};
}

export function parseStatusReply(raw: unknown): StatusReply {
  const o = obj(raw, 'reply');
  const base = {
    ready: bool(o, 'ready', ''),
    mode: str(o, 'mode', ''),
    reason: str(o, 'reason', ''),
    ...(o.configError !== undefined ? { configError: str(o, 'configError', '') } : {}),
    ...(o.pools !== undefined ? { pools: arr(o, 'pools', '').map((p, i) => parsePoolLevels(p, `pools[${String(i)}].`)) } : {}),
    ...(o.nodeSetup !== undefined ? { nodeSetup: str(o, 'nodeSetup', '') } : {}),
  };
  if (o.policy === undefined) return base;
  const p = obj(o.policy, 'policy');
  return {
    ...base,
    policy: {
      backend: str(p, 'backend', 'policy.'),
      state: str(p, 'state', 'policy.'),
      why: str(p, 'why', 'policy.'),
      restarts: int(p, 'restarts', 'policy.', 0, Number.MAX_SAFE_INTEGER),
      chainEntryActive: bool(p, 'chainEntryActive', 'policy.'),
      warnings: arr(p, 'warnings', 'policy.').map((w, i) => {
        if (typeof w !== 'string') throw new InvalidInputError(`policy.warnings[${String(i)}]`, 'must be a string');
        return w;
      }),
      ...(p.rules !== undefined ? { rules: int(p, 'rules', 'policy.', 0, Number.MAX_SAFE_INTEGER) } : {}),
      ...(p.lastApply !== undefined ? { lastApply: str(p, 'lastApply', 'policy.') } : {}),
      ...(p.lastError !== undefined ? { lastError: str(p, 'lastError', 'policy.') } : {}),
    },
  };
}

export function parseGcRequest(raw: unknown): GcRequest {
  const o = obj(raw, 'request');
  return { validAttachments: arr(o, 'validAttachments', '').map((a, i) => parseAttachmentKey(a, `validAttachments[${String(i)}].`)) };
}

export function parseGcReply(raw: unknown): GcReply {
  const o = obj(raw, 'reply');
  return {
    released: arr(o, 'released', '').map((a, i) => parseAttachmentKey(a, `released[${String(i)}].`)),
    errors: arr(o, 'errors', '').map((e, i) => {
      if (typeof e !== 'string') throw new InvalidInputError(`errors[${String(i)}]`, 'must be a string');
      return e;
    }),
  };
}

export function parsePolicyModelRequest(raw: unknown): PolicyModelRequest {
  obj(raw, 'request');
  return {};
}

export function parsePolicyVerifyRequest(raw: unknown): PolicyVerifyRequest {
  obj(raw, 'request');
  return {};
}

export function parsePolicyVerifyReply(raw: unknown): PolicyVerifyReply {
  const o = obj(raw, 'reply');
  return { backend: str(o, 'backend', ''), scopes: strings(o, 'scopes'), drift: strings(o, 'drift') };
}

function strings(o: Obj, key: string): string[] {
  return arr(o, key, '').map((v, i) => {
    if (typeof v !== 'string') throw new InvalidInputError(`${key}[${String(i)}]`, 'must be a string');
    return v;
  });
}

/** The objects are parsed by the NetworkPolicy model's reader (src/policy/model/objects.ts) afterwards. */
export function parsePolicyModelReply(raw: unknown): PolicyModelReply {
  const o = obj(raw, 'reply');
  return { kubernetes: bool(o, 'kubernetes', ''), nodeName: str(o, 'nodeName', ''), objects: arr(o, 'objects', ''), refused: strings(o, 'refused') };
}

function parsePoolLevels(raw: unknown, field: string): PoolLevels {
  const o = obj(raw, field.slice(0, -1));
  const kind = str(o, 'kind', field);
  if (kind !== 'ip' && kind !== 'eni') throw new InvalidInputError(`${field}kind`, `must be "ip" or "eni": ${quote(kind)}`);
  const n = (k: string): number => int(o, k, field, 0, Number.MAX_SAFE_INTEGER);
  return { key: str(o, 'key', field), kind, enis: n('enis'), ips: n('ips'), idle: n('idle'), leased: n('leased'), waiting: n('waiting'), inFlight: n('inFlight'), releasing: n('releasing'), heldForScheduled: n('heldForScheduled') };
}

/** `namespace` and `name`: a Kubernetes namespace (DNS label) and pod name (DNS subdomain). */
export function parseWhyRequest(raw: unknown): WhyRequest {
  const o = obj(raw, 'request');
  const namespace = str(o, 'namespace', '');
  const name = str(o, 'name', '');
  const nsProblem = dnsLabelProblem(namespace);
  if (nsProblem !== undefined) throw new InvalidInputError('namespace', `${nsProblem}: ${quote(namespace)}`);
  const nameProblem = dnsSubdomainProblem(name);
  if (nameProblem !== undefined) throw new InvalidInputError('name', `${nameProblem}: ${quote(name)}`);
  return { namespace, name };
}

function parseWhyReason(raw: unknown): WhyReason {
  const o = obj(raw, 'reason');
  const d = obj(o.detail, 'reason.detail');
  const detail: Record<string, string> = {};
  for (const k of Object.keys(d)) detail[k] = str(d, k, 'reason.detail.');
  return {
    kind: str(o, 'kind', 'reason.'),
    text: str(o, 'text', 'reason.'),
    since: str(o, 'since', 'reason.'),
    ...(o.retryAt !== undefined ? { retryAt: str(o, 'retryAt', 'reason.') } : {}),
    detail,
  };
}

export function parseWhyReply(raw: unknown): WhyReply {
  const o = obj(raw, 'reply');
  return {
    pod: str(o, 'pod', ''),
    known: bool(o, 'known', ''),
    waiting: bool(o, 'waiting', ''),
    ...(o.reason !== undefined ? { reason: parseWhyReason(o.reason) } : {}),
    ...(o.ip !== undefined ? { ip: str(o, 'ip', '') } : {}),
    ...(o.since !== undefined ? { since: str(o, 'since', '') } : {}),
    notes: strings(o, 'notes'),
  };
}
