/**
 * Just enough XML to read JUnit reports out of a test log: elements and attributes, entities
 * decoded, text ignored. Tolerant of a truncated document (open elements close at the end).
 */
export type XmlElement = {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
};

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function decodeXmlEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#')) {
      const code = entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
      return Number.isFinite(code) && code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[entity] ?? whole;
  });
}

/**
 * The report a JUnit reporter printed: the last `<testsuites>` document in the log, or, for
 * tools that print a bare `<testsuite>`, the last top-level one. Reporters write the document
 * after the tests ran, so XML a test printed earlier is passed over.
 */
export function locateJunitReport(log: string): XmlElement | undefined {
  const suitesAt = lastMatchIndex(log, /<testsuites(?=[\s/>])/g);
  if (suitesAt !== undefined) return readElements(log, suitesAt, true)[0];
  const firstSuite = log.search(/<testsuite(?=[\s/>])/);
  if (firstSuite < 0) return undefined;
  const suites = readElements(log, firstSuite, false).filter((element) => element.name === 'testsuite');
  return suites.at(-1);
}

function lastMatchIndex(text: string, pattern: RegExp): number | undefined {
  let last: number | undefined;
  for (const match of text.matchAll(pattern)) last = match.index;
  return last;
}

const TAG = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
const ATTRIBUTE = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/**
 * Reads elements from `from` on. With `single`, stops when the first element closes; otherwise
 * reads every top-level element to the end of the text. Anything that is not a tag is skipped.
 */
function readElements(text: string, from: number, single: boolean): XmlElement[] {
  const roots: XmlElement[] = [];
  const open: XmlElement[] = [];
  let at = from;
  while (at < text.length) {
    const lt = text.indexOf('<', at);
    if (lt < 0) break;
    if (text.startsWith('<!--', lt)) {
      at = skipPast(text, lt, '-->');
      continue;
    }
    if (text.startsWith('<![CDATA[', lt)) {
      at = skipPast(text, lt, ']]>');
      continue;
    }
    if (text.startsWith('<?', lt)) {
      at = skipPast(text, lt, '?>');
      continue;
    }
    if (text.startsWith('<!', lt)) {
      at = skipPast(text, lt, '>');
      continue;
    }
    TAG.lastIndex = lt;
    const tag = TAG.exec(text);
    if (!tag) {
      at = lt + 1; // a stray `<` in text
      continue;
    }
    at = TAG.lastIndex;
    const [, closing, name, attributeText, selfClosing] = tag;
    if (closing) {
      const depth = open.map((element) => element.name).lastIndexOf(name!);
      if (depth < 0) continue;
      open.length = depth;
      if (single && depth === 0) return roots;
      continue;
    }
    const element: XmlElement = { name: name!, attributes: readAttributes(attributeText ?? ''), children: [] };
    const parent = open.at(-1);
    if (parent) parent.children.push(element);
    else roots.push(element);
    if (selfClosing) {
      if (single && !parent) return roots;
    } else {
      open.push(element);
    }
  }
  return roots;
}

function skipPast(text: string, from: number, terminator: string): number {
  const end = text.indexOf(terminator, from);
  return end < 0 ? text.length : end + terminator.length;
}

function readAttributes(text: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const match of text.matchAll(ATTRIBUTE)) {
    attributes[match[1]!] = decodeXmlEntities(match[2] ?? match[3] ?? '');
  }
  return attributes;
}
