import { SaxesParser } from 'saxes';

/** A JUnit report as elements and attributes (entities decoded; text, comments and CDATA dropped). */
export type XmlElement = {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
};

export type JunitReport = {
  /** The one report the log holds, when it holds one. */
  report?: XmlElement;
  /** A report was begun (well-formed or not). */
  found: boolean;
  tamperReason?: string;
};

const REPORT_START = /<testsuites?(?=[\s/>])/g;
// A log flooded with report openings is read no further than this.
const MAX_STARTS = 200;
const DONE = Symbol('report closed');

/**
 * The JUnit report in a test log, read by saxes (strict XML: comments and CDATA are never
 * elements). Exactly one report may be there. A second complete report, a `<testsuites>` inside
 * the report, a report that begins inside an opening that never closes, or a report that is not
 * well-formed cannot be believed and comes back with a `tamperReason`: a runner's reporter writes
 * one well-formed document, so anything else was written by something else.
 */
export function locateJunitReport(log: string): JunitReport {
  const reports: XmlElement[] = [];
  const unfinished: { at: number; error: string }[] = [];
  let from = 0;
  for (let starts = 0; starts < MAX_STARTS; starts++) {
    REPORT_START.lastIndex = from;
    const start = REPORT_START.exec(log);
    if (!start) break;
    const read = readElement(log, start.index);
    if (read.element) {
      reports.push(read.element);
      from = read.end;
    } else {
      if (reports.length === 0) unfinished.push({ at: start.index, error: read.error });
      from = start.index + 1;
    }
  }
  if (reports.length === 0) {
    return unfinished.length === 0 ? { found: false } : { found: true, tamperReason: `the JUnit report is not well-formed XML (${unfinished[0]!.error})` };
  }
  const report = reports.at(-1)!;
  if (reports.length > 1) return { report, found: true, tamperReason: `the log holds ${reports.length} JUnit reports; a runner writes one` };
  if (unfinished.length > 0) return { report, found: true, tamperReason: 'the JUnit report begins inside another report opening that never closes' };
  if (holdsReport(report)) return { report, found: true, tamperReason: 'the JUnit report holds another <testsuites> report inside it' };
  return { report, found: true };
}

function holdsReport(element: XmlElement): boolean {
  return element.children.some((child) => child.name === 'testsuites' || holdsReport(child));
}

/** The element that opens at `start`, read to its close; an error when it is malformed or never closes. */
function readElement(text: string, start: number): { element: XmlElement; end: number } | { element?: undefined; error: string } {
  const parser = new SaxesParser({ position: true });
  const open: XmlElement[] = [];
  let root: XmlElement | undefined;
  let end = -1;
  parser.on('opentag', (tag) => {
    const element: XmlElement = { name: tag.name, attributes: { ...(tag.attributes as Record<string, string>) }, children: [] };
    const parent = open.at(-1);
    if (parent) parent.children.push(element);
    else root = element;
    open.push(element);
  });
  parser.on('closetag', () => {
    open.pop();
    if (open.length === 0) {
      end = start + parser.position;
      throw DONE;
    }
  });
  parser.on('error', (error) => {
    throw error;
  });
  try {
    parser.write(text.slice(start)).close();
  } catch (error) {
    if (error === DONE && root) return { element: root, end };
    return { error: error instanceof Error ? error.message.split('\n')[0]! : String(error) };
  }
  return { error: 'it never closes' };
}
