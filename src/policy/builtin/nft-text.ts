/** Small nftables text helpers shared by the builtin compiler: comments, set declarations, port elements. Pure. */

/** nft keeps at most 128 bytes of comment; names are DNS labels, so ASCII without quotes. */
export const COMMENT_MAX = 128;

export function comment(text: string): string {
  const clean = text.replace(/["\\\n]/gu, '');
  return `comment "${clean.length > COMMENT_MAX ? `${clean.slice(0, COMMENT_MAX - 3)}...` : clean}"`;
}

export interface SetDecl {
  readonly name: string;
  readonly type: string;
  readonly interval: boolean;
  readonly elements: readonly string[];
}

export function renderSet(s: SetDecl): string {
  const flags = s.interval ? ' flags interval;' : '';
  const elements = s.elements.length === 0 ? '' : ` elements = { ${s.elements.join(', ')} };`;
  return `\tset ${s.name} { type ${s.type};${flags}${elements} }`;
}

export interface Chain {
  readonly name: string;
  /** `type filter hook forward priority filter - 1; policy accept;` for base chains. */
  readonly hook: string | undefined;
  readonly rules: readonly string[];
}

export function renderChain(c: Chain): string {
  const head = c.hook === undefined ? [] : [`\t\t${c.hook}`];
  return [`\tchain ${c.name} {`, ...head, ...c.rules.map((r) => `\t\t${r}`), '\t}'].join('\n');
}

export const protoName = (p: 'TCP' | 'UDP' | 'SCTP'): string => p.toLowerCase();

/**
 * Named sets, content-addressed: a set with the same type, flags and elements as one already declared is not
 * declared again; the first name is reused (namespaceSelector peers and common port lists repeat across policies).
 */
export class SetPool {
  private readonly byContent = new Map<string, string>();
  readonly sets: SetDecl[] = [];

  intern(decl: SetDecl): string {
    const key = `${decl.type}|${String(decl.interval)}|${decl.elements.join(',')}`;
    const known = this.byContent.get(key);
    if (known !== undefined) return known;
    this.byContent.set(key, decl.name);
    this.sets.push(decl);
    return decl.name;
  }
}
