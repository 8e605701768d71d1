/**
 * Field readers for messages parsed at a boundary (RPC messages, stored allocations): each names the offending field
 * (`${field}${key}`) in an InvalidInputError. One copy, shared by src/rpc/messages.ts and src/modes/allocation.ts.
 * Pure; the plugin loads it.
 */
import { InvalidInputError } from '../errors.js';

export type Obj = Readonly<Record<string, unknown>>;

export function obj(raw: unknown, field: string): Obj {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidInputError(field, 'must be an object');
  return raw as Obj;
}

export function str(o: Obj, key: string, field: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new InvalidInputError(`${field}${key}`, 'must be a string');
  return v;
}

export function bool(o: Obj, key: string, field: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw new InvalidInputError(`${field}${key}`, 'must be a boolean');
  return v;
}

export function arr(o: Obj, key: string, field: string): readonly unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new InvalidInputError(`${field}${key}`, 'must be an array');
  return v as readonly unknown[];
}

export function int(o: Obj, key: string, field: string, min: number, max: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidInputError(`${field}${key}`, `must be an integer in [${String(min)}, ${String(max)}]`);
  }
  return v;
}
