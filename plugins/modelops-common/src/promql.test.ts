import {
  escapeRegex,
  formatSelector,
  parseLabelMatchers,
  quoteLabelValue,
} from './promql';

describe('parseLabelMatchers', () => {
  it('reads equality and inequality matchers, with or without braces', () => {
    const expected = [
      { name: 'app', op: '=', value: 'fraud' },
      { name: 'team', op: '!=', value: 'x, y' },
    ];
    expect(parseLabelMatchers('app="fraud", team!="x, y"')).toEqual({
      matchers: expected,
    });
    expect(parseLabelMatchers(' { app = "fraud",team!="x, y", } ')).toEqual({
      matchers: expected,
    });
  });

  it('reads the two escapes PromQL strings have for quotes and backslashes', () => {
    expect(parseLabelMatchers('path="C:\\\\m \\"q\\""')).toEqual({
      matchers: [{ name: 'path', op: '=', value: 'C:\\m "q"' }],
    });
  });

  it.each([
    ['', 'has no matchers'],
    ['{}', 'has no matchers'],
    ['app=~"fraud.*"', 'regular-expression matchers are not accepted'],
    ['app!~"x"', 'regular-expression matchers are not accepted'],
    ['app="a"} or vector(1) {x="y"', 'expected "," between matchers'],
    ['{app="a"} or {x="y"}', 'expected "," between matchers'],
    ['app="a" or app="b"', 'expected "," between matchers'],
    ['up{app="a"}', 'expected = or != after "up"'],
    ['app=a', 'expected a double-quoted value for "app"'],
    ["app='a'", 'expected a double-quoted value for "app"'],
    ['app="a', 'unterminated value for "app"'],
    ['app="a\\nb"', 'unsupported escape in the value of "app"'],
    ['app="a\nb"', 'the value of "app" contains a control character'],
    ['__name__="up"', '"__name__" is a reserved label name'],
    ['9app="x"', '"9app" is not a label name'],
    [`app="${'v'.repeat(257)}"`, 'is longer than 256 characters'],
    [
      Array.from({ length: 9 }, (_, i) => `l${i}="v"`).join(','),
      'more than 8 matchers',
    ],
  ])('refuses %j', (text, message) => {
    const parsed = parseLabelMatchers(text);
    expect(parsed.error).toContain(message);
    expect(parsed.matchers).toBeUndefined();
  });

  it('accepts a trailing comma, as PromQL does', () => {
    expect(parseLabelMatchers('app="x",').matchers).toEqual([
      { name: 'app', op: '=', value: 'x' },
    ]);
  });
});

describe('formatSelector', () => {
  it('prints matchers with every value quoted and escaped', () => {
    expect(
      formatSelector([
        { name: 'backstage_io_kubernetes_id', op: '=', value: 'fraud' },
        { name: 'team', op: '!=', value: 'a"} or up{b="' },
      ]),
    ).toBe('{backstage_io_kubernetes_id="fraud",team!="a\\"} or up{b=\\""}');
  });

  it('round-trips through the parser', () => {
    const matchers = [
      { name: 'a', op: '=' as const, value: 'x\\"y' },
      { name: 'b', op: '!=' as const, value: '' },
    ];
    expect(parseLabelMatchers(formatSelector(matchers))).toEqual({ matchers });
  });

  it('refuses a name, operator or value it cannot print safely', () => {
    expect(() =>
      formatSelector([{ name: 'a b', op: '=', value: 'x' }]),
    ).toThrow('invalid label name');
    expect(() =>
      formatSelector([{ name: 'a', op: '!~' as any, value: 'x' }]),
    ).toThrow('invalid matcher operator');
    expect(() =>
      formatSelector([{ name: 'a', op: '=', value: 'x\ny' }]),
    ).toThrow('control character');
  });

  it('quotes a value as a PromQL string', () => {
    expect(quoteLabelValue('a\\b"c')).toBe('"a\\\\b\\"c"');
  });
});

describe('escapeRegex', () => {
  it('makes a name match only itself, and prints as a PromQL string', () => {
    const pattern = `${escapeRegex('fraud.v2-7d9f')}-[a-z0-9]+`;
    const re = new RegExp(`^(?:${pattern})$`);
    expect(re.test('fraud.v2-7d9f-abcde')).toBe(true);
    expect(re.test('fraudxv2-7d9f-abcde')).toBe(false);
    expect(escapeRegex('a|b(c)*')).toBe('a\\|b\\(c\\)\\*');
    expect(formatSelector([{ name: 'pod', op: '=~', value: pattern }])).toBe(
      '{pod=~"fraud\\\\.v2-7d9f-[a-z0-9]+"}',
    );
  });

  it('is never what an annotation gives: the parser still refuses =~', () => {
    expect(parseLabelMatchers('pod=~"x.*"')).toEqual({
      error: expect.stringContaining(
        'regular-expression matchers are not accepted',
      ),
    });
  });
});
