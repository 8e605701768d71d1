/** Reads the daemon config file (YAML or JSON; YAML is a superset) and applies command-line overrides. */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { ConfigError, errorMessage } from '../lib/errors.js';
import { parseDaemonConfig, type DaemonConfig } from './daemon-config.js';

/** Top-level fields a flag may override (flags win over the file). */
export type ConfigOverrides = Readonly<Record<string, unknown>>;

export function decodeConfigText(text: string, source: string): unknown {
  try {
    return parseYaml(text) as unknown;
  } catch (e) {
    throw new ConfigError(source, `cannot parse: ${errorMessage(e)}`, { cause: e });
  }
}

export function mergeOverrides(base: unknown, overrides: ConfigOverrides): unknown {
  const b = typeof base === 'object' && base !== null && !Array.isArray(base) ? (base as Record<string, unknown>) : {};
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return { ...b, ...defined };
}

/** `path` undefined → defaults plus overrides only. */
export async function loadDaemonConfig(path: string | undefined, overrides: ConfigOverrides = {}): Promise<DaemonConfig> {
  let raw: unknown = {};
  if (path !== undefined) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw new ConfigError(path, `cannot read: ${errorMessage(e)}`, { cause: e });
    }
    raw = decodeConfigText(text, path) ?? {};
  }
  return parseDaemonConfig(mergeOverrides(raw, overrides));
}
