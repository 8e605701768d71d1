/** A lease: one attachment (containerId + ifName) holding one allocation. Persisted before the RPC reply. */
import type { BandwidthSpec } from '../bandwidth/types.js';
import type { Allocation } from '../modes/types.js';
import type { AttachmentKey } from '../rpc/protocol.js';

export interface Lease extends AttachmentKey {
  readonly podNamespace: string;
  readonly podName: string;
  readonly infraContainerId: string;
  readonly netns: string;
  readonly allocation: Allocation;
  /** ISO time. */
  readonly createdAt: string;
  /** The pod keeps its IP for a while after release (StatefulSet & co., or the reservation annotation). */
  readonly sticky?: boolean;
  /** Limits the plugin's CNI runtimeConfig set at ADD; live annotation updates never change these directions. */
  readonly runtimeBandwidth?: BandwidthSpec;
}

/** A released sticky lease: the IP waits for the same pod (namespace/name/ifName) until `expiresAt`. */
export interface Reservation {
  readonly podNamespace: string;
  readonly podName: string;
  readonly ifName: string;
  readonly ip: string;
  readonly allocation: Allocation;
  /** ISO times. */
  readonly releasedAt: string;
  readonly expiresAt: string;
}

export function attachmentId(k: AttachmentKey): string {
  return `${k.containerId}/${k.ifName}`;
}
