/**
 * Run progress on stderr only, so `--json` on stdout stays clean: a live line on a TTY, and a
 * plain line every 30 s and at 25/50/75% otherwise (CI logs, pipes).
 */
export class Progress {
  private done = 0;
  private resolved = 0;
  private errors = 0;
  private dollars = 0;
  private unknownCost = false;
  private readonly perConfig = new Map<string, { done: number; resolved: number }>();
  private readonly started = Date.now();
  private readonly milestones = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private workers: { workers: number; inFlight: number } | undefined;
  private readonly retrying = new Set<string>();
  private readonly total: number;
  private readonly stream: NodeJS.WriteStream;
  private readonly live: boolean;

  constructor(total: number, options: { stream?: NodeJS.WriteStream; quiet?: boolean } = {}) {
    this.total = total;
    this.stream = options.stream ?? process.stderr;
    this.live = !options.quiet && Boolean(this.stream.isTTY) && !process.env.CI;
    if (!options.quiet && !this.live) {
      this.timer = setInterval(() => this.plain(), 30_000);
      this.timer.unref();
    }
    if (options.quiet) this.milestones.add(25).add(50).add(75);
  }

  record(configName: string, outcome: string, cost: number | null): void {
    this.done++;
    if (outcome === 'resolved') this.resolved++;
    if (outcome === 'infra_error' || outcome === 'model_error') this.errors++;
    if (cost === null) this.unknownCost = true;
    else this.dollars += cost;
    const entry = this.perConfig.get(configName) ?? { done: 0, resolved: 0 };
    entry.done++;
    if (outcome === 'resolved') entry.resolved++;
    this.perConfig.set(configName, entry);
    if (this.live) this.draw();
    else this.milestone();
  }

  /** Workers and attempts in flight, shown when attempts run on more than this process. */
  fleet(status: { workers: number; inFlight: number }): void {
    const changed = this.workers?.workers !== status.workers || this.workers?.inFlight !== status.inFlight;
    this.workers = status;
    if (changed && this.live) this.draw();
  }

  /**
   * Retry trouble, one line when a config starts retrying (`gpt3: HTTP 429 ..., retry 3/8 in 30 s`)
   * and one when its calls get through again; retries in between stay off the screen.
   */
  tried(configName: string, ok: boolean, message: string | undefined, retry?: { n: number; of: number; waitMs: number }): void {
    if (retry && !this.retrying.has(configName)) {
      this.retrying.add(configName);
      this.note(`${configName}: ${(message ?? 'provider error').slice(0, 160)}, retry ${retry.n}/${retry.of} in ${formatSeconds(retry.waitMs / 1000)}`);
    } else if (ok && this.retrying.delete(configName)) {
      this.note(`${configName}: calls get through again`);
    }
  }

  /** A line that stays (a config retrying, recovering or stopped), printed above the live bar. */
  note(text: string): void {
    if (this.live) this.stream.write('\r\x1b[2K');
    this.stream.write(`${text}\n`);
    if (this.live) this.draw();
  }

  finish(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.live) this.stream.write('\r\x1b[2K');
  }

  line(): string {
    const elapsed = (Date.now() - this.started) / 1000;
    const eta = this.done > 0 ? ((this.total - this.done) * elapsed) / this.done : NaN;
    const cost = `$${this.dollars.toFixed(4)}${this.unknownCost ? '+unknown' : ''}`;
    const configs = [...this.perConfig].map(([name, c]) => `${name} ${c.resolved}/${c.done}`).join(', ');
    const fleet = this.workers ? ` | ${this.workers.workers} worker${this.workers.workers === 1 ? '' : 's'}, ${this.workers.inFlight} in flight` : '';
    return `[${this.done}/${this.total}] resolved ${this.resolved}, errors ${this.errors}, ${cost}, ETA ${Number.isFinite(eta) ? formatSeconds(eta) : '?'}${fleet}${configs ? ` | ${configs}` : ''}`;
  }

  private draw(): void {
    const width = this.stream.columns ?? 100;
    const fraction = this.total ? this.done / this.total : 1;
    const barWidth = 20;
    const filled = Math.round(fraction * barWidth);
    const text = `${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)} ${this.line()}`;
    this.stream.write(`\r\x1b[2K${text.slice(0, width - 1)}`);
  }

  private milestone(): void {
    const percent = this.total ? Math.floor((this.done / this.total) * 100) : 100;
    for (const mark of [25, 50, 75]) {
      if (percent >= mark && !this.milestones.has(mark)) {
        this.milestones.add(mark);
        this.plain();
      }
    }
  }

  private plain(): void {
    this.stream.write(`${this.line()}\n`);
  }
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}
