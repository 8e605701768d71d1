/** The advertised devices (pure): `eni-0..N-1`, all Healthy. */
import { HEALTHY, type Device, type PreferredAllocationRequest, type PreferredAllocationResponse } from './api.js';

export function eniDevices(capacity: number): readonly Device[] {
  return Array.from({ length: capacity }, (_, i) => ({ ID: `eni-${String(i)}`, health: HEALTHY }));
}

/** Must-include first, then the available ones in order, up to the requested size. */
export function preferredAllocation(req: PreferredAllocationRequest): PreferredAllocationResponse {
  return {
    container_responses: req.container_requests.map((c) => {
      const ids = [...new Set([...c.must_include_deviceIDs, ...c.available_deviceIDs])];
      return { deviceIDs: ids.slice(0, Math.max(c.allocation_size, c.must_include_deviceIDs.length)) };
    }),
  };
}
