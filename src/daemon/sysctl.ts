/** The real sysctl writer: /proc/sys paths come from netlink/render.ts (sysctlPath). */
import { writeFile } from 'node:fs/promises';
import type { SysctlWriter } from '../netlink/executor.js';

export const procSysctlWriter: SysctlWriter = (path, value) => writeFile(path, value);
