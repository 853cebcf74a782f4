/** At most `size` holders at once; the others wait in order. `acquire` resolves to the release. */
export class Slots {
  readonly size: number;
  #held = 0;
  #waiting: (() => void)[] = [];

  constructor(size: number) {
    if (!(size >= 1)) throw new RangeError(`Slots needs a size of at least 1, got ${size}`);
    this.size = size;
  }

  async acquire(): Promise<() => void> {
    if (this.#held >= this.size) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#held++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      // The slot passes straight to the next in line, so `held` stays the same.
      if (next) next();
      else this.#held--;
    };
  }
}
