/**
 * A promise made once and shared by every caller; forgotten when it rejects, so the next call asks again (a fact
 * that never changes, such as an instance's zone or id, whose first lookup may fail). Arguments of later calls are
 * not used while a promise is shared.
 */
export function onceUntilFailure<A extends unknown[], T>(make: (...args: A) => Promise<T>): (...args: A) => Promise<T> {
  let shared: Promise<T> | undefined;
  return (...args) => {
    shared ??= make(...args).catch((e: unknown) => {
      shared = undefined;
      throw e;
    });
    return shared;
  };
}
