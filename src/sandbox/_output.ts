/**
 * Collects a process's output within a byte budget: everything while it fits,
 * then the first half of the budget and the latest second half.
 */
export class OutputCapture {
  readonly limit: number;
  #headLimit: number;
  #tailLimit: number;
  #head: Buffer[] = [];
  #headBytes = 0;
  #tail: Buffer[] = [];
  #tailBytes = 0;
  total = 0;

  constructor(limit: number) {
    this.limit = limit;
    this.#headLimit = Math.floor(limit / 2);
    this.#tailLimit = limit - this.#headLimit;
  }

  get limited(): boolean {
    return this.total > this.limit;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    let rest = chunk;
    if (this.#headBytes < this.#headLimit) {
      const take = Math.min(rest.length, this.#headLimit - this.#headBytes);
      this.#head.push(rest.subarray(0, take));
      this.#headBytes += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0) return;
    this.#tail.push(rest);
    this.#tailBytes += rest.length;
    // Drop whole chunks that lie entirely before the last tailLimit bytes.
    while (this.#tail.length > 1 && this.#tailBytes - this.#tail[0]!.length >= this.#tailLimit) {
      this.#tailBytes -= this.#tail.shift()!.length;
    }
  }

  text(): string {
    const head = Buffer.concat(this.#head);
    const tail = Buffer.concat(this.#tail);
    if (!this.limited) return Buffer.concat([head, tail]).toString('utf8');
    const kept = tail.subarray(Math.max(0, tail.length - this.#tailLimit));
    const omitted = this.total - head.length - kept.length;
    return `${head.toString('utf8')}\n[... ${omitted} bytes of output omitted ...]\n${kept.toString('utf8')}`;
  }
}
