import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonErrorLocation } from './json-error-location.js';

describe('jsonErrorLocation', () => {
  it.each([
    ['{}', null],
    [' [1, -2.5e+3, "a\\n\\u00e9", true, false, null, {"k": {}}, []] ', null],
    ['{\n  "syncToken": "1",\n  "prefixes": [}\n}', { line: 3, column: 16, atEnd: false }],
    ['{"a":1,}', { line: 1, column: 8, atEnd: false }],
    ['{"a" 1}', { line: 1, column: 6, atEnd: false }],
    ['{"a":1 "b":2}', { line: 1, column: 8, atEnd: false }],
    ['[1 2]', { line: 1, column: 4, atEnd: false }],
    ['{1:2}', { line: 1, column: 2, atEnd: false }],
    ['[01]', { line: 1, column: 3, atEnd: false }],
    ['[+1]', { line: 1, column: 2, atEnd: false }],
    ['["a\tb"]', { line: 1, column: 4, atEnd: false }],
    ['["\\x"]', { line: 1, column: 4, atEnd: false }],
    ['["\\u12G4"]', { line: 1, column: 4, atEnd: false }],
    ['[tru]', { line: 1, column: 2, atEnd: false }],
    ['{} x', { line: 1, column: 4, atEnd: false }],
    ['', { line: 1, column: 1, atEnd: true }],
    ['{"values": [{"name": "Az', { line: 1, column: 25, atEnd: true }],
    ['{"a":', { line: 1, column: 6, atEnd: true }],
    ['{"a"', { line: 1, column: 5, atEnd: true }],
    ['{"a":1', { line: 1, column: 7, atEnd: true }],
    ['{', { line: 1, column: 2, atEnd: true }],
    ['[1,', { line: 1, column: 4, atEnd: true }],
    ['[1', { line: 1, column: 3, atEnd: true }],
    ['["\\', { line: 1, column: 4, atEnd: true }],
    ['["\\u12', { line: 1, column: 7, atEnd: true }],
    ['nul', { line: 1, column: 4, atEnd: true }],
  ])('%j', (text, location) => {
    expect(jsonErrorLocation(text)).toEqual(location);
  });

  it('agrees with JSON.parse on validity', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.json(),
          fc.string({ maxLength: 20 }),
          fc.json().map((j) => j.slice(0, Math.max(0, j.length - 1))),
        ),
        (text) => {
          let valid = true;
          try {
            JSON.parse(text);
          } catch {
            valid = false;
          }
          expect(jsonErrorLocation(text) === null).toBe(valid);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('gives up without a location on absurd nesting', () => {
    expect(jsonErrorLocation('['.repeat(200_000))).toBeNull();
  });
});
