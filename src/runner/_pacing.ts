import type { ResolvedLlmConfig } from '../config/index.ts';
import { resolveEndpoint, type Pacer } from '../llm/index.ts';
import { sha256 } from '../tasks/index.ts';

/** Hands each LLM config the pacer its client waits on; configs on one provider account share its pauses. */
export interface Pacing {
  pacerFor(config: ResolvedLlmConfig, env?: NodeJS.ProcessEnv): Pacer;
}

/** How long every config of an account holds back after a 429 that named no Retry-After. */
export const SHARED_PAUSE_MS = 1000;

/** A provider account, named without its key: provider, endpoint and the key's hash. */
export function accountOf(config: ResolvedLlmConfig, env: NodeJS.ProcessEnv = process.env): string {
  const endpoint = resolveEndpoint(config, env);
  return sha256(`${endpoint.provider}\u0000${endpoint.baseUrl}\u0000${endpoint.apiKey ?? ''}`).slice(0, 24);
}

/**
 * A config's calls in flight, adapting to rate limits: a 429 cuts the limit (x0.8, at least 1)
 * and five successes in a row bring it back one step, up to the config's max_concurrency.
 */
export class AdaptiveLimit {
  readonly max: number;
  concurrency: number;
  private successes = 0;

  constructor(max: number) {
    this.max = Math.max(1, max);
    this.concurrency = this.max;
  }

  rateLimited(): void {
    this.successes = 0;
    this.concurrency = Math.max(1, Math.floor(this.concurrency * 0.8));
  }

  succeeded(): void {
    if (this.concurrency >= this.max) return;
    if (++this.successes >= 5) {
      this.successes = 0;
      this.concurrency = Math.min(this.max, this.concurrency + 1);
    }
  }
}

type Account = { pausedUntil: number };
type Slots = { limit: AdaptiveLimit; inFlight: number; waiting: (() => void)[]; account: Account };

/**
 * Pacing inside one process: each config keeps to its max_concurrency in calls (not episodes),
 * and a 429 on an account pauses every config that uses the same provider and key.
 */
export class LocalPacing implements Pacing {
  private readonly accounts = new Map<string, Account>();
  private readonly slots = new Map<string, Slots>();

  pacerFor(config: ResolvedLlmConfig, env: NodeJS.ProcessEnv = process.env): Pacer {
    const accountKey = accountOf(config, env);
    const key = `${accountKey}\u0000${config.name}`;
    let slots = this.slots.get(key);
    if (!slots) {
      let account = this.accounts.get(accountKey);
      if (!account) this.accounts.set(accountKey, (account = { pausedUntil: 0 }));
      this.slots.set(key, (slots = { limit: new AdaptiveLimit(config.settings.max_concurrency ?? 4), inFlight: 0, waiting: [], account }));
    }
    const own = slots;
    return { acquire: (signal) => this.acquire(own, signal) };
  }

  /** The adaptive limit of one config, for inspection. */
  limitOf(config: ResolvedLlmConfig, env: NodeJS.ProcessEnv = process.env): AdaptiveLimit | undefined {
    return this.slots.get(`${accountOf(config, env)}\u0000${config.name}`)?.limit;
  }

  private async acquire(slots: Slots, signal?: AbortSignal): Promise<(ended: { rateLimited: boolean; retryAfterMs?: number }) => void> {
    for (;;) {
      signal?.throwIfAborted();
      const pause = slots.account.pausedUntil - Date.now();
      if (pause > 0) await until(signal, (resolve) => {
        const timer = setTimeout(resolve, pause);
        return () => clearTimeout(timer);
      });
      else if (slots.inFlight < slots.limit.concurrency) break;
      else await until(signal, (resolve) => {
        slots.waiting.push(resolve);
      });
    }
    slots.inFlight++;
    let done = false;
    return (ended) => {
      if (done) return;
      done = true;
      slots.inFlight--;
      if (ended.rateLimited) {
        slots.limit.rateLimited();
        slots.account.pausedUntil = Math.max(slots.account.pausedUntil, Date.now() + (ended.retryAfterMs ?? SHARED_PAUSE_MS));
      } else slots.limit.succeeded();
      for (const wake of slots.waiting.splice(0)) wake();
    };
  }
}

/** Waits for `start` to call its resolve, or for the signal: an account's pause or a full limit never outlasts a stop. */
function until(signal: AbortSignal | undefined, start: (resolve: () => void) => (() => void) | void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let cancel: (() => void) | void;
    const onAbort = () => {
      cancel?.();
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    cancel = start(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    if (signal?.aborted) onAbort();
  });
}
