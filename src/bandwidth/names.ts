/**
 * Names of the ifb devices the hub creates for egress shaping of veth pods (host side) and ingress shaping of
 * pods without a host veth (inside the pod netns). `hubb` + 11 hex chars of sha1(`containerId/ifName`) = 15 chars.
 * GC finds leaked host ifbs by IFB_PREFIX. Plain-TS sha1: the plugin must not import node:crypto.
 */
import type { IfName } from '../lib/brand.js';
import { sha1Hex } from '../lib/sha1.js';

export const IFB_PREFIX = 'hubb';
const HASH_CHARS = 11;

/** The ifb of an attachment; stable for (containerId, ifName), at most 15 characters. */
export function ifbName(containerId: string, ifName: string): IfName {
  return `${IFB_PREFIX}${sha1Hex(`${containerId}/${ifName}`).slice(0, HASH_CHARS)}` as IfName;
}

/** Whether a link name looks like one of ours (prefix + 11 lower-case hex). */
export function isHubIfbName(name: string): boolean {
  return name.length === IFB_PREFIX.length + HASH_CHARS && name.startsWith(IFB_PREFIX) && /^[0-9a-f]+$/u.test(name.slice(IFB_PREFIX.length));
}
