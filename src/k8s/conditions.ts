/** Pure: the node condition to write, keeping lastTransitionTime when the status did not change. */
import { timestamp } from './map.js';
import type { NodeCondition } from './types.js';

export interface NodeConditionRecord extends NodeCondition {
  readonly lastHeartbeatTime: string;
  readonly lastTransitionTime: string;
}

export function nextCondition(existing: unknown, condition: NodeCondition, now: Date): NodeConditionRecord {
  const at = timestamp(now) ?? now.toISOString();
  const prev = Array.isArray(existing) ? (existing as readonly unknown[]).find((c) => fieldOf(c, 'type') === condition.type) : undefined;
  const keep = prev !== undefined && fieldOf(prev, 'status') === condition.status ? timestamp(fieldOf(prev, 'lastTransitionTime')) : undefined;
  return {
    type: condition.type,
    status: condition.status,
    reason: condition.reason,
    message: condition.message,
    lastHeartbeatTime: at,
    lastTransitionTime: keep ?? at,
  };
}

/** Strategic merge patch of nodes/{name}/status: conditions merge by `type`, other conditions stay untouched. */
export function conditionPatch(record: NodeConditionRecord): { status: { conditions: NodeConditionRecord[] } } {
  return { status: { conditions: [record] } };
}

function fieldOf(v: unknown, key: string): unknown {
  return typeof v === 'object' && v !== null ? (v as Readonly<Record<string, unknown>>)[key] : undefined;
}
