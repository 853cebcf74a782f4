/**
 * Finds where sections and keys sit in a TOML file, so errors can name file:line.
 * This does not parse TOML (smol-toml does); it only maps `[section]` + `key` to a line.
 */
export type KeyLocator = {
  section(name: string): number | undefined;
  key(section: string, key: string): number | undefined;
};

export function locateKeys(text: string): KeyLocator {
  const sections = new Map<string, number>();
  const keys = new Map<string, number>();
  let current = '';
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    const header = /^\[\s*([^\]\[]+?)\s*\]/.exec(line);
    if (header) {
      current = unquote(header[1]!);
      if (!sections.has(current)) sections.set(current, index + 1);
      return;
    }
    const assignment = /^("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=/.exec(line);
    if (assignment) {
      const dotted = unquote(assignment[1]!).split('.');
      const key = dotted.pop()!;
      const section = [current, ...dotted].filter(Boolean).join('.');
      if (!keys.has(`${section}\u0000${key}`)) keys.set(`${section}\u0000${key}`, index + 1);
      if (dotted.length && !sections.has(section)) sections.set(section, index + 1);
    }
  });
  return {
    section: (name) => sections.get(name),
    key: (section, key) => keys.get(`${section}\u0000${key}`) ?? sections.get(section),
  };
}

function unquote(name: string): string {
  return name
    .split('.')
    .map((part) => part.trim().replace(/^["'](.*)["']$/, '$1'))
    .join('.');
}
