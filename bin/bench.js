#!/usr/bin/env node
// Runs the TypeScript sources directly with Node's type stripping (on by default from Node 22.18 / 23.6).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import module from 'node:module';
import { constants, homedir } from 'node:os';
import { join } from 'node:path';
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
  enableCompileCache();
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

/**
 * Node's module compile cache: each source file's type-stripped, compiled code is kept on disk, so
 * a command starts in a fraction of the time (the TypeScript is not stripped and compiled again).
 * Kept in node_modules/.cache of this install, which only its owner writes, else (an install the
 * user cannot write) in ~/.cache/bench; `NODE_COMPILE_CACHE` (Node's own variable) picks another
 * place, `NODE_DISABLE_COMPILE_CACHE=1` turns it off. A directory that cannot be written is
 * reported by Node as a status, never an error: the command runs without a cache, only slower.
 */
function enableCompileCache() {
  if (!module.enableCompileCache || process.env.NODE_DISABLE_COMPILE_CACHE) return;
  const places = process.env.NODE_COMPILE_CACHE
    ? [process.env.NODE_COMPILE_CACHE]
    : [fileURLToPath(new URL('../node_modules/.cache/bench-compile', import.meta.url)), join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'bench', 'compile')];
  for (const place of places) {
    try {
      if (module.enableCompileCache(place).status !== module.constants.compileCacheStatus.FAILED) return;
    } catch {
      // Without a cache, only slower.
    }
  }
}
