/**
 * Handlebars rendering for the text formats the daemon writes. Strict mode (a missing variable is an error), no
 * HTML escaping, and a `json` helper so every value lands as a JSON literal. Templates are found next to this
 * module, so they must be copied into dist/templates/ by the build.
 */
import Handlebars from 'handlebars';
import { readFileSync } from 'node:fs';
import { ConfigError, errorMessage } from '../lib/errors.js';

const hbs = Handlebars.create();
// strict mode does not check helper arguments, so `json` refuses undefined itself (a missing variable)
hbs.registerHelper('json', (value: unknown) => {
  if (value === undefined) throw new ConfigError('template', 'json helper got an undefined value (missing variable?)');
  return JSON.stringify(value);
});

const cache = new Map<string, HandlebarsTemplateDelegate>();

export function templateUrl(name: string): URL {
  return new URL(`./${name}`, import.meta.url);
}

/** Pure: renders template text with a context. */
export function renderText(template: string, ctx: object): string {
  return hbs.compile(template, { strict: true, noEscape: true })(ctx);
}

export function renderTemplate(name: string, ctx: object): string {
  let tpl = cache.get(name);
  if (tpl === undefined) {
    let text: string;
    try {
      text = readFileSync(templateUrl(name), 'utf8');
    } catch (e) {
      throw new ConfigError(`templates/${name}`, `cannot read template: ${errorMessage(e)}`, { cause: e });
    }
    tpl = hbs.compile(text, { strict: true, noEscape: true });
    cache.set(name, tpl);
  }
  return tpl(ctx);
}

export interface ConflistContext {
  readonly cniVersion: string;
  readonly cniVersions: readonly string[];
  readonly name: string;
  readonly socket: string;
  readonly vethPrefix: string;
  readonly mtu: number;
  readonly logFile: string;
  /** The hub entry's capabilities (kubelet passes runtimeConfig only for those that are true). */
  readonly capabilities: Readonly<Record<string, boolean>>;
  /** False renders `"shaping": false`: a chained plugin shapes, the hub must not. */
  readonly shaping: boolean;
  /** The user's plugins after the hub's entry, each rendered as given (validated: src/config/cni-chain.ts). */
  readonly chain: readonly Readonly<Record<string, unknown>>[];
}

/** The node conflist; the result is checked to be valid JSON. */
export function renderConflist(ctx: ConflistContext): string {
  const text = renderTemplate('conflist.hbs', ctx);
  try {
    JSON.parse(text);
  } catch (e) {
    throw new ConfigError('templates/conflist.hbs', `rendered invalid JSON: ${errorMessage(e)}`, { cause: e });
  }
  return text;
}
