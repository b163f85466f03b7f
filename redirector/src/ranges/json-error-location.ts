/**
 * Where a JSON text first goes wrong, as a line and column.
 *
 * V8's JSON.parse messages only sometimes carry a position ("... in JSON at position 39") and sometimes quote a
 * snippet instead ("Unexpected token '}', ...\"efixes\": [}..."), so an operator told "the AWS file is invalid" has
 * to go looking. This scanner re-reads the text (only after JSON.parse has failed) and finds the first offset at
 * which it stops being RFC 8259 JSON.
 */

export interface JsonErrorLocation {
  /** 1-based */
  line: number;
  /** 1-based, in UTF-16 code units */
  column: number;
  /** the text ended while a value was still open (typically a truncated download) */
  atEnd: boolean;
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;

/** Returns null when `text` is valid JSON (or too deeply nested to scan). */
export function jsonErrorLocation(text: string): JsonErrorLocation | null {
  let i = 0;
  const n = text.length;
  const fail = (at: number): never => {
    throw at;
  };
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(word.startsWith(text.slice(i)) ? n : i); // "nul" at the end is a cut-off "null"
  };
  const string = (): void => {
    i++; // the opening quote
    for (;;) {
      if (i >= n) fail(n);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail(i);
      if (c === 0x5c) {
        i++;
        if (i >= n) fail(n);
        const e = text[i]!;
        if ('"\\/bfnrt'.includes(e)) i++;
        else if (e === 'u') {
          HEX4.lastIndex = i + 1;
          if (!HEX4.test(text)) fail(i + 4 >= n ? n : i);
          i += 5;
        } else fail(i);
        continue;
      }
      i++;
    }
  };
  const value = (): void => {
    ws();
    if (i >= n) fail(n);
    const c = text[i]!;
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (i >= n) fail(n);
        if (text[i] !== '"') fail(i);
        string();
        ws();
        if (i >= n) fail(n);
        if (text[i] !== ':') fail(i);
        i++;
        value();
        ws();
        if (i >= n) fail(n);
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return;
        } else fail(i);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (i >= n) fail(n);
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return;
        } else fail(i);
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    NUMBER.lastIndex = i;
    if (!NUMBER.test(text)) fail(i);
    i = NUMBER.lastIndex;
  };
  try {
    value();
    ws();
    if (i < n) fail(i);
    return null;
  } catch (at) {
    if (typeof at !== 'number') return null; // a stack overflow on absurd nesting: no location
    const before = text.slice(0, at);
    const line = before.split('\n').length;
    return { line, column: at - before.lastIndexOf('\n'), atEnd: at >= n };
  }
}
