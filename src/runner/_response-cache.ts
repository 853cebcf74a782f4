import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Completion, ResponseCache } from '../llm/index.ts';
import { writeFileAtomic } from '../results/index.ts';

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
