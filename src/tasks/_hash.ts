import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export { canonicalJson, sha256 } from '../hash.ts';

/** A stable hash of a folder's files (names and contents), ignoring VCS folders. */
export function hashTree(dir: string): string {
  const hash = createHash('sha256');
  const walk = (relative: string) => {
    for (const entry of readdirSync(join(dir, relative), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name === '.git' || entry.name === 'node_modules' || entry.name === '__pycache__') continue;
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) hash.update(`${path}\u0000`).update(readFileSync(join(dir, path))).update('\u0000');
    }
  };
  walk('');
  return hash.digest('hex');
}
