/** CNI protocol facts (spec 1.1.0): versions, error codes, per-verb version rules. Pure. */

export const SUPPORTED_VERSIONS = ['0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];
export const LATEST_VERSION: CniVersion = '1.1.0';
/** What version.ConfigDecoder assumes when a config has no cniVersion. */
export const IMPLICIT_VERSION = '0.1.0';

export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'GC', 'STATUS', 'VERSION'] as const;
export type CniCommand = (typeof COMMANDS)[number];

export function isCniCommand(raw: string): raw is CniCommand {
  return (COMMANDS as readonly string[]).includes(raw);
}

export function isSupportedVersion(raw: string): raw is CniVersion {
  return (SUPPORTED_VERSIONS as readonly string[]).includes(raw);
}

/** Spec error codes (0-99) and this plugin's own codes (100+). */
export const CniCode = {
  INCOMPATIBLE_VERSION: 1,
  UNSUPPORTED_FIELD: 2,
  UNKNOWN_CONTAINER: 3,
  INVALID_ENV: 4,
  IO_FAILURE: 5,
  DECODE: 6,
  INVALID_CONFIG: 7,
  TRY_AGAIN_LATER: 11,
  NOT_AVAILABLE: 50,
  LIMITED_CONNECTIVITY: 51,
  /** A network command failed; what was applied has been rolled back. */
  DATAPLANE_FAILED: 100,
  /** CHECK found the attachment's network not as planned. */
  CHECK_MISMATCH: 101,
  /** The daemon refused the request (conflicting lease, invalid request). */
  DAEMON_REJECTED: 102,
  /** The daemon has no record the verb needs. */
  NOT_FOUND: 103,
  /** The daemon failed internally or answered something unreadable. */
  DAEMON_FAILED: 104,
  /** GC finished with errors. */
  GC_INCOMPLETE: 105,
  /** A bug or an unexpected error inside the plugin. */
  PLUGIN_FAILED: 106,
} as const;
export type CniCodeValue = (typeof CniCode)[keyof typeof CniCode];

/** Semver-ish comparison of "a.b.c" strings; missing parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The lowest config version that allows a verb (CHECK ≥ 0.4.0, GC/STATUS ≥ 1.1.0). */
export function minimumVersionFor(cmd: CniCommand): string | undefined {
  switch (cmd) {
    case 'CHECK':
      return '0.4.0';
    case 'GC':
    case 'STATUS':
      return '1.1.0';
    case 'ADD':
    case 'DEL':
    case 'VERSION':
      return undefined;
  }
}

export function versionAllows(cmd: CniCommand, version: string): boolean {
  const min = minimumVersionFor(cmd);
  return min === undefined || compareVersions(version, min) >= 0;
}

/** Whether `ips[]` entries carry `"version":"4"` (result formats before 1.0.0). */
export function ipsCarryVersion(version: CniVersion): boolean {
  return compareVersions(version, '1.0.0') < 0;
}
