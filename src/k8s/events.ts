/** Pure: core/v1 Event bodies for KubeEvents, and a small LRU that turns rapid repeats into count bumps. */
import { randomBytes } from 'node:crypto';
import type { KubeEvent } from './types.js';

export const EVENT_COMPONENT = 'terway-hub';

export interface EventBody {
  readonly apiVersion: 'v1';
  readonly kind: 'Event';
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly involvedObject: {
    readonly apiVersion: 'v1';
    readonly kind: string;
    readonly name: string;
    readonly uid: string;
    readonly namespace?: string;
  };
  readonly reason: string;
  readonly message: string;
  readonly type: string;
  readonly source: { readonly component: string; readonly host?: string };
  readonly reportingComponent: string;
  readonly reportingInstance: string;
  readonly firstTimestamp: Date;
  readonly lastTimestamp: Date;
  readonly count: number;
}

/** Events go to the target's namespace; a Node's (cluster-scoped) go to "default". */
export function eventNamespace(event: KubeEvent): string {
  return event.target.kind === 'Node' || event.target.namespace === '' ? 'default' : event.target.namespace;
}

export function buildEvent(event: KubeEvent, now: Date, host: string | undefined): EventBody {
  const { target } = event;
  const name = `${target.name}.${now.getTime().toString(16)}${randomBytes(4).toString('hex')}`;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: eventNamespace(event) },
    involvedObject: {
      apiVersion: 'v1',
      kind: target.kind,
      name: target.name,
      uid: target.uid,
      ...(target.kind === 'Pod' ? { namespace: target.namespace } : {}),
    },
    reason: event.reason,
    message: event.message,
    type: event.type,
    source: { component: EVENT_COMPONENT, ...(host !== undefined ? { host } : {}) },
    reportingComponent: EVENT_COMPONENT,
    reportingInstance: host ?? EVENT_COMPONENT,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}

export interface SeenEvent {
  readonly namespace: string;
  readonly name: string;
  count: number;
  at: number;
}

/** Remembers recently created events by (target, type, reason, message) for `windowMs`. */
export class EventDeduper {
  private readonly seen = new Map<string, SeenEvent>();

  constructor(
    private readonly windowMs: number,
    private readonly capacity = 256,
  ) {}

  static keyOf(event: KubeEvent): string {
    const t = event.target;
    return JSON.stringify([t.kind, t.namespace, t.name, t.uid, event.type, event.reason, event.message]);
  }

  /** A recent identical event to bump, if any (and refreshes its LRU position). */
  recent(key: string, nowMs: number): SeenEvent | undefined {
    const hit = this.seen.get(key);
    if (hit === undefined) return undefined;
    this.seen.delete(key);
    if (nowMs - hit.at > this.windowMs) return undefined;
    this.seen.set(key, hit);
    return hit;
  }

  remember(key: string, seen: SeenEvent): void {
    this.seen.delete(key);
    this.seen.set(key, seen);
    while (this.seen.size > this.capacity) {
      const oldest = this.seen.keys().next();
      if (oldest.done === true) break;
      this.seen.delete(oldest.value);
    }
  }

  forget(key: string): void {
    this.seen.delete(key);
  }
}
