/**
 * What the allocation use case asks of (and tells) the orchestrator. The service only knows these seams; the
 * Kubernetes glue implements them, and without Kubernetes they are absent (podman, tests, the demo).
 */
import type { BandwidthSpec } from '../../bandwidth/types.js';
import type { HubError } from '../../lib/errors.js';
import type { Allocation } from '../../modes/types.js';
import type { AllocateRequest } from '../../rpc/protocol.js';

export interface PodFacts {
  readonly uid: string;
  readonly hostNetwork: boolean;
  /** Keeps its IP across re-creation for a while (StatefulSet & configured kinds, or the reservation annotation). */
  readonly sticky: boolean;
  readonly bandwidth?: BandwidthSpec;
}

export interface PodFactsSource {
  /** Undefined when the pod is unknown (not in the cache and not found by the API). */
  get(namespace: string, name: string): Promise<PodFacts | undefined>;
}

export interface AllocationSucceeded {
  readonly req: AllocateRequest;
  readonly allocation: Allocation;
  readonly facts: PodFacts | undefined;
  readonly elapsedMs: number;
  /** Whether the IP came back from the pod's reservation. */
  readonly fromReservation: boolean;
}

export interface AllocationFailed {
  readonly req: AllocateRequest;
  readonly error: HubError | Error;
  readonly facts: PodFacts | undefined;
  readonly elapsedMs: number;
}

/** Told after the reply is decided; must not throw or block (work is done asynchronously). */
export interface AllocationObserver {
  succeeded(e: AllocationSucceeded): void;
  failed(e: AllocationFailed): void;
}
