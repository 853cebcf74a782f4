// Turns an argv array into option values and positionals, driven by a spec.

import { ArgError } from './errors.js';
import { defaultValue, indexOptions } from './spec.js';

const NEGATIVE_NUMBER = /^-\d+(\.\d+)?$/;

/**
 * Parse `argv` (without the node and script paths) against `spec`.
 * Returns { options, positionals }.
 */
export function parseArgs(argv, spec = {}) {
  if (!Array.isArray(argv)) {
    throw new TypeError('parseArgs() expects an array of arguments');
  }
  const index = indexOptions(spec.options);
  const options = {};
  for (const def of index.byName.values()) {
    options[def.name] = defaultValue(def);
  }
  const positionals = [];

  const assign = (def, raw, shown) => {
    const value = coerce(def, raw, shown);
    if (def.multiple) options[def.name].push(value);
    else options[def.name] = value;
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];

    if (arg === '--') {
      positionals.push(...argv.slice(i));
      break;
    }

    if (arg.startsWith('--')) {
      const body = arg.slice(2);
      const eq = body.indexOf('=');
      const name = eq === -1 ? body : body.slice(0, eq);
      const inline = eq === -1 ? undefined : body.slice(eq + 1);
      const def = index.byName.get(name);

      if (!def && name.startsWith('no-')) {
        const target = index.byName.get(name.slice(2));
        if (target && target.type === 'boolean' && inline === undefined) {
          options[target.name] = false;
          continue;
        }
      }
      if (!def) throw new ArgError(`Unknown option --${name}`, name);

      if (def.type === 'boolean') {
        if (inline !== undefined) {
          throw new ArgError(`Option --${name} does not take a value`, name);
        }
        assign(def, true, `--${name}`);
        continue;
      }
      if (inline !== undefined) {
        assign(def, inline, `--${name}`);
        continue;
      }
      if (i + 1 >= argv.length) {
        throw new ArgError(`Option --${name} needs a value`, name);
      }
      assign(def, argv[++i], `--${name}`);
      continue;
    }

    if (arg.startsWith('-') && arg.length > 1 && !NEGATIVE_NUMBER.test(arg)) {
      for (const letter of arg.slice(1)) {
        const def = index.byShort.get(letter);
        if (!def) throw new ArgError(`Unknown option -${letter}`, letter);
        if (def.type === 'boolean') {
          assign(def, true, `-${letter}`);
          continue;
        }
        if (i + 1 >= argv.length) {
          throw new ArgError(`Option -${letter} needs a value`, def.name);
        }
        assign(def, argv[++i], `-${letter}`);
      }
      continue;
    }

    positionals.push(arg);
  }

  return { options, positionals };
}

function coerce(def, raw, shown) {
  if (def.type === 'boolean') return raw;
  if (def.type === 'number') {
    const value = Number(raw);
    if (raw.trim() === '' || Number.isNaN(value)) {
      throw new ArgError(`Option ${shown} expects a number, got "${raw}"`, def.name);
    }
    return value;
  }
  return raw;
}
