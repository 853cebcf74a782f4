// Validates option specs and indexes them by long and short name.

const TYPES = ['boolean', 'string', 'number'];

/**
 * Returns { byName: Map<name, def>, byShort: Map<letter, def> } where each def
 * is the spec entry with `name` and `type` filled in.
 */
export function indexOptions(options = {}) {
  const byName = new Map();
  const byShort = new Map();
  for (const [name, entry] of Object.entries(options)) {
    const def = { ...entry, name, type: entry.type ?? 'boolean' };
    if (!TYPES.includes(def.type)) {
      throw new TypeError(`Option "${name}" has unknown type "${def.type}"`);
    }
    if (name.startsWith('no-')) {
      throw new TypeError(`Option "${name}" cannot start with "no-"; that prefix negates booleans`);
    }
    if (def.short !== undefined) {
      if (typeof def.short !== 'string' || def.short.length !== 1) {
        throw new TypeError(`Option "${name}" has a short alias that is not one letter`);
      }
      if (byShort.has(def.short)) {
        throw new TypeError(`Short alias -${def.short} is used by two options`);
      }
      byShort.set(def.short, def);
    }
    byName.set(name, def);
  }
  return { byName, byShort };
}

/** The value an option has when it does not appear on the command line. */
export function defaultValue(def) {
  if (def.default !== undefined) return def.default;
  if (def.multiple) return [];
  return def.type === 'boolean' ? false : undefined;
}
