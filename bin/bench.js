#!/usr/bin/env node
// Runs the TypeScript sources directly with Node's type stripping (on by default from Node 22.18 / 23.6).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  // An older `node` on PATH: hand over to the Node 24 the project pins as a dev dependency.
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(pinned)) {
    process.stderr.write(`error: bench needs Node.js >= 22.18 (found ${process.version}). Run \`npm install\` (it installs the pinned Node 24) and use \`npx bench\`.\n`);
    process.exit(2);
  }
  process.exitCode = await handOver(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)]);
} else {
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}

/**
 * Runs the pinned Node as a child and stands in for it. The child gets a process group of its
 * own, so a terminal's Ctrl-C (sent to the whole foreground group) reaches it once, through this
 * wrapper, exactly like a `kill` aimed at the wrapper; it is never orphaned, the wrapper waits
 * for it and exits as it did.
 */
function handOver(node, args) {
  return new Promise((resolve) => {
    const child = spawn(node, args, { stdio: 'inherit', detached: true });
    const forward = (signal) => child.kill(signal);
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const signal of signals) process.on(signal, forward);
    child.on('error', (error) => {
      process.stderr.write(`error: could not start ${node}: ${error.message}\n`);
      resolve(2);
    });
    child.on('exit', (code, signal) => {
      for (const s of signals) process.off(s, forward);
      // A child ended by a signal exits the shell's way: 128 + the signal's number.
      resolve(code ?? 128 + (constants.signals[signal] ?? 0));
    });
  });
}
