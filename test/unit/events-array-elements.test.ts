// arrayElementSpans finds each element of a JSON array in its text, so a refused element's dead letter keeps
// the bytes it came as: held to JSON.parse by a property test over random values written with random spacing.
import { isDeepStrictEqual } from 'node:util';
import test from 'ava';
import fc from 'fast-check';
import { arrayElementSpans } from '../../shared/events/array-elements.ts';

const elements = (text: string): string[] => {
  const spans = arrayElementSpans(text);
  const out: string[] = [];
  for (let i = 0; i < spans.length; i += 2) out.push(text.slice(spans[i], spans[i + 1]));
  return out;
};

test('elements are cut from their first character to their last, whatever the spacing around them', (t) => {
  t.deepEqual(elements('[]'), []);
  t.deepEqual(elements(' \r\n[ \t\n]\n'), []);
  t.deepEqual(elements('[1]'), ['1']);
  t.deepEqual(elements('[ 1e400 ,-0.0,\ttrue\n,null , "x" ]'), ['1e400', '-0.0', 'true', 'null', '"x"']);
  t.deepEqual(elements('[{"a": [1, {"b": []}] , "c" : {}},[[ ]], {}]'), [
    '{"a": [1, {"b": []}] , "c" : {}}',
    '[[ ]]',
    '{}',
  ]);
});

test('brackets, commas and escaped quotes inside strings are not structure', (t) => {
  const text = String.raw`["a,]}", "[{\"", "\\", "\\\"],", {"k\"]": "v\\"}, "\u0022]"]`;
  t.deepEqual(elements(text), [
    String.raw`"a,]}"`,
    String.raw`"[{\""`,
    String.raw`"\\"`,
    String.raw`"\\\"],"`,
    String.raw`{"k\"]": "v\\"}`,
    String.raw`"\u0022]"`,
  ]);
});

test('a 100,000-level element is walked without recursion', (t) => {
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  t.deepEqual(elements(`[1, ${deep} ,{"x":${deep}}]`), ['1', deep, `{"x":${deep}}`]);
});

test('text that is not a closed array throws rather than giving spans', (t) => {
  t.throws(() => arrayElementSpans('{"a":1}'), { instanceOf: TypeError });
  t.throws(() => arrayElementSpans('[1, "open'), { instanceOf: TypeError });
  t.throws(() => arrayElementSpans('[1, [2]'), { instanceOf: TypeError });
});

/** JSON text of `value` with whitespace from `spaces` (taken in turn) wherever JSON allows it. */
function spaced(value: unknown, spaces: readonly string[]): string {
  let next = 0;
  const ws = () => spaces[next++ % spaces.length] ?? '';
  const write = (v: unknown): string => {
    if (Array.isArray(v)) {
      if (v.length === 0) return `[${ws()}]`;
      return `[${v.map((e) => ws() + write(e) + ws()).join(',')}]`;
    }
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v);
      if (entries.length === 0) return `{${ws()}}`;
      return `{${entries.map(([k, e]) => `${ws()}${JSON.stringify(k)}${ws()}:${ws()}${write(e)}${ws()}`).join(',')}}`;
    }
    return JSON.stringify(v);
  };
  return write(value);
}

const spacing = fc.array(fc.constantFrom('', ' ', '\n', '\t', '\r\n  ', '   '), {
  minLength: 1,
  maxLength: 8,
});
const trickyString = fc.string({
  unit: fc.constantFrom('"', '\\', '[', ']', '{', '}', ',', ':', ' ', 'a', 'é', '😀', '\n', '\u2028'),
  maxLength: 12,
});
const values = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 2 }),
    trickyString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(trickyString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

test('property: the element texts are the elements as written and parse to JSON.parse of the whole', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.array(values, { maxLength: 8 }), spacing, spacing, (array, inner, outer) => {
        const texts = array.map((v) => spaced(v, inner));
        let next = 0;
        const ws = () => outer[next++ % outer.length] ?? '';
        const text = `${ws()}[${ws()}${texts.map((e) => e + ws()).join(`,${ws()}`)}]${ws()}`;
        const found = elements(text);
        const whole = JSON.parse(text) as unknown[];
        return (
          found.length === whole.length &&
          found.every((e, i) => e === texts[i]) &&
          found.every((e, i) => isDeepStrictEqual(JSON.parse(e), whole[i]))
        );
      }),
      { numRuns: 500 },
    ),
  );
});
