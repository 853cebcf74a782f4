#!/usr/bin/env node
// Runs the TypeScript sources directly with Node's type stripping (Node >= 22.12 with it on by default from 23.6).
import { main } from '../src/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
