/**
 * PromQL label matchers as data. What an entity's annotations say about its
 * series (`modelops/metrics-selector`, its Kubernetes id and namespace) is
 * parsed into matchers and printed back with escaping, so that no annotation
 * text is ever pasted into a query.
 */

/**
 * One label matcher. Annotations only ever give equality matchers
 * (`parseLabelMatchers` accepts no regular expressions); `=~` is for
 * matchers the backend builds itself, from values it escapes with
 * `escapeRegex`.
 * @public
 */
export interface LabelMatcher {
  /** A Prometheus label name, e.g. `team`. */
  name: string;
  /** Equal, not equal, or (backend-built only) matches a regular expression. */
  op: '=' | '!=' | '=~';
  /** The value, unescaped (quoting happens when the selector is printed). */
  value: string;
}

/** At most this many matchers in `modelops/metrics-selector`. @public */
export const MAX_SELECTOR_MATCHERS = 8;
/** At most this many characters in one matcher value. @public */
export const MAX_LABEL_VALUE_LENGTH = 256;

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** True for a Prometheus label name a user may match on (not `__reserved__`). @public */
export function isMatchableLabelName(name: string): boolean {
  return LABEL_NAME.test(name) && !name.startsWith('__');
}

/**
 * Why `value` cannot be a matcher value, or undefined when it can: control
 * characters (newlines included) and overlong values are refused rather than
 * escaped, since no label value a server exports needs them.
 * @public
 */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > MAX_LABEL_VALUE_LENGTH)
    return `is longer than ${MAX_LABEL_VALUE_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value))
    return 'contains a control character (such as a newline)';
  return undefined;
}

/** A PromQL double-quoted string literal of `value`. @public */
export function quoteLabelValue(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * `{name="value",...}` from matchers, each value quoted. Throws on a name or
 * value that `parseLabelMatchers` would refuse: callers build matchers from
 * validated input only, so this is a programming error, never user input
 * reaching the query.
 * @public
 */
export function formatSelector(matchers: readonly LabelMatcher[]): string {
  return `{${matchers
    .map(m => {
      if (!LABEL_NAME.test(m.name))
        throw new Error(`invalid label name ${JSON.stringify(m.name)}`);
      if (m.op !== '=' && m.op !== '!=' && m.op !== '=~')
        throw new Error(`invalid matcher operator ${JSON.stringify(m.op)}`);
      const problem = labelValueProblem(m.value);
      if (problem) throw new Error(`label value ${problem}`);
      return `${m.name}${m.op}${quoteLabelValue(m.value)}`;
    })
    .join(',')}}`;
}

/** The result of `parseLabelMatchers`: matchers, or the first problem found. @public */
export type ParsedMatchers =
  | { matchers: LabelMatcher[]; error?: undefined }
  | { matchers?: undefined; error: string };

/**
 * Parses `name="value", other!="x"` (optionally inside `{}`) into matchers.
 * Strict: only `=` and `!=`, double-quoted values with `\\` and `\"` as the
 * only escapes, no control characters, no reserved (`__`) names, no metric
 * name, nothing after the last matcher. Anything else is an error naming
 * where it went wrong, never a guess.
 * @public
 */
export function parseLabelMatchers(text: string): ParsedMatchers {
  let s = text.trim();
  if (s.startsWith('{')) {
    if (!s.endsWith('}')) return { error: 'opens "{" without closing it' };
    s = s.slice(1, -1).trim();
  }
  const matchers: LabelMatcher[] = [];
  let i = 0;
  const fail = (what: string): ParsedMatchers => ({
    error: `${what} at character ${i + 1}`,
  });
  const skipSpace = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  while (i < s.length) {
    skipSpace();
    const nameStart = i;
    while (i < s.length && /[a-zA-Z0-9_]/.test(s[i]!)) i++;
    const name = s.slice(nameStart, i);
    if (!name) return fail('expected a label name');
    if (!LABEL_NAME.test(name))
      return { error: `"${name}" is not a label name` };
    if (name.startsWith('__'))
      return { error: `"${name}" is a reserved label name` };
    skipSpace();
    let op: LabelMatcher['op'];
    if (s.startsWith('!=', i)) {
      op = '!=';
      i += 2;
    } else if (s[i] === '=') {
      if (s[i + 1] === '~')
        return fail('regular-expression matchers are not accepted');
      op = '=';
      i += 1;
    } else if (s.startsWith('!~', i)) {
      return fail('regular-expression matchers are not accepted');
    } else {
      return fail(`expected = or != after "${name}"`);
    }
    skipSpace();
    if (s[i] !== '"')
      return fail(`expected a double-quoted value for "${name}"`);
    i++;
    let value = '';
    for (;;) {
      if (i >= s.length) return fail(`unterminated value for "${name}"`);
      const c = s[i]!;
      if (c === '"') {
        i++;
        break;
      }
      if (c === '\\') {
        const next = s[i + 1];
        if (next !== '\\' && next !== '"')
          return fail(`unsupported escape in the value of "${name}"`);
        value += next;
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    const problem = labelValueProblem(value);
    if (problem) return { error: `the value of "${name}" ${problem}` };
    matchers.push({ name, op, value });
    if (matchers.length > MAX_SELECTOR_MATCHERS)
      return { error: `more than ${MAX_SELECTOR_MATCHERS} matchers` };
    skipSpace();
    if (i >= s.length) break;
    if (s[i] !== ',') return fail('expected "," between matchers');
    i++;
    skipSpace();
    if (i >= s.length) break; // a trailing comma, as PromQL allows
  }
  if (!matchers.length) return { error: 'has no matchers' };
  return { matchers };
}

/**
 * `literal` as an RE2 regular expression that matches exactly it: every
 * metacharacter escaped, for `=~` matchers built from names.
 * @public
 */
export function escapeRegex(literal: string): string {
  return literal.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}
