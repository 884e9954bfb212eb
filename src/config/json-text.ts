/**
 * JSON.parse, plus a position for syntax errors. Node 20's messages give an offset only for some
 * errors and a line/column for none, so a small scanner finds the first error itself.
 */
export type JsonParse = { ok: true; value: unknown } | { ok: false; line: number; column: number; reason: string };

export function parseJsonText(text: string): JsonParse {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch (err) {
    const found = locateSyntaxError(body) ?? { offset: 0, reason: err instanceof Error ? err.message : String(err) };
    const before = body.slice(0, found.offset);
    const line = before.split('\n').length;
    const column = found.offset - (before.lastIndexOf('\n') + 1) + 1;
    return { ok: false, line, column, reason: found.reason };
  }
}

class Located {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

function locateSyntaxError(s: string): { offset: number; reason: string } | undefined {
  let i = 0;
  const fail = (reason: string, at = i): never => {
    throw new Located(at, reason);
  };
  const expect = (what: string): never => {
    const c = s[i];
    if (c === undefined) return fail(`unexpected end of file, expected ${what}`);
    const hint = c === '/' ? ' (JSON has no comments)' : c === "'" ? ' (JSON strings use double quotes)' : '';
    return fail(`expected ${what}, got ${JSON.stringify(c)}${hint}`);
  };
  const space = (): void => {
    while (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r') i++;
  };
  const string = (): void => {
    const start = i++;
    for (;;) {
      const c = s[i];
      if (c === undefined) fail('unterminated string', start);
      else if (c === '"') return void i++;
      else if (c === '\\') {
        const e = s[i + 1];
        if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) i += 6;
        else fail('invalid escape in string');
      } else if (c < ' ') fail(c === '\n' ? 'line break inside a string' : 'control character inside a string');
      else i++;
    }
  };
  const container = (close: '}' | ']'): void => {
    i++;
    space();
    if (s[i] === close) return void i++;
    for (;;) {
      space();
      if (close === '}') {
        if (s[i] !== '"') expect('a property name in double quotes');
        string();
        space();
        if (s[i] !== ':') expect('":"');
        i++;
      }
      value();
      space();
      if (s[i] === close) return void i++;
      if (s[i] !== ',') expect(`"," or "${close}"`);
      i++;
      space();
      if (s[i] === close) fail(`trailing comma before "${close}"`, i);
    }
  };
  const value = (): void => {
    space();
    const c = s[i];
    if (c === '{' || c === '[') return container(c === '{' ? '}' : ']');
    if (c === '"') return string();
    NUMBER.lastIndex = i;
    if (NUMBER.test(s)) return void (i = NUMBER.lastIndex);
    for (const word of ['true', 'false', 'null']) if (s.startsWith(word, i)) return void (i += word.length);
    expect('a value');
  };
  try {
    value();
    space();
    if (i < s.length) expect('end of file after the value');
  } catch (err) {
    if (err instanceof Located) return err;
    throw err;
  }
  return undefined;
}
