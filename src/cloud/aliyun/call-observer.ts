/** The timing hook of the Aliyun clients (ECS OpenAPI, metadata service): how the daemon's latency metrics see them. */
/**
 * Told after every attempt of an ECS OpenAPI call (`service: openapi`, `api`: the action) or of a metadata service
 * request (`metadata`, `api`: the path), with its wall time: the daemon's latency metrics (src/main wires it; this
 * folder never imports prom-client). Must not throw; errors it throws are ignored.
 */
export interface CloudCall {
  readonly service: 'openapi' | 'metadata';
  readonly api: string;
  readonly error: boolean;
  readonly ms: number;
}

export type CloudCallObserver = (call: CloudCall) => void;

/** Calls the observer, never letting it fail the call it observes. */
export function observeCloudCall(o: CloudCallObserver | undefined, service: 'openapi' | 'metadata', api: string, error: boolean, startedMs: number): void {
  if (o === undefined) return;
  try {
    o({ service, api, error, ms: performance.now() - startedMs });
  } catch {
    // metrics are never worth a failed cloud call
  }
}
