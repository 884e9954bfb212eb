import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** One test case in one run's report. */
export interface CaseResult {
  /** Stable across runs: suites, class and name, e.g. `test_login.TestLogin::test_token` or `api > retries`. */
  id: string;
  outcome: 'passed' | 'failed' | 'skipped';
  /** The failure's one-line message, when it failed. */
  message?: string;
}

type Node = Record<string, unknown>;

const ARRAYS = new Set(['testsuite', 'testcase', 'failure', 'error', 'skipped']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  // Every element that may repeat comes back as a list, so one test reads like many.
  isArray: (name) => ARRAYS.has(name),
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  // pytest writes newlines inside messages as &#10;, which only the HTML entity set decodes.
  htmlEntities: true,
});

/** The first non-empty line, trimmed and bounded: a message is a headline, not a stack trace. */
function headline(text: string): string {
  const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== '') ?? '';
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

function str(x: unknown): string {
  return typeof x === 'string' ? x : typeof x === 'number' ? String(x) : '';
}

function list(x: unknown): Node[] {
  return Array.isArray(x) ? x.filter((e): e is Node => typeof e === 'object' && e !== null) : [];
}

/** A `<failure>` written as `<failure/>` comes back as '' rather than an object. */
function problems(tc: Node, tag: string): Node[] | null {
  const v = tc[tag];
  if (!Array.isArray(v) || v.length === 0) return null;
  return v.map((e) => (typeof e === 'object' && e !== null ? (e as Node) : { '#text': str(e) }));
}

function caseId(suites: string[], tc: Node): string {
  const name = str(tc['@name']);
  let cls = str(tc['@classname']);
  // node --test writes classname="test" on every case; vitest repeats the file (a suite name);
  // jest-junit by default writes the same text as classname and name.
  if (cls === 'test' || cls === name || suites.includes(cls)) cls = '';
  const head = cls === '' ? name : `${cls}::${name}`;
  return [...suites, head].join(' > ');
}

function walk(node: Node, suites: string[], out: CaseResult[]): void {
  for (const tc of list(node.testcase)) {
    const id = caseId(suites, tc);
    const bad = problems(tc, 'failure') ?? problems(tc, 'error');
    if (bad) {
      const first = bad[0]!;
      const message = headline(str(first['@message'])) || headline(str(first['#text'])) || headline(str(tc['@failure']));
      out.push({ id, outcome: 'failed', ...(message ? { message } : {}) });
    } else if (problems(tc, 'skipped')) {
      out.push({ id, outcome: 'skipped' });
    } else {
      out.push({ id, outcome: 'passed' });
    }
  }
  for (const s of list(node.testsuite)) {
    const name = str(s['@name']);
    // pytest names its only suite "pytest": a name for the tool, not for the tests.
    const top = suites.length === 0 && name === 'pytest';
    walk(s, top || name === '' ? suites : [...suites, name], out);
  }
}

export class JunitError extends Error {}

/**
 * The test cases of one JUnit XML report (pytest --junitxml, node --test-reporter=junit, vitest
 * and jest-junit all write this shape: <testsuites> or a single <testsuite>, nested suites, and
 * <testcase> with <failure>, <error> or <skipped>). Throws JunitError on text that is not XML,
 * such as a report cut short by a run that was killed while writing it.
 */
export function parseJunit(xml: string): CaseResult[] {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new JunitError(`not valid XML: ${valid.err.msg} (line ${valid.err.line})`);
  const doc = parser.parse(xml) as Node;
  const out: CaseResult[] = [];
  const root = doc.testsuites;
  if (root !== undefined) {
    walk(typeof root === 'object' && root !== null ? (root as Node) : {}, [], out);
  } else if (doc.testsuite !== undefined) {
    walk({ testsuite: doc.testsuite }, [], out);
  } else {
    throw new JunitError('no <testsuites> or <testsuite> element');
  }
  return out;
}
