// Parsing, printing and ordering of single versions (SemVer 2.0.0).

const VERSION =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?$/;

const RELEASES = ['major', 'minor', 'patch', 'prerelease'];

export function parse(text) {
  if (typeof text === 'object' && text !== null && 'major' in text) return text;
  if (typeof text !== 'string') return null;
  const match = VERSION.exec(text.trim());
  if (!match) return null;
  return {
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: Number(match[3]),
    prerelease: match[4] ? match[4].split('.').map(toIdentifier) : [],
    build: [],
  };
}

function toIdentifier(part) {
  return /^\d+$/.test(part) ? Number(part) : part;
}

export function format(version) {
  let text = `${version.major}.${version.minor}.${version.patch}`;
  if (version.prerelease.length > 0) text += `-${version.prerelease.join('.')}`;
  return text;
}

export function valid(text) {
  const version = parse(text);
  return version ? format(version) : null;
}

function required(text) {
  const version = parse(text);
  if (!version) throw new TypeError(`Invalid version: ${JSON.stringify(text)}`);
  return version;
}

export function compare(a, b) {
  const left = required(a);
  const right = required(b);
  return (
    compareNumbers(left.major, right.major) ||
    compareNumbers(left.minor, right.minor) ||
    compareNumbers(left.patch, right.patch) ||
    comparePrerelease(left.prerelease, right.prerelease)
  );
}

function compareNumbers(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparePrerelease(a, b) {
  // A version without prerelease identifiers ranks above one with them.
  if (a.length === 0 || b.length === 0) return compareNumbers(b.length, a.length);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i >= a.length) return -1;
    if (i >= b.length) return 1;
    const order = compareIdentifiers(a[i], b[i]);
    if (order !== 0) return order;
  }
  return 0;
}

function compareIdentifiers(a, b) {
  const left = String(a);
  const right = String(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

export const gt = (a, b) => compare(a, b) > 0;
export const lt = (a, b) => compare(a, b) < 0;
export const eq = (a, b) => compare(a, b) === 0;

export function sort(list) {
  return [...list].sort(compare);
}

export function rsort(list) {
  return [...list].sort((a, b) => compare(b, a));
}

export function inc(text, release, identifier) {
  const v = required(text);
  if (!RELEASES.includes(release)) {
    throw new TypeError(`Unknown release type "${release}"; expected one of ${RELEASES.join(', ')}`);
  }
  const pre = v.prerelease.length > 0;
  switch (release) {
    case 'major':
      return pre && v.minor === 0 && v.patch === 0 ? `${v.major}.0.0` : `${v.major + 1}.0.0`;
    case 'minor':
      return pre && v.patch === 0 ? `${v.major}.${v.minor}.0` : `${v.major}.${v.minor + 1}.0`;
    case 'patch':
      return pre ? `${v.major}.${v.minor}.${v.patch}` : `${v.major}.${v.minor}.${v.patch + 1}`;
    default:
      return incPrerelease(v, identifier);
  }
}

function incPrerelease(v, identifier) {
  if (v.prerelease.length === 0) {
    const id = identifier ?? 'pre';
    return `${v.major}.${v.minor}.${v.patch + 1}-${id}.0`;
  }
  const parts = [...v.prerelease];
  const last = parts.length - 1;
  if (identifier !== undefined && parts[0] !== identifier) {
    return format({ ...v, prerelease: [identifier, 0] });
  }
  if (typeof parts[last] === 'number') parts[last] += 1;
  else parts.push(0);
  return format({ ...v, prerelease: parts });
}
