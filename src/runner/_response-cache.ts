import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Completion, ResponseCache } from '../llm/index.ts';
import { writeFileAtomic } from './_files.ts';

/** `--cache`: model responses kept on disk by request hash, so a re-run pays only for new requests. */
export function diskCache(dir: string): ResponseCache {
  const path = (key: string) => join(dir, key.slice(0, 2), `${key}.json`);
  return {
    get(key) {
      const file = path(key);
      return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Completion) : undefined;
    },
    set(key, completion) {
      writeFileAtomic(path(key), JSON.stringify({ ...completion, raw: null }));
    },
  };
}

/** A seeded shuffle (mulberry32 + Fisher-Yates), so `--shuffle --seed N` is repeatable. */
export function shuffled<T>(items: T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
