/** A small bounded memory of recently released addresses (oldest first), so a freed IP is not reused at once. */
export const DEFAULT_COOL_DOWN = 16;

export class CoolDown {
  readonly #limit: number;
  #order: string[] = [];

  constructor(limit = DEFAULT_COOL_DOWN) {
    this.#limit = Math.max(0, limit);
  }

  /** Records a release; the address moves to the newest end. */
  released(ip: string): void {
    this.#order = this.#order.filter((x) => x !== ip);
    this.#order.push(ip);
    while (this.#order.length > this.#limit) this.#order.shift();
  }

  /** Forgets an address (it was handed out again). */
  taken(ip: string): void {
    this.#order = this.#order.filter((x) => x !== ip);
  }

  list(): readonly string[] {
    return [...this.#order];
  }
}
