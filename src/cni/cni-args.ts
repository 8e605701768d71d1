/** CNI_ARGS ("K1=V1;K2=V2") like Go's types.LoadArgs: unknown keys are rejected unless IgnoreUnknown is true. Pure. */
import { isIpv4, type IpAddr } from '../lib/brand.js';
import { quote } from '../lib/text.js';
import { podIdentityProblem } from '../lib/validate/names.js';
import { CniError } from './errors.js';
import { CniCode } from './spec.js';

export interface CniArgs {
  /** Empty strings when the runtime passed no Kubernetes identity. */
  readonly podNamespace: string;
  readonly podName: string;
  readonly infraContainerId: string;
  /** `IP=a.b.c.d[/len]` (podman `run --ip`, and the IP its `network reload` re-ADDs): the address asked for. */
  readonly ip?: IpAddr;
}

export const EMPTY_CNI_ARGS: CniArgs = { podNamespace: '', podName: '', infraContainerId: '' };

const KNOWN = new Set(['IgnoreUnknown', 'K8S_POD_NAMESPACE', 'K8S_POD_NAME', 'K8S_POD_INFRA_CONTAINER_ID', 'K8S_POD_UID', 'IP']);

/** `IP=` as the static IPAM plugin and podman write it: one IPv4 address, optionally with a prefix length. */
function parseRequestedIp(raw: string): IpAddr {
  const [ip = '', len, ...rest] = raw.split('/');
  const lenOk = len === undefined || (/^\d{1,2}$/u.test(len) && Number(len) <= 32);
  if (!isIpv4(ip) || !lenOk || rest.length > 0) throw bad(`IP: not an IPv4 address (optionally with /prefix): ${quote(raw)}`);
  return ip;
}

function bad(problem: string): CniError {
  return new CniError(CniCode.INVALID_ENV, 'invalid CNI_ARGS', problem);
}

/** Go's UnmarshallableBool: 1/true/0/false, case-insensitive. */
function parseBool(key: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  throw bad(`${key}: boolean value expected, got ${quote(value)}`);
}

export function parseCniArgs(raw: string | undefined): CniArgs {
  if (raw === undefined || raw === '') return EMPTY_CNI_ARGS;
  const pairs = new Map<string, string>();
  for (const pair of raw.split(';')) {
    if (pair === '') continue;
    const kv = pair.split('=');
    if (kv.length !== 2 || kv[0] === '') throw bad(`invalid pair ${quote(pair)}`);
    pairs.set(kv[0] ?? '', kv[1] ?? '');
  }
  const ignore = pairs.has('IgnoreUnknown') && parseBool('IgnoreUnknown', pairs.get('IgnoreUnknown') ?? '');
  const unknown = [...pairs.keys()].filter((k) => !KNOWN.has(k));
  if (unknown.length > 0 && !ignore) throw bad(`unknown args ${quote(unknown, 256)}`);
  const namespace = pairs.get('K8S_POD_NAMESPACE') ?? '';
  const name = pairs.get('K8S_POD_NAME') ?? '';
  // A Kubernetes identity needs both. podman passes K8S_POD_NAME=<container name> without a namespace: container
  // names repeat across stores and after renames, so such an attachment has no pod identity and everything keyed
  // on the pod (host veth name, per-pod serialisation, stickiness) falls back to the container id.
  const kube = namespace !== '' && name !== '';
  const args = {
    podNamespace: kube ? namespace : '',
    podName: kube ? name : '',
    infraContainerId: pairs.get('K8S_POD_INFRA_CONTAINER_ID') ?? '',
  };
  const ipRaw = pairs.get('IP');
  const problem = podIdentityProblem(args.podNamespace, args.podName, args.infraContainerId);
  if (problem !== undefined) throw bad(`${problem}: ${quote([args.podNamespace, args.podName, args.infraContainerId], 256)}`);
  return ipRaw === undefined || ipRaw === '' ? args : { ...args, ip: parseRequestedIp(ipRaw) };
}
