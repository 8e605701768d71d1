/** Whether a path exists (any access error counts as "no"). */
import { access } from 'node:fs/promises';

export function pathExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
