/**
 * Secrets of the Aliyun provider (access key id and secret, STS token) never reach a log line, an event, a metric or
 * an error message: every text that leaves this folder and may quote the cloud (an error's message, a log field)
 * goes through `redact` first. The set grows as RAM-role credentials rotate.
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  /** Registers secrets (empty and very short strings are ignored: they would mangle ordinary text). */
  add(...values: readonly (string | undefined)[]): void {
    for (const v of values) if (v !== undefined && v.length >= 6) this.secrets.add(v);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) {
      // also the percent-encoded forms a string-to-sign or URL carries
      for (const form of new Set([s, encodeURIComponent(s), encodeURIComponent(encodeURIComponent(s))])) out = out.split(form).join('***');
    }
    return out;
  }
}
