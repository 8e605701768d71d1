/** A bad object in an OBJECTS text: names the object (`kind ns/name`, or its document index) and the field. */
import { InvalidInputError } from '../../lib/errors.js';

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
