#!/usr/bin/env node
// Runs the TypeScript sources directly with Node's type stripping (on by default from Node 22.18 / 23.6).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  // An older `node` on PATH: hand over to the Node 24 the project pins as a dev dependency.
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(pinned)) {
    process.stderr.write(`error: bench needs Node.js >= 22.18 (found ${process.version}). Run \`npm install\` (it installs the pinned Node 24) and use \`npx bench\`.\n`);
    process.exit(2);
  }
  const child = spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}

const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
