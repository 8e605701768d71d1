/** A bad object in an OBJECTS text: names the object (`kind ns/name`, or its document index) and the field. */
import { InvalidInputError, type ConfigError } from '../../lib/errors.js';

export class PolicyObjectError extends InvalidInputError {
  constructor(
    /** `NetworkPolicy x/deny`, `Namespace x`, or `document 3` / `document 2 items[4]` when the name is unreadable. */
    readonly object: string,
    /** Field path inside the object, e.g. `spec.ingress[0].ports[1].port`; empty for the whole object. */
    readonly path: string,
    readonly reason: string,
  ) {
    super(path === '' ? object : `${object}: ${path}`, reason);
  }
}

/** A parser's ConfigError (path relative to the object, possibly prefixed `object`) as an error naming the object. */
export function objectErrorOf(object: string, e: ConfigError): PolicyObjectError {
  const path = e.path.startsWith('object') ? e.path.slice('object'.length).replace(/^\./u, '') : e.path;
  return new PolicyObjectError(object, path, e.message.slice(e.path.length + 2));
}
