import jsonc from 'jsonc-parser';

/**
 * The config file is JSON with comments and trailing commas (JSONC), read by jsonc-parser, the
 * parser behind VS Code's settings files. Every syntax error is reported at once with its line and
 * column, and a parsed file can tell where each value was written, so a schema problem can point
 * at its line too.
 */
export interface Position {
  line: number;
  column: number;
}
export interface SyntaxProblem extends Position {
  reason: string;
}
export type JsonParse =
  | { ok: true; value: unknown; positionOf(path: readonly PropertyKey[]): Position | undefined }
  | { ok: false; problems: SyntaxProblem[] };

const OPTIONS = { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false };

/** Words for jsonc-parser's error codes, as a user fixing the file needs them. */
const REASONS: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'malformed number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: 'expected ":"',
  CommaExpected: 'expected ","',
  CloseBraceExpected: 'expected "}"',
  CloseBracketExpected: 'expected "]"',
  EndOfFileExpected: 'expected end of file after the value',
  InvalidCommentToken: 'malformed comment',
  UnexpectedEndOfComment: 'unterminated comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'malformed number',
  InvalidUnicode: 'invalid \\u escape in string',
  InvalidEscapeCharacter: 'invalid escape in string',
  InvalidCharacter: 'line break or control character inside a string',
};

export function parseJsonText(text: string): JsonParse {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const errors: jsonc.ParseError[] = [];
  const tree = jsonc.parseTree(body, errors, OPTIONS);
  const at = lineStarts(body);
  if (errors.length > 0 || tree === undefined) {
    const list = errors.length > 0 ? errors : [{ error: jsonc.ParseErrorCode.ValueExpected, offset: 0, length: 0 }];
    // One error leads the parser into more on the same line; the first one there is the one to fix.
    const problems: SyntaxProblem[] = [];
    for (const e of list) {
      const p = { ...position(at, e.offset), reason: reason(body, e) };
      if (problems.at(-1)?.line !== p.line) problems.push(p);
    }
    return { ok: false, problems };
  }
  return {
    ok: true,
    value: jsonc.getNodeValue(tree),
    positionOf(path) {
      // A missing field is reported where the object that lacks it starts.
      for (let n = path.length; n >= 0; n--) {
        const node = jsonc.findNodeAtLocation(tree, path.slice(0, n) as (string | number)[]);
        if (!node) continue;
        const key = node.parent?.type === 'property' ? node.parent : node;
        return position(at, key.offset);
      }
      return undefined;
    },
  };
}

function reason(body: string, e: jsonc.ParseError): string {
  const text = REASONS[jsonc.printParseErrorCode(e.error)] ?? jsonc.printParseErrorCode(e.error);
  const c = body[e.offset];
  if (c === undefined) return `unexpected end of file, ${text}`;
  if (c === "'") return `${text}, got "'" (strings use double quotes)`;
  const bare = [jsonc.ParseErrorCode.InvalidCharacter, jsonc.ParseErrorCode.InvalidEscapeCharacter, jsonc.ParseErrorCode.UnexpectedEndOfString];
  if (bare.includes(e.error)) return text;
  return `${text}, got ${JSON.stringify(body.slice(e.offset, e.offset + Math.max(1, Math.min(e.length, 12))))}`;
}

function lineStarts(s: string): number[] {
  const starts = [0];
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function position(starts: number[], offset: number): Position {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo]! + 1 };
}
